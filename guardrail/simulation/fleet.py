"""A simulated fleet and its clock: sleeping advances every cluster in ticks, so six simulated hours
take a fraction of a second and nothing ever waits on the wall clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from guardrail.core.kube.cluster import Cluster
from guardrail.core.rollout.rehearsal import ClusterTruth
from guardrail.simulation.cluster import SimulatedCluster
from guardrail.simulation.spec import FleetSpec
from guardrail.simulation.world import World

# Where simulated time starts: fixed, so that two rehearsals of one fleet and seed are identical.
EPOCH = datetime(2024, 12, 11, 15, 0, tzinfo=UTC)
TICK_SECONDS = 10.0
SAMPLE_SECONDS = 60.0  # the truth's utilisation is sampled this often, for the reports' timelines


class SimulatedClock:
    """The Clock port over a fleet: `sleep` advances the simulation."""

    def __init__(self, fleet: SimulatedFleet) -> None:
        self._fleet = fleet

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self._fleet.elapsed)

    def sleep(self, seconds: float) -> None:
        self._fleet.run(seconds)


@dataclass
class SimulatedFleet:
    """Every cluster of a FleetSpec, advanced together."""

    spec: FleetSpec
    refuse: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.elapsed = 0.0
        self.simulated: list[SimulatedCluster] = [
            SimulatedCluster(World(c, self.spec.calls, self.spec.cost, EPOCH, self.spec.seed), refuse=self.refuse)
            for c in self.spec.clusters
        ]
        self.clock = SimulatedClock(self)
        self.timelines: dict[str, list[float]] = {c.name: [] for c in self.simulated}
        self._next_sample = 0.0
        self.run(0.0)

    def clusters(self) -> list[Cluster]:
        return list(self.simulated)

    def cluster(self, name: str) -> SimulatedCluster:
        return next(c for c in self.simulated if c.name == name)

    def run(self, seconds: float) -> None:
        """Let `seconds` pass, in ticks of at most TICK_SECONDS (a first zero-length tick sets the gauges)."""
        remaining = max(seconds, 0.0)
        while True:
            step = min(remaining, TICK_SECONDS)
            for cluster in self.simulated:
                cluster.world.advance(step)
            self.elapsed += step
            remaining -= step
            while self.elapsed >= self._next_sample:
                for cluster in self.simulated:
                    self.timelines[cluster.name].append(cluster.world.api.utilisation)
                self._next_sample += SAMPLE_SECONDS
            if remaining <= 1e-9:
                return

    def truth(self) -> list[ClusterTruth]:
        """What only the simulator knows, for the rehearsal's report."""
        results = []
        for cluster in self.simulated:
            world = cluster.world
            new_pods = {pod.node for pod in world.pods.values() if pod.workload}
            nodes = len(world.node_labels)
            down = world.api.failing(world.now) or not world.nodes_ready or world.dns_failing()
            results.append(
                ClusterTruth(
                    name=cluster.name,
                    nodes=nodes,
                    coverage=len(new_pods) / nodes if nodes else 0.0,
                    peak_utilisation=world.api.peak_utilisation,
                    utilisation=world.api.utilisation,
                    dns_failures=int(world.dns_failures),
                    nodes_not_ready=0 if world.nodes_ready else nodes,
                    down=down,
                    timeline=tuple(self.timelines[cluster.name]),
                )
            )
        return results
