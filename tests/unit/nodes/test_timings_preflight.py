"""Phase timings against budgets (p95 past 70% warns), and the pre-flight report before a full cycle."""

from __future__ import annotations

import pytest

from guardrail.core.audit import EventKind
from guardrail.core.nodes.actions import CycleEvent
from guardrail.core.nodes.history import PoolHistory, StratumHistory
from guardrail.core.nodes.planner import plan_cycle
from guardrail.core.nodes.preflight import driver_version, preflight
from guardrail.core.nodes.records import NodeProgress, NodeStatus
from guardrail.core.nodes.settings import Phase
from guardrail.core.nodes.state import CycleState
from guardrail.core.nodes.strata import stratum_of
from guardrail.core.nodes.timings import new_warnings, p95, stratum_timings
from tests.unit.nodes.helpers import T0, node, settings


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([5.0], 5.0),
        ([1.0, 2.0], 2.0),  # ceil(0.95 x 2) = 2nd smallest
        ([float(i) for i in range(1, 21)], 19.0),  # ceil(0.95 x 20) = 19th smallest
        ([float(i) for i in range(1, 22)], 20.0),  # ceil(0.95 x 21) = 20th smallest
        ([9.0, 1.0, 5.0], 9.0),
    ],
)
def test_p95_is_the_nearest_rank_percentile(samples: list[float], expected: float) -> None:
    assert p95(samples) == expected


def test_p95_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        p95([])


def _done(name: str, durations: dict[str, float], stratum: int = 0) -> NodeProgress:
    return NodeProgress(name, stratum, 8, T0, T0, NodeStatus.DONE, Phase.UNCORDON, name, durations=durations)


def _state_with(progress: list[NodeProgress]) -> CycleState:
    nodes = [node(f"n{i}") for i in range(25)]
    return plan_cycle("gpu", nodes, settings(), T0).with_progress(progress)


def _phase_event(name: str, phase: str) -> CycleEvent:
    return CycleEvent(EventKind.NODE_PHASE, {"node": name, "phase": phase})


def test_a_phase_whose_p95_passes_70_percent_of_its_budget_warns_once() -> None:
    # drain budget 300 s: the warning line is 210 s. 19 quick drains and one of 250 s: p95 (19th of 20) is quick.
    quick = [_done(f"n{i}", {"drain": 60.0}) for i in range(19)]
    state = _state_with([*quick, _done("n19", {"drain": 250.0})])
    state, warnings = new_warnings(state, [_phase_event("n19", "drain")])
    assert warnings == []
    (drain,) = stratum_timings(state, 0, ["drain"])
    assert (drain.count, drain.median, drain.p95, drain.longest, drain.budget) == (20, 60.0, 60.0, 250.0, 300.0)
    assert not drain.warning

    state = state.with_progress([_done("n20", {"drain": 211.0})])  # two slow of 21: p95 is the 20th, 211 s
    state, warnings = new_warnings(state, [_phase_event("n20", "drain")])
    assert [w.payload["span"] for w in warnings] == ["drain"]
    assert warnings[0].payload["p95"] == 211.0
    assert warnings[0].payload["share"] == pytest.approx(211 / 300)
    assert state.warned == frozenset({"0/drain"})
    state = state.with_progress([_done("n21", {"drain": 280.0})])
    _, again = new_warnings(state, [_phase_event("n21", "drain")])
    assert again == []  # given once


def test_exactly_70_percent_does_not_warn() -> None:
    state = _state_with([_done("n0", {"drain": 210.0})])
    assert new_warnings(state, [_phase_event("n0", "drain")])[1] == []


def test_register_and_ready_are_judged_together_against_the_boot_budget() -> None:
    state = _state_with([_done("n0", {"register": 500.0, "ready": 140.0})])  # 640 s of 900: 71%
    state, warnings = new_warnings(state, [_phase_event("n0", "ready")])
    assert [(w.payload["span"], w.payload["p95"]) for w in warnings] == [("boot", 640.0)]
    spans = [t.span for t in stratum_timings(state, 0)]
    assert spans == ["boot"]


def test_preflight_reports_inconsistencies_inside_a_stratum() -> None:
    nodes = [node(f"n{i}", labels={"nvidia.com/cuda.driver-version.full": "550.90.07"}) for i in range(5)]
    nodes[1] = node("n1", kubelet="v1.28.9", labels={"nvidia.com/cuda.driver-version.full": "550.90.07"})
    nodes[2] = node("n2", labels={"nvidia.com/cuda.driver-version.full": "535.161.08"})
    nodes[3] = node("n3", gpus=7, labels={"nvidia.com/cuda.driver-version.full": "550.90.07"})
    nodes[4] = node("n4", cordoned=True, labels={"nvidia.com/cuda.driver-version.full": "550.90.07"})
    state = plan_cycle("gpu", nodes, settings(capacity_floor=0.5), T0)
    findings = {f.check: f for f in preflight(state, {n.name: n for n in nodes}, PoolHistory())}
    assert findings["kubelet"].message == (
        "kubelet differs inside the stratum: most have v1.29.7; 1 node(s) v1.28.9 (n1)"
    )
    assert findings["driver"].message.endswith("1 node(s) 535.161.08 (n2)")
    assert findings["gpus"].message == "n3 do not show the 8 GPUs the others have"
    assert findings["health"].message == "n4 already not Ready or cordoned"
    assert findings["never-passed"].message == "this stratum has never passed a cycle"
    assert not any(f.blocking for f in findings.values())


def test_preflight_names_strata_of_one_type_and_zone_split_by_os_image_or_kernel() -> None:
    nodes = [node(f"a{i}") for i in range(3)] + [node("b0", os_image="Ubuntu 24.04", kernel="6.8")]
    state = plan_cycle("gpu", nodes, settings(capacity_floor=0.5), T0)
    findings = [
        f for f in preflight(state, {n.name: n for n in nodes}, PoolHistory()) if f.check in ("os-image", "kernel")
    ]
    assert [(f.check, f.message) for f in findings] == [
        ("os-image", "os-image differs between its nodes: 3 node(s) Ubuntu 22.04, 1 node(s) Ubuntu 24.04"),
        ("kernel", "kernel differs between its nodes: 3 node(s) 5.15, 1 node(s) 6.8"),
    ]


def test_preflight_reads_boot_times_from_earlier_cycles() -> None:
    nodes = [node(f"n{i}") for i in range(20)]
    key = stratum_of(nodes[0])
    state = plan_cycle("gpu", nodes, settings(), T0)
    index = {n.name: n for n in nodes}
    slow = PoolHistory(3, {key.placement: StratumHistory(passed=3, boot_seconds=(600.0, 650.0, 700.0))})  # 78%
    (finding,) = [f for f in preflight(state, index, slow) if f.check == "boot-history"]
    assert finding.message == "boot p95 in earlier cycles is 11m40s, 78% of the 15m0s boot budget"
    assert not finding.blocking
    over = PoolHistory(2, {key.placement: StratumHistory(passed=1, boot_seconds=(300.0, 905.0), timed_out=1)})
    (finding,) = [f for f in preflight(state, index, over) if f.check == "boot-history"]
    assert finding.blocking
    assert finding.message.endswith("101% of the 15m0s boot budget; 1 boot(s) ran out of it")
    assert not [f for f in preflight(state, index, over) if f.check == "never-passed"]


def test_preflight_blocks_a_stratum_whose_nodes_cannot_fit_the_headroom() -> None:
    nodes = [node(f"n{i}") for i in range(5)]  # 40 GPUs, floor 0.9: 4 GPUs of headroom for 8-GPU nodes
    state = plan_cycle("gpu", nodes, settings(), T0)
    (finding,) = [f for f in preflight(state, {n.name: n for n in nodes}, PoolHistory()) if f.check == "capacity"]
    assert finding.blocking
    assert "a node of 8 GPUs does not fit the headroom of 4 GPUs" in finding.message


def test_without_a_history_nothing_is_said_of_earlier_cycles() -> None:
    nodes = [node(f"n{i}") for i in range(20)]
    state = plan_cycle("gpu", nodes, settings(), T0)
    index = {n.name: n for n in nodes}
    assert {f.check for f in preflight(state, index, PoolHistory())} == {"never-passed"}
    assert preflight(state, index, None) == []


def test_driver_version_reads_the_full_label_or_its_parts() -> None:
    assert driver_version(node("n", labels={"nvidia.com/cuda.driver-version.full": "550.90.07"})) == "550.90.07"
    parts = {
        "nvidia.com/cuda.driver.major": "535",
        "nvidia.com/cuda.driver.minor": "161",
        "nvidia.com/cuda.driver.rev": "08",
    }
    assert driver_version(node("n", labels=parts)) == "535.161.08"
    assert driver_version(node("n")) == ""
