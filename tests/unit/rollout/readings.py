"""Readings and a fake fleet for the engine's tests: a reading is built by hand from a few numbers, and
FakeFleet answers the machine's actions the way clusters would (time, pods, API cost)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from guardrail.core.rollout.machine import Transition, advance
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.readings import ApiServerSample, ClusterReading, DnsSample, FlowSample, WorkloadPods
from guardrail.core.rollout.state import Acted, Action, ActionKind, Event, Observed, RolloutState, Tick

T0 = datetime(2024, 12, 11, 15, 0, tzinfo=UTC)
FLOW = "guardrail-workload-telemetry-telemetry-agent"


def reading(
    cluster: str = "a",
    at: datetime = T0,
    *,
    utilisation: float = 0.2,
    seats: float = 200.0,
    execution: float = 0.0,
    objects: float = 1000.0,
    expected: int = 0,
    ready: int = 0,
    restarts: int = 0,
    nodes: int = 10,
    nodes_ready: int | None = None,
    dns_failures: float = 0.0,
    throttled: float = 0.0,
    rejected: float = 0.0,
    latency: tuple[tuple[float, float], ...] = (),
    api_ready: bool = True,
) -> ClusterReading:
    sample = ApiServerSample(
        seats=seats,
        executing_seats=utilisation * seats,
        rejected_total=rejected,
        throttled_total=throttled,
        latency_buckets=latency,
        objects=objects,
        flows={FLOW: FlowSample(dispatched_total=execution * 10, execution_seconds_total=execution)},
    )
    return ClusterReading(
        cluster=cluster,
        at=at,
        api_ready=api_ready,
        apiserver=sample,
        nodes=nodes,
        nodes_ready=nodes if nodes_ready is None else nodes_ready,
        workload=WorkloadPods(expected, ready, restarts),
        dns=DnsSample(2, 2, 1000.0, dns_failures),
    )


@dataclass
class FakeCluster:
    """A cluster as the machine sees it: pods cost `cost_per_pod` seats each, at `objects` objects."""

    name: str
    nodes: int
    cost_per_pod: float
    objects: float
    seats: float = 200.0
    baseline: float = 0.2
    labelled: int = 0
    execution: float = 0.0
    broken_after: int | None = None  # nodes go NotReady once this many pods run
    latched: bool = False  # once broken, stays broken (a rollback does not help)
    broken: bool = False


@dataclass
class FakeFleet:
    """Answers the machine's actions; records what it was asked to do."""

    clusters: dict[str, FakeCluster]
    policy: RolloutPolicy
    now: datetime = T0
    actions: list[tuple[ActionKind, str | None, int, datetime]] = field(default_factory=list)
    refuse: set[ActionKind] = field(default_factory=set)

    def run(self, state: RolloutState, limit: int = 10_000) -> tuple[RolloutState, list[Transition]]:
        """Drive the machine until it is done; returns the final state and every transition."""
        event: Event = Tick(self.now)
        transitions: list[Transition] = []
        for _ in range(limit):
            transition = advance(state, event, self.policy)
            transitions.append(transition)
            state = transition.state
            action = transition.action
            if action.kind in (ActionKind.DONE, ActionKind.PAUSE):
                return state, transitions
            event = self.answer(action)
        raise AssertionError("the machine never finished")

    def answer(self, action: Action) -> Event:
        if action.kind is ActionKind.SOAK:
            self._elapse(action.seconds)
            return Tick(self.now)
        if action.kind is ActionKind.OBSERVE:
            return Observed(self.now, tuple(self.reading(name) for name in action.clusters))
        self.actions.append((action.kind, action.cluster, action.step.nodes if action.step else 0, self.now))
        if action.kind in self.refuse:
            return Acted(self.now, action, ok=False, detail="refused")
        cluster = self.clusters[str(action.cluster)]
        if action.kind is ActionKind.LABEL_NODES:
            assert action.step is not None
            cluster.labelled = action.step.nodes
        elif action.kind is ActionKind.ROLL_BACK:
            cluster.labelled = 0
        return Acted(self.now, action)

    def reading(self, name: str) -> ClusterReading:
        c = self.clusters[name]
        broken_now = c.broken_after is not None and c.labelled >= c.broken_after
        c.broken = broken_now or (c.latched and c.broken)
        broken = c.broken
        return reading(
            name,
            self.now,
            utilisation=c.baseline + c.labelled * c.cost_per_pod / c.seats,
            seats=c.seats,
            execution=c.execution,
            objects=c.objects + c.labelled,
            expected=c.labelled,
            ready=c.labelled,
            nodes=c.nodes,
            nodes_ready=0 if broken else c.nodes,
        )

    def _elapse(self, seconds: float) -> None:
        for c in self.clusters.values():
            c.execution += c.labelled * c.cost_per_pod * seconds
        self.now += timedelta(seconds=seconds)
