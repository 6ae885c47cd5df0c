"""`guardrail rollout rehearse`: the rollout engine, gates and projections against a simulated fleet.

guarded: the same start/drive loop a real rollout runs, with an in-memory run store and the simulated
clock. naive: every manifest applied to every cluster at once, as `kubectl apply` across contexts would,
for comparison. Either way the simulation then runs to the fleet file's `duration`, so late effects
(DNS failing once caches expire) show in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from guardrail.config.fleet import RehearsalFile, load_fleet
from guardrail.core.audit import EventKind, parse_iso
from guardrail.core.kube.cluster import Cluster
from guardrail.core.rollout.rehearsal import (
    ClusterResult,
    RehearsalFleet,
    RehearsalReport,
    RehearsalStep,
    Strategy,
    clock_text,
    cluster_state,
)
from guardrail.core.rollout.state import Phase, RolloutState
from guardrail.core.runs import RunStatus
from guardrail.services import wiring
from guardrail.services.rollout import Rollout, drive, start
from guardrail.services.rollout_act import ClusterTarget
from guardrail.services.rollout_approvals import Unattended

RUN_ID = "rehearsal"
ACTOR = "guardrail-rehearsal"
# Rolled out when a fleet file names no manifests: a DaemonSet standing for the workload.
DEFAULT_WORKLOAD: Mapping[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "rehearsal-workload", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "rehearsal-workload"}},
        "template": {
            "metadata": {"labels": {"app": "rehearsal-workload"}},
            "spec": {"containers": [{"name": "workload", "image": "registry.example/workload:1"}]},
        },
    },
}
_STEP_KINDS = {
    EventKind.ROLLOUT_START.value: "start",
    EventKind.ROLLOUT_STEP.value: "step",
    EventKind.ROLLOUT_MEASUREMENT.value: "measurement",
    EventKind.ROLLOUT_DECISION.value: "decision",
}


def rehearse(path: Path, strategy: Strategy, *, refuse: frozenset[str] = frozenset()) -> RehearsalReport:
    """Rehearse the fleet file at `path`. Raises ConfigError/BadInputError (exit 3) for a bad fleet file or
    a template that does not render for a cluster, before anything is simulated."""
    fleet_file = load_fleet(path, RehearsalFile)
    manifests = {c.name: _manifests(fleet_file, c.name, c.values) for c in fleet_file.clusters}
    fleet = wiring.simulated_fleet(fleet_file, refuse=refuse)
    started = fleet.clock.now()
    duration = fleet_file.duration_seconds()
    touched: list[str] = []
    rollback: str | None = None
    if strategy is Strategy.NAIVE:
        steps = _naive(fleet, manifests)
        outcome, reason = "completed", "applied to every node of every cluster at once"
    else:
        steps, outcome, reason, rollback, touched = _guarded(fleet, fleet_file, manifests, started, duration)
    fleet.run(duration - (fleet.clock.now() - started).total_seconds())
    truths = fleet.truth()
    down = [t for t in truths if t.down]
    if down:
        reason += "; " + "; ".join(
            f"{t.name} down: utilisation {t.utilisation:.2f} (peak {t.peak_utilisation:.2f}), "
            f"{t.nodes_not_ready:,} nodes NotReady, {t.dns_failures:,} failed DNS lookups"
            for t in down
        )
    results = tuple(
        ClusterResult(
            t.name,
            t.nodes,
            t.coverage,
            t.peak_utilisation,
            t.dns_failures,
            cluster_state(t, rolled_back=t.name in touched),
            t.timeline,
        )
        for t in truths
    )
    return RehearsalReport(strategy, outcome, reason, results, tuple(steps), duration, rollback)


def _manifests(fleet_file: RehearsalFile, cluster: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not fleet_file.manifests:
        return [dict(DEFAULT_WORKLOAD)]
    return wiring.render_manifests(fleet_file.manifest_paths(), {**fleet_file.values, **values}, cluster)


def _naive(fleet: RehearsalFleet, manifests: Mapping[str, list[dict[str, Any]]]) -> list[RehearsalStep]:
    steps = []
    for cluster in fleet.clusters():
        for manifest in manifests[cluster.name]:
            cluster.apply(manifest, field_manager="kubectl")
        payload = {"action": "apply", "cluster": cluster.name, "objects": len(manifests[cluster.name])}
        steps.append(RehearsalStep(0.0, "step", payload))
    return steps


def _guarded(
    fleet: RehearsalFleet,
    fleet_file: RehearsalFile,
    manifests: Mapping[str, list[dict[str, Any]]],
    started: datetime,
    duration: float,
) -> tuple[list[RehearsalStep], str, str, str | None, list[str]]:
    # A simulated fleet has no Prometheus: its PromQL gates are left out of a rehearsal.
    policy = fleet_file.rollout.policy()
    policy = replace(policy, gates=replace(policy.gates, promql=()))
    clusters: dict[str, Cluster] = {c.name: c for c in fleet.clusters()}
    store = wiring.memory_run_store(fleet.clock)
    parse_apiserver, parse_dns = wiring.rollout_metrics_parsers()
    rollout = Rollout(
        targets={name: ClusterTarget.of(cluster, manifests[name], policy) for name, cluster in clusters.items()},
        policy=policy,
        clock=fleet.clock,
        store=store,
        actor=ACTOR,
        parse_apiserver=parse_apiserver,
        parse_dns=parse_dns,
        dns_cache_ttl={c.name: fleet_file.dns_cache_ttl_seconds(c) for c in fleet_file.clusters},
        approvals=Unattended(),
    )
    start(rollout, RUN_ID)
    record = drive(rollout, RUN_ID, until=started + timedelta(seconds=duration))
    state = RolloutState.from_json(record.state["engine"])
    steps = [
        RehearsalStep(
            (parse_iso(event.time) - started).total_seconds(),
            _STEP_KINDS.get(event.kind, event.kind),
            {k: v for k, v in event.payload.items() if k != "run"},
        )
        for event in store.events()
        if "observed" not in event.payload  # every observation is recorded; the report keeps the steps
    ]
    if record.status is RunStatus.RUNNING or state.outcome is None:
        reason = f"simulated time limit {clock_text(duration)} reached while {state.phase.value}"
        # Cut off mid-rollout, the nodes it reached keep the new pods: only a rollback under way counts.
        rolling_back = state.phase in (Phase.ROLLING_BACK, Phase.VERIFYING)
        return steps, "halted", reason, None, list(state.touched) if rolling_back else []
    reason = state.reason + (f"; rollback {state.rollback}" if state.rollback else "")
    rolled_back = [] if state.outcome.value == "completed" else list(state.touched)
    return steps, state.outcome.value, reason, state.rollback, rolled_back
