"""What a rollout looks like now, for `guardrail rollout status` and the TUI's Rollouts screen: each
cluster's step, coverage and latest gates, the API server's utilisation as observed (from the
measurement events of the audit log), the last projection with its arithmetic, and what to approve
when the run waits for approvals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guardrail.core.audit import AuditEvent, EventKind
from guardrail.core.errors import BadInputError
from guardrail.core.rollout.gates import GateResult
from guardrail.core.rollout.plan import ClusterPlan
from guardrail.core.rollout.state import Outcome, Phase, RolloutState
from guardrail.core.rollout.widen import deployed_pods
from guardrail.core.runs import RunKind, RunRecord

HISTORY = 120  # observations of utilisation kept per cluster for a sparkline (two hours at one a minute)


@dataclass(frozen=True)
class ClusterProgress:
    """One cluster of a rollout."""

    name: str
    nodes: int  # the nodes the DaemonSet reaches (the plan's)
    steps: tuple[str, ...]
    step: str | None  # the last step taken, None before the canary
    deployed: int  # nodes running the new pods by the steps taken
    state: str  # waiting | prepared | rolling | done | rolled back
    gates: tuple[GateResult, ...]
    utilisation: tuple[float, ...]  # observed, oldest first

    @property
    def coverage(self) -> float:
        return self.deployed / self.nodes if self.nodes else 0.0


@dataclass(frozen=True)
class RunView:
    """A rollout run as people follow it."""

    record: RunRecord
    state: RolloutState
    clusters: tuple[ClusterProgress, ...]
    projection: Mapping[str, Any] | None  # the last decision that projected the load (widen, halt, await)
    fingerprint: str | None  # what `guardrail approve` needs while the run waits for approvals

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def where(self) -> str:
        """The cluster and step it is at, `dev-1 10%`, or what it does."""
        if self.state.awaiting is not None:
            return f"awaiting approval to widen {self.state.awaiting['cluster']} to {self.state.awaiting['step']}"
        here = next((c for c in self.clusters if c.state == "rolling"), None)
        if here is not None:
            return f"{here.name} {here.step}"
        return self.state.phase.value


def rollout_runs(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """The rollouts among `runs`, newest first."""
    return sorted((r for r in runs if r.kind is RunKind.ROLLOUT), key=lambda r: r.created_at, reverse=True)


def run_view(record: RunRecord, events: Iterable[AuditEvent]) -> RunView:
    """The view of a rollout run from its record and the audit events (of every run; its own are picked).
    Raises BadInputError for a run that is not a rollout."""
    if record.kind is not RunKind.ROLLOUT:
        raise BadInputError(f"run {record.id} is a {record.kind.value}, not a rollout")
    state = RolloutState.from_json(record.state["engine"])
    history: dict[str, list[float]] = {c.name: [] for c in state.plan}
    projection: Mapping[str, Any] | None = None
    fingerprint: str | None = None
    for event in events:
        if event.kind not in (EventKind.ROLLOUT_MEASUREMENT, EventKind.ROLLOUT_DECISION):
            continue
        payload = event.payload
        if not isinstance(payload, dict) or payload.get("run") != record.id:
            continue
        for seen in payload.get("observed", ()):
            if seen.get("utilisation") is not None and seen.get("cluster") in history:
                history[seen["cluster"]].append(float(seen["utilisation"]))
        if "fleet" in payload or payload.get("projection") == "none yet":
            projection = payload
        if payload.get("decision") == "await-approval":
            fingerprint = payload.get("fingerprint")
    clusters = tuple(_progress(state, c, history[c.name][-HISTORY:]) for c in state.plan)
    awaiting = fingerprint if state.phase is Phase.AWAITING_APPROVAL else None
    return RunView(record, state, clusters, projection, awaiting)


def _progress(state: RolloutState, cluster: ClusterPlan, utilisation: list[float]) -> ClusterProgress:
    deployed = deployed_pods(state, cluster)
    index = state.plan.index(cluster)
    done = state.position[1] if index == state.position[0] else (len(cluster.steps) - 1 if deployed else -1)
    step = cluster.steps[done].label if done >= 0 and cluster.steps else None
    rolled_back = state.outcome in (Outcome.ROLLED_BACK, Outcome.HALTED) and cluster.name in state.touched
    if rolled_back and state.phase in (Phase.FINISHED, Phase.VERIFYING, Phase.ROLLING_BACK):
        where = "rolled back" if cluster.name not in state.rollback_pending else "rolling back"
    elif cluster.steps and deployed >= cluster.nodes:
        where = "done"
    elif deployed:
        where = "rolling"
    else:
        where = "prepared" if cluster.name in state.prepared else "waiting"
    return ClusterProgress(
        cluster.name,
        cluster.nodes,
        tuple(s.label for s in cluster.steps),
        step,
        0 if where.startswith("rolled") else deployed,
        where,
        state.gates.get(cluster.name, ()),
        tuple(utilisation),
    )
