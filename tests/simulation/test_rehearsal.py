"""`rehearse` on the bundled pools: the outage halts at its stratum, a healthy pool completes, a node that
rejoins Ready with a GPU missing is caught by the GPU validation; the same pool always gives the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardrail.config.nodes import NodesSettings
from guardrail.config.pool_file import PoolFile, PoolGroup, PoolWorkload, load_pool_file
from guardrail.core.audit import EventKind, verify_chain
from guardrail.core.nodes.records import NodeStatus, Outcome
from guardrail.core.nodes.report import StratumState
from guardrail.core.nodes.settings import Phase
from guardrail.services.nodes_rehearse import Rehearsal, rehearse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nodes"


def _rehearse(name: str, settings: NodesSettings | None = None) -> Rehearsal:
    return rehearse(load_pool_file(EXAMPLES / f"{name}.yaml"), settings or NodesSettings())


def test_the_outage_pool_halts_at_the_westus2_nd96_stratum_losing_one_node_at_most() -> None:
    result = _rehearse("outage")
    report = result.report.to_json()
    assert report["outcome"] == "halted"
    assert report["reason"].startswith("stratum Standard_ND96asr_v4 westus2-1: node aks-gpu-a100-1-vmss000000")
    assert "failed in phase register after 15m0s, boot budget 15m0s" in report["reason"]
    assert report["nodes_lost"] <= 1
    assert report["min_capacity"] >= 0.9
    states = {(s["instance_type"], s["zone"]): s for s in report["strata"]}
    west = states[("Standard_ND96asr_v4", "westus2-1")]
    assert (west["state"], west["cycled"], west["failed"]) == ("failed", 0, 1)  # its canary, and only it
    assert states[("Standard_NC24ads_A100_v4", "westus2-1")]["state"] == "completed"
    assert states[("Standard_ND96asr_v4", "eastus-1")]["state"] in ("stopped", "completed")
    assert set(report) == {"outcome", "reason", "nodes_cycled", "nodes_lost", "min_capacity", "strata"}
    assert all(set(s) == {"instance_type", "zone", "cycled", "failed", "state"} for s in report["strata"])


def test_a_healthy_pool_completes_and_never_goes_under_its_floor() -> None:
    result = _rehearse("healthy")
    report = result.report
    assert report.outcome is Outcome.COMPLETED
    assert (report.nodes_cycled, report.nodes_lost) == (100, 0)
    assert 0.9 <= report.min_capacity < 0.95  # the headroom is used, never exceeded
    assert all(s.state is StratumState.COMPLETED for s in report.strata)
    assert report.failures == ()


def test_a_node_that_rejoins_ready_with_a_gpu_missing_is_caught_by_validation_not_by_ready() -> None:
    result = _rehearse("missing-gpu")
    report = result.report
    assert report.outcome is Outcome.HALTED
    (failed,) = [p for p in result.state.nodes.values() if p.status is NodeStatus.FAILED]
    assert failed.failure is not None
    assert failed.failure.phase is Phase.GPU
    assert failed.failure.message == "nvidia.com/gpu allocatable is 7, the stratum had 8"
    assert "ready" in failed.durations  # it did come back Ready: Ready was not what caught it
    assert report.nodes_lost == 1
    assert report.min_capacity >= 0.9


def test_a_rehearsal_is_the_same_every_time() -> None:
    first, second = _rehearse("outage"), _rehearse("outage")
    assert first.report.to_json() == second.report.to_json()
    assert [(e.kind, e.payload_json) for e in first.events] == [(e.kind, e.payload_json) for e in second.events]
    assert dict(first.state.to_json()) == dict(second.state.to_json())


def test_every_phase_and_decision_is_in_the_audit_log_and_the_log_verifies() -> None:
    result = _rehearse("outage")
    assert verify_chain(result.events).ok
    kinds = [e.kind for e in result.events]
    assert kinds[0] == EventKind.NODE_CYCLE_START
    assert kinds[-1] == EventKind.NODE_CYCLE_END
    assert EventKind.NODE_FAILURE in kinds
    phases = {(e.payload["node"], e.payload["phase"]) for e in result.events if e.kind == EventKind.NODE_PHASE}
    done = [p for p in result.state.nodes.values() if p.status is NodeStatus.DONE]
    assert all((p.name, phase) in phases for p in done for phase in p.durations)
    decisions = {e.payload["decision"] for e in result.events if e.kind == EventKind.NODE_DECISION}
    assert {"start", "replace", "halt"} <= decisions
    end = result.events[-1].payload
    assert end["outcome"] == "halted"
    assert end["failed"] == ["aks-gpu-a100-1-vmss000000"]


def _pool(*groups: PoolGroup, **changes: object) -> PoolFile:
    return PoolFile.model_validate({"pool": "gpu", "boot_timeout": "15m", "groups": groups, "seed": 5, **changes})


def test_a_drain_that_a_pod_disruption_budget_keeps_blocked_halts_in_the_drain_phase() -> None:
    group = PoolGroup(count=10, instance_type="ND96", zone="eastus-1", gpus=8, boot="6m")
    pinned = PoolWorkload(name="db", replicas=10, min_available=10)  # no pod may ever go
    settings = NodesSettings.model_validate({"drain_timeout": "10m"})
    result = rehearse(_pool(group, workloads=[pinned], capacity_floor=0.8), settings)
    assert result.report.outcome is Outcome.HALTED
    assert "failed in phase drain after 10m0s, drain budget 10m0s: 1 pod(s) still on the node" in result.report.reason
    assert result.report.nodes_lost == 1


def test_an_xid_error_after_rejoining_halts_the_cycle() -> None:
    group = PoolGroup(count=10, instance_type="ND96", zone="eastus-1", gpus=8, boot="6m", xid=True)
    result = rehearse(_pool(group, capacity_floor=0.8), NodesSettings())
    assert result.report.outcome is Outcome.HALTED
    assert "SysLogsXIDError" in result.report.reason


def test_a_failing_validation_pod_halts_the_cycle_and_its_log_is_in_the_audit() -> None:
    group = PoolGroup(count=10, instance_type="ND96", zone="eastus-1", gpus=8, boot="6m")
    settings = NodesSettings.model_validate({"validation": {"command": ["sh", "-c", "nvidia-smi && exit 3"]}})
    result = rehearse(_pool(group, capacity_floor=0.8), settings)
    assert result.report.outcome is Outcome.HALTED
    assert "failed in phase validation" in result.report.reason
    (failure,) = [e for e in result.events if e.kind == EventKind.NODE_FAILURE]
    assert "GPU 0: NVIDIA-A100-SXM4-80GB" in failure.payload["log"]


@pytest.mark.parametrize("mode", ["reimage", "delete-node"])
def test_both_ways_of_replacing_complete_a_healthy_pool(mode: str) -> None:
    groups = [
        PoolGroup(count=6, instance_type="ND96", zone="eastus-1", gpus=8, boot="6m", gpu_diag="2m"),
        PoolGroup(count=4, instance_type="NC24", zone="eastus-1", gpus=1, boot="4m"),
    ]
    result = rehearse(_pool(*groups, replace=mode, capacity_floor=0.8), NodesSettings())
    assert result.report.outcome is Outcome.COMPLETED
    assert result.report.nodes_cycled == 10
    json.dumps(dict(result.state.to_json()))  # the final state is plain JSON
