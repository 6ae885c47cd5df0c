"""The rollout loop against the simulator: resume after a crash without repeating a step, pause and
abort from another terminal, a refused rollback path, a verified rollback, an update by OnDelete."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers
from guardrail.adapters.memory_runs import MemoryRunStore
from guardrail.adapters.prometheus import PrometheusApi
from guardrail.core.audit import EventDraft, verify_chain
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.promql import PromqlGate
from guardrail.core.rollout.rehearsal import RehearsalStore
from guardrail.core.rollout.state import RolloutState
from guardrail.core.runs import RunConflictError, RunRecord, RunRequest, RunStatus, RunStore
from guardrail.services.rollout import Rollout, drive, start
from guardrail.services.rollout_act import ClusterTarget
from guardrail.simulation.fleet import SimulatedFleet
from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec, FleetSpec
from tests.adapters.prometheus_server import served_prometheus, vector

POLICY = RolloutPolicy(soak_seconds=300, dns_cache_ttl_seconds=600, batches=(0.1, 0.5, 1.0))
AGENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "telemetry"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"serviceAccountName": "agent", "containers": [{"name": "agent", "image": "agent:2"}]},
        },
    },
}
CONFIG: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "agent", "namespace": "telemetry"},
    "data": {"a": "b"},
}
REF = ObjectRef("apps", "DaemonSet", "telemetry", "agent")


class CrashingStore(MemoryRunStore):
    """Dies (as kill -9 would) right after its `crash_after`-th save."""

    def __init__(self, fleet: SimulatedFleet, crash_after: int | None) -> None:
        super().__init__(fleet.clock)
        self.crash_after = crash_after
        self.saves = 0

    def save_step(self, run_id: str, **kwargs: Any) -> RunRecord:
        record = super().save_step(run_id, **kwargs)
        self.saves += 1
        if self.saves == self.crash_after:
            self.crash_after = None
            raise KeyboardInterrupt("killed")
        return record


def _fleet(refuse: frozenset[str] = frozenset()) -> SimulatedFleet:
    return SimulatedFleet(
        FleetSpec(
            clusters=(ClusterSpec("small", 20, 10, 100, 0.2, 600.0), ClusterSpec("large", 60, 10, 200, 0.25, 600.0)),
            calls=(CallSpec("list", "pods", "node", 30.0),),
            cost=CostSpec(2.0, 0.05),
            seed=3,
        ),
        refuse=refuse,
    )


def _rollout(fleet: SimulatedFleet, store: RunStore, manifests: list[Mapping[str, Any]] | None = None) -> Rollout:
    return Rollout(
        targets={c.name: ClusterTarget.of(c, manifests or [CONFIG, AGENT], POLICY) for c in fleet.clusters()},
        policy=POLICY,
        clock=fleet.clock,
        store=store,
        actor="alice",
        parse_apiserver=parse_apiserver_metrics,
        parse_dns=parse_coredns_answers,
    )


def _changes(store: RehearsalStore) -> list[tuple[str, str, str]]:
    return [
        (e.payload["action"], e.payload["cluster"], e.payload.get("step", ""))
        for e in store.events()
        if e.kind == "rollout-step" and "ok" in e.payload
    ]


def _state(record: RunRecord) -> RolloutState:
    return RolloutState.from_json(record.state["engine"])


def _uninterrupted() -> tuple[list[tuple[str, str, str]], RunRecord]:
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    record = drive(rollout, "r1")
    return _changes(store), record


def test_a_rollout_completes_with_every_step_recorded_once() -> None:
    changes, record = _uninterrupted()
    assert record.status is RunStatus.COMPLETED
    assert changes == [
        ("prepare", "small", ""),
        ("prepare", "large", ""),
        ("label-nodes", "small", "canary"),
        ("label-nodes", "small", "10%"),
        ("label-nodes", "small", "50%"),
        ("label-nodes", "small", "100%"),
        ("label-nodes", "large", "canary"),
        ("label-nodes", "large", "10%"),
        ("label-nodes", "large", "50%"),
        ("label-nodes", "large", "100%"),
    ]


@pytest.mark.parametrize("crash_after", [3, 8, 9, 14, 20, 27])
def test_a_killed_run_resumes_without_repeating_a_completed_step(crash_after: int) -> None:
    expected, _ = _uninterrupted()
    fleet = _fleet()
    store = CrashingStore(fleet, crash_after)
    start(_rollout(fleet, store), "r1")
    with pytest.raises(KeyboardInterrupt):
        drive(_rollout(fleet, store), "r1")
    interrupted = store.run("r1")
    assert interrupted is not None
    assert interrupted.status is RunStatus.RUNNING
    # A new process: the same clusters and store, the run read back from the store.
    record = drive(_rollout(fleet, store), "r1")
    assert record.status is RunStatus.COMPLETED
    assert _changes(store) == expected
    assert not [n for c in fleet.simulated for n in c.nodes() if "guardrail.dev/rollout-agent" in n.labels]
    assert sum(len(c.pods(label_selector="app=agent")) for c in fleet.simulated) == 80
    assert verify_chain(store.events()).ok


def test_pause_and_abort_from_another_terminal() -> None:
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    record = drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=20))
    assert record.status is RunStatus.RUNNING
    store.request("r1", RunRequest.PAUSE, EventDraft("bob", "rollout-request", {"run": "r1", "request": "pause"}))
    paused = drive(rollout, "r1")
    assert paused.status is RunStatus.PAUSED
    assert paused.requested is None
    position = _state(paused).position
    fleet.run(3600)  # an hour later, nothing moved
    assert _state(store.run("r1") or paused).position == position
    drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=5))
    store.request("r1", RunRequest.ABORT, EventDraft("bob", "rollout-request", {"run": "r1", "request": "abort"}))
    aborted = drive(rollout, "r1")
    assert aborted.status is RunStatus.ABORTED
    state = _state(aborted)
    assert state.reason == "aborted by request"
    assert state.rollback == "verified"
    for cluster in fleet.simulated:
        assert cluster.get(REF, "apps/v1") is None
        assert cluster.get(ObjectRef("", "ConfigMap", "telemetry", "agent"), "v1") is None
        assert not [n for n in cluster.nodes() if any(k.startswith("guardrail.dev/") for k in n.labels)]


def test_two_rollouts_of_one_daemonset_cannot_run_at_once() -> None:
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    start(_rollout(fleet, store), "r1")
    with pytest.raises(RunConflictError, match=r"daemonset\.apps/telemetry/agent is held by run"):
        start(_rollout(fleet, store), "r2")


def test_no_rollout_without_a_rollback_path() -> None:
    fleet = _fleet(refuse=frozenset({"dry-run"}))
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    record = drive(rollout, "r1")
    state = _state(record)
    assert record.status is RunStatus.HALTED
    assert state.reason.startswith("rollback path not verified on small: cluster small: dry-run refused")
    assert state.stopped_at == {"cluster": "small", "step": "before the canary", "phase": "prepare"}
    assert [c for c in _changes(store) if c[0] == "label-nodes"] == []
    assert all(c.get(REF, "apps/v1") is None for c in fleet.simulated)
    assert state.rollback == "verified"


def test_an_update_replaces_pods_batch_by_batch_with_on_delete() -> None:
    fleet = _fleet()
    old = copy.deepcopy(AGENT)
    old["spec"]["template"]["spec"]["containers"][0]["image"] = "agent:1"
    for cluster in fleet.simulated:
        cluster.install_existing(old)
    fleet.run(60)
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store, [AGENT])
    start(rollout, "r1")
    record = drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=8))
    large = fleet.cluster("large")
    live = large.get(REF, "apps/v1") or {}
    assert live["spec"]["updateStrategy"] == {"type": "OnDelete"}
    images = {p.labels["pod-template-generation"] for p in large.pods(label_selector="app=agent")}
    assert images == {"1"}  # nothing replaced on the large cluster yet
    record = drive(rollout, "r1")
    assert record.status is RunStatus.COMPLETED
    assert {c[0] for c in _changes(store)} == {"prepare", "replace-pods"}
    generation = str(live["metadata"]["generation"])
    assert {p.labels["pod-template-generation"] for p in large.pods(label_selector="app=agent")} == {generation}
    assert len(large.pods(label_selector="app=agent")) == 60


def test_a_run_killed_with_a_label_change_in_flight_finishes_it_once() -> None:
    expected, _ = _uninterrupted()
    for crash_after in range(1, 40):
        fleet = _fleet()
        store = CrashingStore(fleet, crash_after)
        start(_rollout(fleet, store), "r1")
        with pytest.raises(KeyboardInterrupt):
            drive(_rollout(fleet, store), "r1")
        pending = _state(store.run("r1") or pytest.fail("no run")).pending
        if pending is not None and pending.kind.value == "label-nodes":
            break
    else:
        pytest.fail("no save left a label change pending")
    assert drive(_rollout(fleet, store), "r1").status is RunStatus.COMPLETED
    assert _changes(store) == expected


def test_the_canary_holds_every_node_first_and_a_node_joining_after_completion_gets_its_pod() -> None:
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    label = "guardrail.dev/rollout-agent"
    drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=4))  # past prepare, in the canary's soak
    small, large = fleet.cluster("small"), fleet.cluster("large")
    assert [n.labels.get(label) for n in large.nodes()] == ["hold"] * 60  # prepared, nothing released yet
    assert len(small.pods(label_selector="app=agent")) == 1  # the canary
    live = small.get(REF, "apps/v1") or pytest.fail("no DaemonSet")
    term = live["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": label, "operator": "NotIn", "values": ["hold"]}]}
    ]
    assert drive(rollout, "r1").status is RunStatus.COMPLETED
    large.add_node("large-node-late")
    fleet.run(60)
    late = [p for p in large.pods(label_selector="app=agent") if p.node == "large-node-late"]
    assert [(p.ready, p.labels["pod-template-generation"]) for p in late] == [(True, "1")]
    assert len(large.pods(label_selector="app=agent")) == 61


def test_the_rollback_path_is_verified_on_the_live_apf_objects_and_recorded() -> None:
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=3))
    (prepared, _) = [e.payload for e in store.events() if e.payload.get("action") == "prepare" and "ok" in e.payload]
    assert prepared["ok"] is True
    assert prepared["detail"] == (
        "rollback as guardrail: FlowSchema guardrail-rollback -> exempt (Exempt); workload telemetry/agent: "
        "FlowSchema guardrail-workload-telemetry-agent -> guardrail-workload-telemetry-agent (Limited, 20 shares, "
        "borrows 0%); rollback dry-run accepted for 2 objects"
    )


def test_a_flow_schema_ahead_of_guardrails_stops_the_rollout_before_the_canary() -> None:
    fleet = _fleet()
    level = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "automation"},
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 10}},
    }
    schema = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": "automation"},
        "spec": {
            "matchingPrecedence": 100,  # ahead of guardrail-rollback (200)
            "priorityLevelConfiguration": {"name": "automation"},
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": "guardrail"}}],
                    "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"]}],
                }
            ],
        },
    }
    large = fleet.cluster("large")
    large.install_existing(level)
    large.install_existing(schema)
    store = MemoryRunStore(fleet.clock)
    rollout = _rollout(fleet, store)
    start(rollout, "r1")
    record = drive(rollout, "r1")
    state = _state(record)
    assert record.status is RunStatus.HALTED
    assert state.reason == (
        "rollback path not verified on large: cluster large: rollback path not protected for guardrail: the "
        "rollback's `delete daemonsets.apps in telemetry` goes to FlowSchema automation -> automation (Limited, "
        "10 shares): neither exempt nor above the workload's level"
    )
    assert [c for c in _changes(store) if c[0] == "label-nodes"] == []
    assert state.rollback == "verified"
    assert all(c.get(REF, "apps/v1") is None for c in fleet.simulated)
    assert not [n for c in fleet.simulated for n in c.nodes() if "guardrail.dev/rollout-agent" in n.labels]


def test_a_promql_gate_against_a_real_prometheus_halts_and_the_rollback_waits_for_it() -> None:
    query = "sum(rate(agent_errors_total[5m])) / sum(rate(agent_requests_total[5m]))"
    policy = replace(POLICY, gates=replace(POLICY.gates, promql=(PromqlGate("error-rate", query, 0.05, "<"),)))
    fleet = _fleet()
    store = MemoryRunStore(fleet.clock)
    with served_prometheus() as prometheus:
        prometheus.answers[query] = vector(0.01)
        source = PrometheusApi(prometheus.url, timeout=5)
        rollout = replace(_rollout(fleet, store), policy=policy, prometheus={"small": source, "large": source})
        start(rollout, "r1")
        record = drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=12))
        assert record.status is RunStatus.RUNNING
        assert _state(record).previous["small"].promql["error-rate"].values == (0.01,)
        prometheus.answers[query] = vector(0.01, 0.3)  # one instance of the new agent starts failing
        record = drive(rollout, "r1", until=fleet.clock.now() + timedelta(minutes=10))
        state = _state(record)
        assert state.reason == "health gate failed: promql:error-rate on small: error-rate 0.3, not < 0.05 (by 0.25)"
        # Rolled back, but not back at baseline while the query still fails: the rollback is not verified yet.
        assert (state.phase.value, state.rollback) == ("verifying", None)
        failed = [e.payload["gates_failed"] for e in store.events() if "gates_failed" in e.payload]
        assert failed == [["promql:error-rate on small: error-rate 0.3, not < 0.05 (by 0.25)"]]
        prometheus.answers[query] = vector(0.0)
        record = drive(rollout, "r1")
    assert record.status is RunStatus.ROLLED_BACK
    assert _state(record).rollback == "verified"
    assert all(c.get(REF, "apps/v1") is None for c in fleet.simulated)
