"""How many nodes of each cluster a change's pod templates will run on: the `reach` of a report.

Every DaemonSet, and every other workload whose template narrows where it runs (node selector, required node
affinity, tolerations), against the cluster's nodes (live, or `--nodes` offline). Templates with the same
placement are matched once: a fleet of 5,000 nodes and thousands of workloads share a few dozen placements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.scheduling import Placement
from guardrail.core.kube.workloads import pod_spec

# Actions after which the template runs: a delete removes its pods (the blast radius counts those).
_RUNNING = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NO_OP})


@dataclass(frozen=True, slots=True)
class ReachRecord:
    """The nodes of one cluster that one workload's pods will run on. `nodes` and `total` are None when the
    cluster's nodes are unknown (offline without --nodes): never read as zero."""

    address: str
    cluster: str
    nodes: int | None
    total: int | None


def is_daemonset(manifest: Mapping[str, Any]) -> bool:
    return manifest.get("kind") == "DaemonSet"


def placement_of(manifest: Mapping[str, Any]) -> Placement | None:
    """The placement of a workload's pod template; None when it has none or does not narrow where it runs
    (a plain Deployment may land on any node: its reach is its replica count, not a node set)."""
    spec = pod_spec(manifest)
    if spec is None:
        return None
    placement = Placement.of_template(spec, daemonset=is_daemonset(manifest))
    return placement if placement.daemonset or placement.constrained else None


@dataclass
class NodeCounter:
    """Counts the nodes a placement admits, once per distinct placement."""

    nodes: Sequence[NodeInfo]
    _seen: dict[Any, int] = field(default_factory=dict)

    def count(self, placement: Placement) -> int:
        key = _key(placement)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = sum(1 for node in self.nodes if placement.admits(node))
        return found


def reach_records(changes: KubeChangeSet) -> tuple[ReachRecord, ...]:
    """A record per workload change that will run pods with a placement (see placement_of), per cluster."""
    with_cluster = qualified(changes)
    counters = {view.name: NodeCounter(view.nodes) for view in changes.clusters if view.nodes is not None}
    records = []
    for change in changes.changes:
        placement = _running_placement(change)
        if placement is None:
            continue
        counter = counters.get(change.cluster)
        nodes = counter.count(placement) if counter is not None else None
        total = len(counter.nodes) if counter is not None else None
        records.append(ReachRecord(change_address(change, with_cluster=with_cluster), change.cluster, nodes, total))
    return tuple(records)


def _running_placement(change: KubeChange) -> Placement | None:
    if change.action not in _RUNNING or change.after is None:
        return None
    return placement_of(change.after)


def _key(placement: Placement) -> Any:
    return (
        tuple(sorted(placement.node_selector.items())),
        placement.affinity_terms,
        tuple(tuple(sorted((str(k), str(v)) for k, v in t.items())) for t in placement.tolerations),
        placement.daemonset,
    )
