"""A rollout's plan: the clusters smallest first, and per cluster its node batches and soaks.

A step is cumulative: "10%" means that after it a tenth of the cluster's nodes run the new pods. Steps
that would cover no more nodes than the one before (1% of 50 nodes is the canary's one node) are left
out, so every step widens.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.errors import BadInputError
from guardrail.core.rollout.policy import RolloutPolicy


@dataclass(frozen=True, slots=True)
class ClusterTarget:
    """A cluster as the plan needs it: the nodes the DaemonSet reaches, and its DNS cache lifetime."""

    name: str
    nodes: int
    dns_cache_ttl_seconds: float | None = None  # None: the policy's default


@dataclass(frozen=True, slots=True)
class Step:
    """One widening of one cluster: after it, `nodes` nodes run the new pods."""

    index: int
    label: str  # "canary", "1%", "10%", ..., "100%"
    nodes: int
    soak_seconds: float
    cluster_wide: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "label": self.label,
            "nodes": self.nodes,
            "soak_seconds": self.soak_seconds,
            "cluster_wide": self.cluster_wide,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            int(data["index"]),
            str(data["label"]),
            int(data["nodes"]),
            float(data["soak_seconds"]),
            bool(data["cluster_wide"]),
        )


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    name: str
    nodes: int
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "nodes": self.nodes, "steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterPlan:
        return cls(str(data["name"]), int(data["nodes"]), tuple(Step.from_json(s) for s in data["steps"]))


def validate_batches(batches: Sequence[float]) -> None:
    """Raises BadInputError unless the shares increase strictly within (0, 1] and end at 1.0."""
    if not batches:
        raise BadInputError("rollout.batches: needs at least one share, ending with 1.0")
    if any(not 0 < share <= 1 for share in batches):
        raise BadInputError("rollout.batches: every share must be above 0 and at most 1")
    if any(later <= earlier for earlier, later in itertools.pairwise(batches)):
        raise BadInputError("rollout.batches: shares must increase")
    if batches[-1] != 1.0:
        raise BadInputError("rollout.batches: the last share must be 1.0 (every node)")


def cluster_steps(target: ClusterTarget, policy: RolloutPolicy) -> tuple[Step, ...]:
    """The steps of one cluster: a canary of `canary_nodes`, then each share of its nodes."""
    validate_batches(policy.batches)
    if target.nodes <= 0:
        return ()
    ttl = policy.dns_cache_ttl_seconds if target.dns_cache_ttl_seconds is None else target.dns_cache_ttl_seconds
    wanted = [("canary", min(policy.canary_nodes, target.nodes))]
    wanted += [(_percent(share), max(1, math.ceil(share * target.nodes))) for share in policy.batches]
    steps: list[Step] = []
    for label, count in wanted:
        if steps and count <= steps[-1].nodes:
            continue
        cluster_wide = count >= target.nodes
        soak = max(policy.soak_seconds, ttl) if cluster_wide else policy.soak_seconds
        steps.append(Step(len(steps), label, count, soak, cluster_wide))
    return tuple(steps)


def plan_fleet(targets: Iterable[ClusterTarget], policy: RolloutPolicy) -> tuple[ClusterPlan, ...]:
    """Clusters smallest first (by the nodes the DaemonSet reaches; ties by name), each with its steps.

    A cluster the DaemonSet reaches no node of gets no steps: there is nothing to roll out there.
    """
    ordered = sorted(targets, key=lambda t: (t.nodes, t.name))
    return tuple(ClusterPlan(t.name, t.nodes, cluster_steps(t, policy)) for t in ordered)


def _percent(share: float) -> str:
    return f"{share * 100:g}%"
