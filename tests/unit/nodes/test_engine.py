"""The node-cycle state machine, step by step: given the state and an observation, the next state, the
actions and the events; given the actions' results, the state again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from guardrail.core.audit import EventKind
from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo
from guardrail.core.nodes.actions import (
    Action,
    ActionResult,
    Cordon,
    CreatePod,
    DeletePod,
    Evict,
    Observation,
    Replace,
    Uncordon,
)
from guardrail.core.nodes.engine import Decision, abort, decide, pause, resume, settle, watched
from guardrail.core.nodes.planner import plan_cycle
from guardrail.core.nodes.records import NodeStatus, Outcome
from guardrail.core.nodes.settings import Budgets, Phase
from guardrail.core.nodes.state import CycleState
from guardrail.core.nodes.validation import VALIDATION_LABEL
from tests.unit.nodes.helpers import T0, node, observe, pod, settings, validator


def _plan(nodes: Sequence[NodeInfo], floor: float = 0.5) -> CycleState:
    return plan_cycle("gpu", nodes, settings(capacity_floor=floor), T0)


def _ok(actions: Sequence[Action], at: float) -> list[ActionResult]:
    return [ActionResult(action, T0 + at) for action in actions]


def _round_trip(state: CycleState) -> CycleState:
    """The state as a store would give it back: through JSON text."""
    return CycleState.from_json(json.loads(json.dumps(dict(state.to_json()))))


def _kinds(decision: Decision) -> list[type]:
    return [type(a) for a in decision.actions]


def _validated(current: NodeInfo, decision: Decision, succeeded: bool = True) -> Observation:
    create = next(a for a in decision.actions if isinstance(a, CreatePod))
    name = create.manifest["metadata"]["name"]
    validation = pod(name, current.name, namespace="kube-system", phase="Succeeded" if succeeded else "Failed")
    return observe(0, [current], {current.name: [validation, validator(current.name)]})


def test_a_node_goes_through_every_phase_and_each_phase_is_timed() -> None:
    n0, n1 = node("n0"), node("n1")
    state = _plan([n0, n1])
    assert (state.total_gpus, state.minimum_gpus) == (16, 8)

    d = decide(state, observe(0, [n0, n1]))  # the canary starts: its cordon is asked for
    assert d.actions == (Cordon("n0", "n0"),)
    assert d.state.nodes["n0"].phase is Phase.CORDON
    assert watched(d.state) == ("n0",)
    state, events = settle(d.state, _ok(d.actions, 0))  # the API server's answer confirms the cordon
    assert state.nodes["n0"].phase is Phase.DRAIN
    assert [e.payload["phase"] for e in events] == ["cordon"]

    cordoned = replace(n0, unschedulable=True)
    work = pod("job-1", "n0")
    pods = [work, pod("agent-x", "n0", owner_kind="DaemonSet"), pod("done", "n0", phase="Succeeded")]
    d = decide(state, observe(30, [cordoned, n1], {"n0": pods}))
    assert d.actions == (Evict("n0", "n0", "default", "job-1"),)  # DaemonSet and finished pods stay
    d = decide(_round_trip(d.state), observe(60, [cordoned, n1], {"n0": pods[1:]}))
    assert _kinds(d) == [Replace]
    assert d.state.nodes["n0"].replace_issued
    assert d.state.nodes["n0"].boot_id == "boot-1"
    assert [e.payload["decision"] for e in d.events if e.kind is EventKind.NODE_DECISION] == ["replace"]
    state, _ = settle(d.state, _ok(d.actions, 61))
    assert state.nodes["n0"].phase is Phase.REGISTER
    assert state.nodes["n0"].replaced_at == T0 + 61


def test_a_replacement_is_claimed_kept_cordoned_validated_and_handed_back_to_serve() -> None:
    state, n1 = _in_register(replaced_at=61), node("n1")
    d = decide(state, observe(300, [n1]))  # the Node is gone; no replacement yet
    assert d.actions == ()
    assert d.state.nodes["n0"].phase is Phase.REGISTER
    assert d.wait == 30

    newcomer = node("n2", ready=False, gpus=0, boot_id="boot-9")
    d = decide(d.state, observe(600, [newcomer, n1]))  # a new node of the stratum: claimed, and kept cordoned
    assert d.state.nodes["n0"].current == "n2"
    assert d.state.nodes["n0"].phase is Phase.READY
    assert "n2" in d.state.known
    assert d.actions == (Cordon("n0", "n2"),)

    n2 = replace(newcomer, unschedulable=True, conditions={"Ready": "True"})
    d = decide(_round_trip(d.state), observe(630, [n2, n1], {"n2": []}))
    assert d.state.nodes["n0"].phase is Phase.GPU
    n2 = replace(n2, allocatable={GPU_RESOURCE: "8"})
    d = decide(d.state, observe(660, [n2, n1], {"n2": []}))
    assert d.state.nodes["n0"].phase is Phase.VALIDATION
    create = next(a for a in d.actions if isinstance(a, CreatePod))
    spec = create.manifest["spec"]
    assert spec["nodeName"] == "n2"
    assert spec["containers"][0]["resources"]["limits"] == {GPU_RESOURCE: "8"}
    assert spec["containers"][0]["command"] == ["sh", "-c", "nvidia-smi && dcgmi diag -r 1"]
    assert create.manifest["metadata"]["labels"] == {VALIDATION_LABEL: "true"}

    passed = _validated(n2, d)
    d = decide(d.state, replace(passed, now=T0 + 690, nodes={"n2": n2, "n1": n1}))
    assert _kinds(d) == [DeletePod, Uncordon]
    state, _ = settle(d.state, _ok(d.actions, 690))
    done = state.nodes["n0"]
    assert done.status is NodeStatus.DONE
    assert dict(done.durations) == {
        "cordon": 0,
        "drain": 0,
        "replace": 61,
        "register": 539,
        "ready": 30,
        "gpu-allocatable": 30,
        "validation": 30,
        "uncordon": 0,
    }

    serving = replace(n2, unschedulable=False)
    d = decide(state, observe(720, [serving, n1]))  # the canary passed: the stratum widens
    assert d.actions == (Cordon("n1", "n1"),)


def test_pods_not_listed_are_never_read_as_no_pods() -> None:
    n0 = node("n0")
    d = decide(_plan([n0, node("n1")]), observe(0, [n0, node("n1")]))
    state, _ = settle(d.state, _ok(d.actions, 0))
    d = decide(state, observe(30, [replace(n0, unschedulable=True), node("n1")]))  # n0's pods: not listed
    assert d.actions == ()
    assert d.state.nodes["n0"].phase is Phase.DRAIN


def _in_register(replaced_at: float = 0) -> CycleState:
    n0, n1 = node("n0"), node("n1")
    d = decide(_plan([n0, n1]), observe(0, [n0, n1]))
    state, _ = settle(d.state, _ok(d.actions, 0))
    d = decide(state, observe(0, [replace(n0, unschedulable=True), n1], {"n0": []}))
    state, _ = settle(d.state, _ok(d.actions, replaced_at))
    assert state.nodes["n0"].phase is Phase.REGISTER
    return state


def test_a_replacement_that_never_registers_fails_at_the_boot_budget_and_halts_the_cycle() -> None:
    state = _in_register()
    d = decide(state, observe(899, [node("n1")]))
    assert d.state.halt is None
    d = decide(d.state, observe(900, [node("n1")]))
    failure = d.state.nodes["n0"].failure
    assert failure is not None
    assert (failure.phase, failure.measured, failure.budget) == (Phase.REGISTER, 900, 900)
    assert d.state.halt == (
        "stratum Standard_ND96asr_v4 eastus-1: node n0 failed in phase register after 15m0s, boot budget 15m0s: "
        "no replacement registered (the same name, or a new Standard_ND96asr_v4 eastus-1 node)"
    )
    assert d.state.outcome is Outcome.HALTED  # nothing else in hand
    assert not [a for a in d.actions if isinstance(a, Cordon | Uncordon)]  # the failed node is left as it is


def test_a_reimaged_node_comes_back_under_its_name_with_a_new_boot_id() -> None:
    state = _in_register()
    down = node("n0", cordoned=True, ready=False)
    d = decide(state, observe(60, [down, node("n1")]))
    assert d.state.nodes["n0"].phase is Phase.REGISTER
    assert d.state.nodes["n0"].seen_down
    back = node("n0", cordoned=True, ready=False, boot_id="boot-2")
    d = decide(d.state, observe(500, [back, node("n1")]))
    assert d.state.nodes["n0"].phase is Phase.READY
    assert d.state.nodes["n0"].current == "n0"


def test_a_replace_with_no_recorded_result_is_judged_from_the_cluster_after_a_restart() -> None:
    n0 = node("n0", cordoned=True)
    d = decide(_plan([node("n0"), node("n1")]), observe(0, [node("n0"), node("n1")]))
    state, _ = settle(d.state, _ok(d.actions, 0))
    issued = decide(state, observe(30, [n0, node("n1")], {"n0": []})).state  # saved, replace asked, then killed
    assert issued.nodes["n0"].replace_issued
    assert issued.nodes["n0"].phase is Phase.REPLACE

    gone = decide(_round_trip(issued), observe(90, [node("n1")]))  # the Node is gone: the replace happened
    assert gone.actions == ()
    assert gone.state.nodes["n0"].phase is Phase.REGISTER
    assert gone.state.nodes["n0"].replaced_at == T0 + 90

    untouched = decide(_round_trip(issued), observe(90, [n0, node("n1")], {"n0": []}))  # it did not: again
    assert _kinds(untouched) == [Replace]
    assert [e.payload["decision"] for e in untouched.events] == ["replace-again"]


def test_a_node_that_rejoins_ready_with_a_gpu_missing_fails_its_gpu_validation() -> None:
    state = _in_register()
    short = node("n2", cordoned=True, gpus=7, boot_id="b2")
    d = decide(state, observe(600, [short, node("n1")], {}))
    assert d.state.nodes["n0"].phase is Phase.GPU  # registered and Ready: Ready says nothing of the GPUs
    d = decide(d.state, observe(899, [short, node("n1")], {"n2": []}))
    assert d.state.halt is None
    d = decide(d.state, observe(900, [short, node("n1")], {"n2": []}))
    failure = d.state.nodes["n0"].failure
    assert failure is not None
    assert failure.phase is Phase.GPU
    assert (failure.measured, failure.budget) == (300, 300)
    assert failure.message == "nvidia.com/gpu allocatable is 7, the stratum had 8"


def test_a_gpu_unhealthy_condition_fails_the_node_at_once() -> None:
    state = _in_register()
    xid = node("n2", cordoned=True, boot_id="b2", conditions={"SysLogsXIDError": "True"})
    d = decide(state, observe(600, [xid, node("n1")], {}))
    failure = d.state.nodes["n0"].failure
    assert failure is not None
    assert failure.phase is Phase.GPU
    assert "SysLogsXIDError" in failure.message


def test_a_replacement_that_registers_schedulable_and_fails_at_once_is_left_cordoned() -> None:
    # A new Node registers schedulable; one already showing an XID error fails in the step that claims it,
    # and must still be cordoned: a failed node is left out of service, never open to workloads.
    state = _in_register()
    xid = node("n2", boot_id="b2", conditions={"SysLogsXIDError": "True"})
    d = decide(state, observe(600, [xid, node("n1")], {}))
    assert d.state.nodes["n0"].status is NodeStatus.FAILED
    assert Cordon("n0", "n2") in d.actions
    # Once it shows cordoned, nothing more is asked of it.
    d = decide(d.state, observe(630, [replace(xid, unschedulable=True), node("n1")], {}))
    assert not any(isinstance(a, Cordon) for a in d.actions)


def test_a_failed_validation_pod_fails_the_node_and_waiting_checks_are_named_at_the_budget() -> None:
    state = _in_register()
    n2 = node("n2", cordoned=True, boot_id="b2")
    d = decide(state, observe(600, [n2, node("n1")], {"n2": []}))
    assert d.state.nodes["n0"].phase is Phase.VALIDATION
    assert d.actions == ()  # the pods of a node claimed just now are listed from the next observation on
    d = decide(d.state, observe(630, [n2, node("n1")], {"n2": []}))
    failed = _validated(n2, d, succeeded=False)
    e = decide(d.state, replace(failed, now=T0 + 660))
    failure = e.state.nodes["n0"].failure
    assert failure is not None
    assert failure.phase is Phase.VALIDATION
    assert failure.budget is None
    assert "validation pod kube-system/gpu-validate-n2-" in failure.message

    bare = replace(n2, labels={k: v for k, v in n2.labels.items() if k != "nvidia.com/gpu.present"})
    late = decide(d.state, observe(900, [bare, node("n1")], {"n2": []}))
    failure = late.state.nodes["n0"].failure
    assert failure is not None
    assert failure.message.startswith("still waiting for: validation pod kube-system/gpu-validate-n2-")
    assert "GPU operator label nvidia.com/gpu.present=true" in failure.message
    assert "validator pod (gpu-operator, app=nvidia-cuda-validator) completed" in failure.message


def test_stop_on_first_failure_hands_back_nodes_not_yet_replaced_and_finishes_the_others() -> None:
    east = [node(f"e{i}") for i in range(3)]
    west = [node(f"w{i}", zone="westus2-1") for i in range(3)]
    small = [node(f"s{i}", instance_type="Standard_NC24ads_A100_v4", gpus=1) for i in range(3)]
    everything = east + west + small
    budgets = Budgets(drain=3600, replace=300, boot=900, gpu=300, validation=300, api=300)
    state = plan_cycle("gpu", everything, settings(capacity_floor=0.5, budgets=budgets), T0)
    d = decide(state, observe(0, everything))
    assert sorted(a.planned for a in d.actions) == ["e0", "s0", "w0"]  # one canary per stratum
    state, _ = settle(d.state, _ok(d.actions, 0))
    cordoned = [replace(n, unschedulable=n.name in ("e0", "w0", "s0")) for n in everything]
    # e0 and w0 drain (no pods) and are replaced; s0 still has a pod that will not leave.
    pods = {"e0": [], "w0": [], "s0": [pod("stuck", "s0")]}
    d = decide(state, observe(30, cordoned, pods))
    assert sorted(a.planned for a in d.actions if isinstance(a, Replace)) == ["e0", "w0"]
    state, _ = settle(d.state, _ok([a for a in d.actions if isinstance(a, Replace)], 30))
    rest = [n for n in cordoned if n.name not in ("e0", "w0")]
    d = decide(state, observe(930, rest, {"s0": [pod("stuck", "s0")]}))  # boot budget passed for both
    failed = sorted(p.name for p in d.state.nodes.values() if p.status is NodeStatus.FAILED)
    assert failed == ["e0", "w0"]
    assert d.state.halt is not None
    assert "node e0 failed in phase register" in d.state.halt
    assert d.state.nodes["s0"].phase is Phase.UNCORDON
    assert d.state.nodes["s0"].ending is NodeStatus.RELEASED
    state = d.state
    d = decide(state, observe(931, rest, {"s0": [pod("stuck", "s0")]}))
    assert d.actions == (Uncordon("s0", "s0"),)  # handed back; nothing else is touched, nothing new starts
    state, _ = settle(d.state, _ok(d.actions, 931))
    assert state.nodes["s0"].status is NodeStatus.RELEASED
    d = decide(state, observe(960, [replace(n, unschedulable=False) if n.name == "s0" else n for n in rest]))
    assert d.state.outcome is Outcome.HALTED
    assert d.actions == ()
    assert sorted(d.state.nodes) == ["e0", "s0", "w0"]  # e1, e2, w1, w2, s1, s2 were never picked


def test_a_replace_that_returns_after_its_budget_fails_the_node_in_the_replace_phase() -> None:
    # The replace command runs to its end inside one step: the time it took is held against the stratum's
    # replace budget when its result comes back (300 s here), not only after a restart.
    n0, n1 = node("n0"), node("n1")
    d = decide(_plan([n0, n1]), observe(0, [n0, n1]))
    state, _ = settle(d.state, _ok(d.actions, 0))
    d = decide(state, observe(0, [replace(n0, unschedulable=True), n1], {"n0": []}))
    assert _kinds(d) == [Replace]
    state, _ = settle(d.state, _ok(d.actions, 301))
    failure = state.nodes["n0"].failure
    assert failure is not None
    assert (failure.phase, failure.measured, failure.budget) == (Phase.REPLACE, 301, 300)
    assert state.halt is not None
    assert "replace budget 5m0s" in state.halt
    # Within its budget the replace ends its phase as before.
    state, _ = settle(d.state, _ok(d.actions, 300))
    assert state.nodes["n0"].phase is Phase.REGISTER


def test_a_refused_action_fails_its_node_but_a_refused_cleanup_does_not() -> None:
    n0 = node("n0")
    d = decide(_plan([n0, node("n1")]), observe(0, [n0, node("n1")]))
    state, events = settle(d.state, [ActionResult(d.actions[0], T0 + 1, "nodes n0 is forbidden")])
    assert state.nodes["n0"].status is NodeStatus.FAILED
    assert state.halt is not None
    assert "cordon refused: nodes n0 is forbidden" in state.halt
    assert {e.kind for e in events} == {EventKind.NODE_FAILURE, EventKind.NODE_DECISION}

    active = _in_register()
    kept, events = settle(active, [ActionResult(DeletePod("n0", "n0", "kube-system", "p"), T0, "not found")])
    assert kept.nodes["n0"].status is NodeStatus.ACTIVE
    assert [e.payload["decision"] for e in events] == ["keep-pod"]


def test_pause_lets_the_nodes_in_hand_finish_and_starts_no_other() -> None:
    nodes = [node(f"n{i}") for i in range(4)]
    d = decide(_plan(nodes), observe(0, nodes))
    state = pause(d.state)
    canary = state.nodes["n0"]
    state = state.with_progress([replace(canary, status=NodeStatus.DONE)])
    d = decide(state, observe(30, nodes))
    assert d.actions == ()
    assert d.state.outcome is None  # paused, not ended
    d = decide(resume(d.state), observe(60, nodes))
    assert [a.node for a in d.actions] == ["n1", "n2"]


def test_abort_hands_back_nodes_not_replaced_and_leaves_the_others_for_a_person() -> None:
    state = _in_register()
    n1 = node("n1")
    state = state.with_progress([replace(state.nodes["n0"], status=NodeStatus.ACTIVE)])
    d = decide(abort(state), observe(60, [n1]))
    assert d.state.nodes["n0"].status is NodeStatus.LEFT
    assert d.state.outcome is Outcome.ABORTED
    assert [e.payload.get("decision") for e in d.events if e.kind is EventKind.NODE_DECISION] == ["leave"]


def test_every_state_survives_json_unchanged() -> None:
    state = _in_register()
    assert _round_trip(state) == state
    assert json.loads(json.dumps(dict(state.to_json())))["nodes"][0]["phase"] == "register"


@pytest.mark.parametrize(
    "damage",
    [{"version": 99}, {"nodes": [{"name": "n0"}]}, {"strata": None}],
)
def test_a_damaged_state_is_refused(damage: dict[str, object]) -> None:
    data = {**dict(_in_register().to_json()), **damage}
    with pytest.raises(ValueError, match="state"):
        CycleState.from_json(data)
