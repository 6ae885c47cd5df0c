"""The rollout's real path end to end: the official client over HTTP against two emulated clusters, the
gate, the SQL store, a test clock that advances the clusters when the rollout sleeps.

A new DaemonSet goes out node batch by node batch on the small cluster (held nodes released, the affinity
patch, containment's APF objects, the rollback's dry-runs first); on the large one its canary pushes the
seats in use past the limit, so the run rolls back and waits until the metrics are back at baseline:
rollback verified. An update of an existing DaemonSet replaces its pods batch by batch with OnDelete.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import kmock
import pytest

from guardrail.adapters.store import open_store
from guardrail.config import Settings
from guardrail.core.audit import verify_chain
from guardrail.core.rollout.state import RolloutState
from guardrail.core.runs import RunStatus
from guardrail.services import wiring
from guardrail.services.rollout_runs import FleetRequest, start_rollout
from tests.adapters.kubernetes.fleet_emulator import (
    AGENT,
    LABEL,
    EmulatedCluster,
    FleetClock,
    Load,
    emulated,
    rollout_files,
)
from tests.conftest import initialised_sqlite


@pytest.fixture
def fleet() -> Iterator[list[EmulatedCluster]]:
    small = EmulatedCluster("small", 3, Load(baseline=0.2))
    large = EmulatedCluster("large", 6, Load(baseline=0.3, hidden_cost=60.5))  # one agent pod: 0.3 -> 0.91
    with emulated(small, large) as started:
        yield started


def _released(cluster: EmulatedCluster) -> int:
    return sum(1 for labels in cluster.node_labels().values() if labels.get(LABEL) != "hold")


def _start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clusters: list[EmulatedCluster], clock: FleetClock
) -> tuple[str, RunStatus, RolloutState]:
    manifests, fleet_file = rollout_files(tmp_path, clusters, AGENT)
    monkeypatch.setattr(wiring, "clock", lambda: clock)
    monkeypatch.setenv("GUARDRAIL_ACTOR", "oncall@example.com")
    store_url = f"sqlite:///{initialised_sqlite(tmp_path / 'guardrail.db')}"
    store = open_store(store_url)
    try:
        started = start_rollout(FleetRequest([manifests], fleet_file, Settings()), store)
        assert started.gate.verdict.decision.value == "allow"
        assert started.run is not None
        assert verify_chain(store.events()).ok
        record = store.run(started.run.id) or pytest.fail("the run is not in the store")
    finally:
        store.close()
    return store_url, record.status, RolloutState.from_json(record.state["engine"])


def test_a_new_daemonset_goes_batch_by_batch_then_rolls_back_verified_when_the_large_cluster_overloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fleet: list[EmulatedCluster]
) -> None:
    small, large = fleet
    clock = FleetClock(fleet)
    seen: list[tuple[int, int]] = []
    clock.on_sleep.append(lambda _: seen.append((_released(small), _released(large))))
    store_url, status, state = _start(tmp_path, monkeypatch, fleet, clock)

    assert status is RunStatus.ROLLED_BACK
    assert state.reason == "health gate failed: seats-in-use on large: seats in use 0.91 > 0.80 (by 0.11)"
    assert state.stopped_at == {"cluster": "large", "step": "canary", "phase": "rolling"}
    assert state.rollback == "verified"
    # Nodes running the agent or free to (not held), as the clock passed: every node before the rollout,
    # held by the prepare, released batch by batch (small 1, 2, 3, large its canary), all free after it.
    transitions = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert transitions == [(3, 6), (1, 0), (2, 0), (3, 0), (3, 1), (3, 6)]
    assert large.running_peak == 1
    for cluster in fleet:
        assert all(LABEL not in labels for labels in cluster.node_labels().values())
        assert cluster.live("daemonsets") == {}
        assert cluster.agent_pods() == {}
        assert "agent" not in cluster.live("configmaps", "telemetry")
        # Containment stays: the bounded level of the workload, and the rollback identity's exempt schema.
        schemas = cluster.live("flowschemas")
        rollback = schemas["guardrail-rollback"]["spec"]
        assert rollback["priorityLevelConfiguration"] == {"name": "exempt"}
        assert rollback["rules"][0]["subjects"] == [{"kind": "User", "user": {"name": "oncall@example.com"}}]
        level = cluster.live("prioritylevelconfigurations")["guardrail-workload-telemetry-agent"]["spec"]
        assert (level["type"], level["limited"]["borrowingLimitPercent"]) == ("Limited", 0)
        applied = list(cluster.emulator[kmock.method.PATCH, kmock.resource("apps/v1/daemonsets")])
        terms = applied[0].data["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
        expression = terms["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
        assert expression == {"matchExpressions": [{"key": LABEL, "operator": "NotIn", "values": ["hold"]}]}
        dry_deletes = [r for r in cluster.emulator[kmock.method.DELETE] if r.params.get("dryRun") == "All"]
        assert {r.url.path.rsplit("/", 2)[-2] for r in dry_deletes} >= {"daemonsets", "configmaps"}

    store = open_store(store_url)
    try:
        events = [e.payload for e in store.events()]
    finally:
        store.close()
    prepared = [p for p in events if p.get("action") == "prepare" and "ok" in p]
    assert [p["cluster"] for p in prepared] == ["small", "large"]
    assert all(
        p["detail"].startswith("rollback as oncall@example.com: FlowSchema guardrail-rollback -> exempt (Exempt)")
        for p in prepared
    )
    widened = [(p["cluster"], p["step"]) for p in events if p.get("action") == "label-nodes" and "ok" in p]
    assert widened == [("small", "canary"), ("small", "50%"), ("small", "100%"), ("large", "canary")]
    measured = [p["cost"]["method"] for p in events if "cost" in p]
    assert measured == ["flow", "flow", "flow"]  # the agent's own FlowSchema measured each small step
    observed = [o for p in events for o in p.get("observed", ()) if o["cluster"] == "large"]
    assert max(o["utilisation"] for o in observed) == pytest.approx(0.91)
    assert observed[-1]["utilisation"] == pytest.approx(0.3)  # back at baseline
    assert [p["rollback"] for p in events if "rollback" in p] == ["verified"]


def test_an_update_replaces_pods_batch_by_batch_with_on_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = EmulatedCluster("small", 3, Load(baseline=0.2))
    with emulated(small) as clusters:
        old = copy.deepcopy(AGENT)
        old["metadata"]["generation"] = 1
        old["spec"]["updateStrategy"] = {"type": "RollingUpdate"}
        old["spec"]["template"]["spec"]["containers"][0]["image"] = "agent:1"
        small.emulator.objects["apps/v1/daemonsets", "telemetry", "agent"] = old
        small.reconcile()
        assert {p["metadata"]["labels"]["pod-template-generation"] for p in small.agent_pods().values()} == {"1"}
        clock = FleetClock(clusters)
        generations: list[int] = []
        clock.on_sleep.append(
            lambda _: generations.append(
                sum(p["metadata"]["labels"]["pod-template-generation"] == "2" for p in small.agent_pods().values())
            )
        )
        _, status, state = _start(tmp_path, monkeypatch, clusters, clock)
    assert (status, state.mode.value) == (RunStatus.COMPLETED, "update")
    assert sorted(set(generations)) == [0, 1, 2, 3]  # the canary's pod, then half, then all replaced
    live = small.live("daemonsets")["agent"]
    assert live["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "agent:2"
    assert {p["metadata"]["labels"]["pod-template-generation"] for p in small.agent_pods().values()} == {"2"}
    assert all(LABEL not in labels for labels in small.node_labels().values())


def test_a_node_that_joins_after_the_rollout_completed_gets_its_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = EmulatedCluster("small", 3, Load(baseline=0.2))
    with emulated(small) as clusters:
        _, status, _ = _start(tmp_path, monkeypatch, clusters, FleetClock(clusters))
        assert status is RunStatus.COMPLETED
        assert len(small.agent_pods()) == 3
        small.emulator.objects["v1/nodes", None, "small-node-late"] = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "small-node-late", "labels": {"kubernetes.io/hostname": "small-node-late"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        small.reconcile()  # the DaemonSet controller sees the node: the live affinity admits it
        late = [p for p in small.agent_pods().values() if p["spec"]["nodeName"] == "small-node-late"]
        assert [p["metadata"]["labels"]["pod-template-generation"] for p in late] == ["1"]
        assert all(LABEL not in labels for labels in small.node_labels().values())
