"""A rehearsal: the engine run against a simulated fleet, and the report of what happened.

The report's JSON is a contract (`guardrail rollout rehearse --format json`):
  {"outcome": "completed" | "halted" | "rolled-back", "reason": str,
   "clusters": [{"name", "nodes", "coverage", "peak_utilisation", "dns_failures", "state"}],
   "steps": [{"at", "kind", "cluster", ...}]}
`coverage` is the share of nodes running the new pods at the end; `peak_utilisation` and `dns_failures`
are the simulator's truth, which the engine never reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from guardrail.core.audit import AuditEvent
from guardrail.core.clock import Clock
from guardrail.core.kube.cluster import Cluster
from guardrail.core.runs import RunStore


class Strategy(StrEnum):
    GUARDED = "guarded"  # the engine: canary, batches, gates, load projection, rollback
    NAIVE = "naive"  # every node of every cluster at once, as `kubectl apply` across contexts would


class ClusterState(StrEnum):
    """How a rehearsed cluster ended: `down` (the simulator's truth) wins over the rollout's word."""

    COMPLETED = "completed"
    NOT_STARTED = "not-started"
    PARTIAL = "partial"  # some nodes run the new pods
    ROLLED_BACK = "rolled-back"
    DOWN = "down"  # API server failing, nodes NotReady or DNS answers failing


@dataclass(frozen=True, slots=True)
class ClusterTruth:
    """What only the simulator knows about a cluster at the end of a rehearsal."""

    name: str
    nodes: int
    coverage: float
    peak_utilisation: float
    utilisation: float
    dns_failures: int
    nodes_not_ready: int
    down: bool
    timeline: tuple[float, ...] = ()  # API server utilisation, one sample a simulated minute


class RehearsalFleet(Protocol):
    """A simulated fleet: clusters behind the cluster port, a clock that advances them, and the truth."""

    @property
    def clock(self) -> Clock:
        """The simulated clock: sleeping on it advances the fleet."""
        ...

    def clusters(self) -> list[Cluster]:
        """The clusters, in the fleet file's order."""
        ...

    def run(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass."""
        ...

    def truth(self) -> list[ClusterTruth]:
        """Each cluster's truth now, in the fleet file's order."""
        ...


class RehearsalStore(RunStore, Protocol):
    """A run store whose audit events the rehearsal reads back for its report."""

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        """Every event with seq > `after_seq`, in seq order."""
        ...


@dataclass(frozen=True, slots=True)
class ClusterResult:
    name: str
    nodes: int
    coverage: float
    peak_utilisation: float
    dns_failures: int
    state: ClusterState
    timeline: tuple[float, ...] = ()  # utilisation a simulated minute (for people; not in the JSON)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": self.nodes,
            "coverage": round(self.coverage, 4),
            "peak_utilisation": round(self.peak_utilisation, 4),
            "dns_failures": self.dns_failures,
            "state": self.state.value,
        }


@dataclass(frozen=True, slots=True)
class RehearsalStep:
    """One recorded step, measurement or decision, at `elapsed` simulated seconds from the start."""

    elapsed: float
    kind: str
    payload: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"at": clock_text(self.elapsed), "kind": self.kind, **self.payload}


@dataclass(frozen=True, slots=True)
class RehearsalReport:
    strategy: Strategy
    outcome: str
    reason: str
    clusters: tuple[ClusterResult, ...]
    steps: tuple[RehearsalStep, ...]
    duration_seconds: float
    rollback: str | None = None

    @property
    def succeeded(self) -> bool:
        """Completed with no cluster down: exit 0."""
        return self.outcome == "completed" and all(c.state is not ClusterState.DOWN for c in self.clusters)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "clusters": [c.to_json() for c in self.clusters],
            "steps": [s.to_json() for s in self.steps],
        }


def cluster_state(truth: ClusterTruth, *, rolled_back: bool) -> ClusterState:
    if truth.down:
        return ClusterState.DOWN
    if rolled_back:
        return ClusterState.ROLLED_BACK
    if truth.coverage >= 1.0:
        return ClusterState.COMPLETED
    return ClusterState.PARTIAL if truth.coverage > 0 else ClusterState.NOT_STARTED


def clock_text(seconds: float) -> str:
    """Simulated time since the start, `H:MM:SS`."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def halted_where(steps: Sequence[RehearsalStep]) -> Mapping[str, Any] | None:
    """The decision that stopped the rollout (halt or roll-back), when one did."""
    return next(
        (s.payload for s in steps if s.kind == "decision" and s.payload.get("decision") in ("halt", "roll-back")),
        None,
    )
