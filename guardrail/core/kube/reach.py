"""Reach of per-node workloads: how many nodes of each cluster a pod template will run on.

Every DaemonSet, and every other workload whose pod template narrows where it runs (node selector,
required node affinity, tolerations), gets a reach record per cluster whose nodes are known. A DaemonSet
that lands on more than `kubernetes.max_reach` nodes in one step is soft: that is what the fleet canary
(`guardrail rollout`) is for. A template that admits no node at all is reported too: it runs nowhere.

Without a node inventory (offline, no --nodes) there is no reach record, never a zero, and a DaemonSet
gets an advisory note that its reach is unknown. Advisory, and not an unknown-outcome finding: that would
need an approval for every DaemonSet checked offline, which trains reviewers to approve blindly; the
record's absence and the note's words ("up to the whole cluster") keep it from passing for a small reach.
With a context or --nodes the reach is known and the soft finding applies.

Speed: 5,000 workloads against 5,000 nodes must stay far inside the gate's two seconds. Node labels carry
per-node values (kubernetes.io/hostname), so nodes are grouped by what a placement reads (the labels it
names, the taints, cordoning, and the name only for matchFields) and a placement is decided once per
group, and once per distinct placement per cluster.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from guardrail.core.change import Action
from guardrail.core.kube.change import KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.rule_catalog import KUBE_RULE_DESCRIPTIONS, NODE_REACH
from guardrail.core.kube.scheduling import Placement
from guardrail.core.kube.wording import cluster_phrase, plural
from guardrail.core.kube.workloads import is_daemonset, pod_spec
from guardrail.core.verdict import Enforcement, Finding

DEFAULT_MAX_REACH = 100


@dataclass(frozen=True, slots=True)
class Reach:
    """A workload's reach on one cluster: it may run on `nodes` of the cluster's `total` nodes."""

    address: str
    cluster: str
    nodes: int
    total: int

    def as_dict(self) -> dict[str, str | int]:
        """The JSON record of the gate's `reach` list."""
        return {"address": self.address, "cluster": self.cluster, "nodes": self.nodes, "total": self.total}


class NodeIndex:
    """The nodes of one cluster, grouped so that each placement is decided once per distinct node shape."""

    def __init__(self, nodes: Sequence[NodeInfo]) -> None:
        self.total = len(nodes)
        self._nodes = tuple(nodes)
        self._shapes: dict[tuple[tuple[str, ...], bool], list[tuple[NodeInfo, int]]] = {}
        self._admitted: dict[Hashable, int] = {}

    def admitted(self, placement: Placement) -> int:
        """How many nodes admit a pod of this placement."""
        key = _placement_key(placement)
        count = self._admitted.get(key)
        if count is None:
            count = sum(n for node, n in self._shapes_read_by(placement) if placement.admits(node))
            self._admitted[key] = count
        return count

    def _shapes_read_by(self, placement: Placement) -> list[tuple[NodeInfo, int]]:
        label_keys, by_name = _what_it_reads(placement)
        shapes = self._shapes.get((label_keys, by_name))
        if shapes is None:
            first: dict[Hashable, NodeInfo] = {}
            counts: dict[Hashable, int] = {}
            for node in self._nodes:
                labels = node.labels
                shape = (
                    tuple(labels.get(key) for key in label_keys),
                    node.taints,
                    node.unschedulable,
                    node.name if by_name else None,
                )
                if shape in counts:
                    counts[shape] += 1
                else:
                    counts[shape], first[shape] = 1, node
            shapes = [(first[shape], n) for shape, n in counts.items()]
            self._shapes[(label_keys, by_name)] = shapes
        return shapes


@dataclass(frozen=True)
class ReachAnalysis:
    """The reach records of a change set and the findings they lead to."""

    reaches: tuple[Reach, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class NodeReachRule:
    """Reach of per-node workloads; `max_reach` comes from `kubernetes.max_reach` in guardrail.yaml."""

    max_reach: int = DEFAULT_MAX_REACH
    id: str = NODE_REACH
    description: str = KUBE_RULE_DESCRIPTIONS[NODE_REACH]

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        return self.analyse(changes).findings

    def analyse(self, changes: KubeChangeSet) -> ReachAnalysis:
        """Reach records for every workload that runs per node or narrows where it runs, and the findings."""
        indexes = NodeIndexes(changes)
        reaches: list[Reach] = []
        findings: list[Finding] = []
        for change in changes.changes:
            if change.action in (Action.DELETE, Action.NO_OP) or change.after is None:
                continue
            spec = pod_spec(change.ref, change.after)
            if spec is None:
                continue
            daemonset = is_daemonset(change.ref)
            placement = Placement.of_template(spec, daemonset=daemonset)
            if not (daemonset or placement.constrained):
                continue
            address, where = change.ref.address, cluster_phrase(change.cluster)
            index = indexes.of(change.cluster)
            if index is None:
                if daemonset:
                    findings.append(Finding(self.id, Enforcement.ADVISORY, address, _unknown_reach(where)))
                continue
            count = index.admitted(placement)
            reaches.append(Reach(address, change.cluster, count, index.total))
            if count == 0 and index.total:
                message = (
                    f"its pod template admits none of the {plural(index.total, 'node')} of {where} (node selector, "
                    "required node affinity or taints it does not tolerate): it would run nowhere"
                )
                findings.append(Finding(self.id, Enforcement.ADVISORY, address, message))
            elif daemonset and count > self.max_reach and rolls_every_pod(change):
                message = (
                    f"reaches {count:,} of {plural(index.total, 'node')} of {where} in one step, more than "
                    f"kubernetes.max_reach ({self.max_reach:,}): roll it out with `guardrail rollout` (the fleet "
                    "canary), node batch by node batch"
                )
                findings.append(Finding(self.id, Enforcement.SOFT, address, message))
        return ReachAnalysis(tuple(reaches), tuple(findings))


class NodeIndexes:
    """One NodeIndex per cluster of a change set, built when first asked for; None where nodes are unknown."""

    def __init__(self, changes: KubeChangeSet) -> None:
        self._changes = changes
        self._indexes: dict[str, NodeIndex | None] = {}

    def of(self, cluster: str) -> NodeIndex | None:
        if cluster not in self._indexes:
            view = self._changes.cluster(cluster)
            nodes = view.nodes if view is not None else None
            self._indexes[cluster] = NodeIndex(nodes) if nodes is not None else None
        return self._indexes[cluster]


def rolls_every_pod(change: KubeChange) -> bool:
    """Whether applying the change starts a pod on every node reached: a create does; an update does when
    it changes the pod template (or may: no diff known) of a DaemonSet that is not OnDelete."""
    if change.action is not Action.UPDATE:
        return True
    strategy = _dig(change.after, "spec", "updateStrategy", "type")
    if strategy == "OnDelete":
        return False  # pods change only as they are deleted: what the fleet canary does, batch by batch
    return not change.changed_paths or any(p.startswith("spec.template") for p in change.changed_paths)


def _unknown_reach(where: str) -> str:
    return (
        f"reach unknown on {where}: no node inventory (give --nodes with `kubectl get nodes -o json`, or a "
        "--context); a DaemonSet runs a pod on every node that admits it, up to the whole cluster"
    )


def _what_it_reads(placement: Placement) -> tuple[tuple[str, ...], bool]:
    keys = set(placement.node_selector)
    by_name = False
    for term in placement.affinity_terms:
        for key, _, _, is_field in term:
            if is_field:
                by_name = True
            else:
                keys.add(key)
    return tuple(sorted(keys)), by_name


def _placement_key(placement: Placement) -> Hashable:
    tolerations = tuple(tuple(sorted((str(k), str(v)) for k, v in t.items())) for t in placement.tolerations)
    return (tuple(sorted(placement.node_selector.items())), placement.affinity_terms, tolerations, placement.daemonset)


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value
