"""Capacity arithmetic: how many GPUs the pool must keep serving, and how many may be out at once.

    total      = the pool's allocatable GPUs when the cycle was planned
    minimum    = ceil(capacity_floor x total)                    (exact: the floor as a decimal fraction)
    available  = sum of allocatable GPUs of the pool's nodes that are Ready, schedulable and not being
                 cycled (a node counts as out from the moment it is picked, before it is even cordoned)
    a node with g GPUs may start only if  available - g >= minimum  (or g = 0: it serves nothing now)

So the batch of a moment is whatever fits the headroom `available - minimum`; a node that failed stays
cordoned and out, which shrinks the headroom for the rest of the cycle.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable
from fractions import Fraction

from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo


def floor_gpus(total: int, capacity_floor: float) -> int:
    """The fewest GPUs the pool may serve: ceil(floor x total), computed on the decimal the user wrote
    (0.9 is 9/10, not the binary float just under it)."""
    return math.ceil(Fraction(repr(capacity_floor)) * total)


def serving(node: NodeInfo) -> bool:
    """Whether a node serves workloads: Ready and schedulable."""
    return node.ready and not node.unschedulable


def serving_gpus(node: NodeInfo) -> int:
    """The GPUs a node serves: its allocatable GPUs when Ready and schedulable, else none."""
    if node.unschedulable or not node.ready:
        return 0
    return node.allocatable_count(GPU_RESOURCE)


def available_gpus(nodes: Iterable[NodeInfo], out: Container[str]) -> int:
    """GPUs that serve: serving GPUs of the nodes not named in `out` (nodes being cycled)."""
    return sum(serving_gpus(node) for node in nodes if node.name not in out)


def fits(available: int, gpus: int, minimum: int) -> bool:
    """Whether taking `gpus` out of `available` keeps the pool at or above `minimum`. A node that serves
    nothing costs nothing: it may always start, even when the pool is already under its floor."""
    return gpus == 0 or available - gpus >= minimum


def share(available: int, total: int) -> float:
    """`available` as a share of `total` (1.0 for a pool without GPUs)."""
    return available / total if total else 1.0
