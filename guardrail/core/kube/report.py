"""The Kubernetes part of a report: each target cluster (version, nodes, how its diff was made, what
changes on it) and the reach of the change's per-node workloads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guardrail.core.change import ACTION_ORDER
from guardrail.core.kube.change import DiffSource, KubeChangeSet
from guardrail.core.kube.reach import Reach


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One target cluster as the report shows it. `nodes` is None when its nodes are unknown."""

    name: str
    version: str | None
    nodes: int | None
    diff_source: DiffSource
    summary: Mapping[str, int]  # changes per action on this cluster, every action present, in ACTION_ORDER


@dataclass(frozen=True)
class KubeReport:
    clusters: tuple[ClusterSummary, ...]
    reach: tuple[Reach, ...]


def kube_report(changes: KubeChangeSet, reach: Sequence[Reach]) -> KubeReport:
    """The clusters of `changes` and the reach of its workloads (NodeReachRule.analyse's records)."""
    clusters = []
    for view in changes.clusters:
        counts = Counter(change.action for change in changes.on(view.name))
        summary = {action.value: counts.get(action, 0) for action in ACTION_ORDER}
        nodes = len(view.nodes) if view.nodes is not None else None
        clusters.append(ClusterSummary(view.name, view.version, nodes, view.diff_source, summary))
    return KubeReport(tuple(clusters), tuple(reach))
