"""How a planned cycle will batch, worked out by the engine's own admission (admission.admit) on the pool
as it is now: the canaries that start first, and how many nodes each stratum takes at once after its
canary passed. A plan shows it; nothing is started."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.nodes.actions import Observation
from guardrail.core.nodes.admission import admit
from guardrail.core.nodes.records import NodeStatus
from guardrail.core.nodes.state import CycleState


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The capacity headroom (GPUs that may be out of service at once), the canaries that start first, and
    per stratum (in the plan's order) how many of its nodes are in hand at once once every canary passed."""

    available: int
    headroom: int
    canaries: tuple[str, ...]
    widened: tuple[int, ...]

    @property
    def widest(self) -> int:
        """Nodes in hand at once across the pool once every canary passed."""
        return sum(self.widened)


def plan_batches(state: CycleState, nodes: Iterable[NodeInfo]) -> BatchPlan:
    """The batches of the planned `state` over the pool's `nodes` as listed."""
    observation = Observation.read(state.started, nodes, lambda _labels: True)
    available = observation.available_gpus(())
    first, _, canaries, _ = admit(state, observation, available, state.started)
    # Every canary back healthy and serving again: the headroom is the whole headroom once more.
    passed = first.with_progress(replace(first.nodes[name], status=NodeStatus.DONE) for name in canaries)
    wide, _, widened, _ = admit(passed, observation, available, state.started)
    per_stratum = Counter(wide.nodes[name].stratum for name in widened)
    return BatchPlan(
        available=available,
        headroom=max(0, available - state.minimum_gpus),
        canaries=tuple(canaries),
        widened=tuple(per_stratum[index] for index in range(len(state.strata))),
    )
