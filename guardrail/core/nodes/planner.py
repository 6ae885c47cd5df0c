"""A cycle's plan from the pool as it is: strata in order, each stratum's nodes (canary first), the GPUs
a replacement must show again, each stratum's budgets and the capacity floor in GPUs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo
from guardrail.core.nodes.capacity import available_gpus, floor_gpus
from guardrail.core.nodes.settings import CycleSettings
from guardrail.core.nodes.state import CycleState, StratumPlan
from guardrail.core.nodes.strata import group_strata


def expected_gpus(nodes: Sequence[NodeInfo]) -> int:
    """What a stratum's nodes have: the most common allocatable GPU count (the larger on a tie), so that one
    node already short of a GPU does not lower the bar for the rest."""
    counts = Counter(node.allocatable_count(GPU_RESOURCE) for node in nodes)
    return max(counts, key=lambda gpus: (counts[gpus], gpus))


def plan_cycle(pool: str, nodes: Sequence[NodeInfo], settings: CycleSettings, now: float) -> CycleState:
    """The plan of a cycle of `nodes` (the pool's nodes, as listed). Raises BadInputError for an empty pool."""
    if not nodes:
        raise BadInputError(f"pool {pool}: no node matches it")
    strata = tuple(
        StratumPlan(key, tuple(n.name for n in members), expected_gpus(members), settings.budgets_for(key))
        for key, members in group_strata(nodes).items()
    )
    total = sum(node.allocatable_count(GPU_RESOURCE) for node in nodes)
    return CycleState(
        pool=pool,
        settings=settings,
        strata=strata,
        total_gpus=total,
        minimum_gpus=floor_gpus(total, settings.capacity_floor),
        started=now,
        cursor=tuple(0 for _ in strata),
        known=frozenset(node.name for node in nodes),
        lowest_available=available_gpus(nodes, ()),
    )
