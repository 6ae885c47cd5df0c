"""Reach of per-node workloads: how many nodes of each cluster a pod template will run on.

One computation gives both the report's `reach` records and the reach rule's findings. Every DaemonSet, and
every other workload whose pod template narrows where it runs (node selector, required node affinity,
tolerations), gets a record per cluster for each change after which it runs (create, update, no-op). A
DaemonSet that lands on more than `kubernetes.max_reach` nodes in one step is soft: that is what the fleet
canary (`guardrail rollout`) is for. A template that admits no node at all is reported too: it runs nowhere.

Without a node inventory (offline, no --nodes) a record says `nodes: null`, never a zero, and a DaemonSet
gets an advisory note that its reach is unknown. Advisory, and not an unknown-outcome finding: that would
need an approval for every DaemonSet checked offline, which trains reviewers to approve blindly; the
record's null and the note's words ("up to the whole cluster") keep it from passing for a small reach.
With a context or --nodes the reach is known and the soft finding applies.

Speed: 5,000 workloads against 5,000 nodes must stay far inside the gate's two seconds. Node labels carry
per-node values (kubernetes.io/hostname), so nodes are grouped by what a placement reads (the labels it
names, the taints, cordoning, and the name only for matchFields) and a placement is decided once per
group, and once per distinct placement per cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.objects import field_at
from guardrail.core.kube.rule_catalog import NODE_REACH
from guardrail.core.kube.scheduling import Placement
from guardrail.core.kube.wording import cluster_phrase, plural
from guardrail.core.kube.workloads import pod_spec
from guardrail.core.verdict import Enforcement, Finding

DEFAULT_MAX_REACH = 100
_FEW_TAINT_SETS = 8


# Actions after which the template runs: a delete removes its pods (the blast radius counts those).
_RUNNING = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NO_OP})


@dataclass(frozen=True, slots=True)
class Reach:
    """A workload's reach on one cluster: it may run on `nodes` of the cluster's `total` nodes. Both are None
    when the cluster's nodes are unknown (offline without --nodes): never read as zero. `address` carries the
    cluster prefix when several clusters are targeted, as every address of the change does."""

    address: str
    cluster: str
    nodes: int | None
    total: int | None

    def as_dict(self) -> dict[str, str | int | None]:
        """The JSON record of the gate's `reach` list."""
        return {"address": self.address, "cluster": self.cluster, "nodes": self.nodes, "total": self.total}


def placement_of(manifest: Mapping[str, Any]) -> Placement | None:
    """The placement of a workload's pod template; None when it has none or does not narrow where it runs
    (a plain Deployment may land on any node: its reach is its replica count, not a node set)."""
    spec = pod_spec(manifest)
    if spec is None:
        return None
    placement = Placement.of_template(spec, daemonset=manifest.get("kind") == "DaemonSet")
    return placement if placement.daemonset or placement.constrained else None


class NodeIndex:
    """The nodes of one cluster, read so that a placement is decided once per distinct node shape.

    A node is decided by three things: its labels as the placement reads them (and its name, for
    matchFields), its taints, and whether it is cordoned. The labels a placement names are read into
    columns once per label; nodes are then counted by (label values, taint set, cordoned), each label shape
    decided once per selector and affinity, each taint set once per set of tolerations.
    """

    def __init__(self, nodes: Sequence[NodeInfo]) -> None:
        self.total = len(nodes)
        self._nodes = tuple(nodes)
        taint_sets: dict[tuple[Taint, ...], int] = {}
        self._taint_ids = [taint_sets.setdefault(node.taints, len(taint_sets)) for node in self._nodes]
        self._taint_sets = tuple(taint_sets)
        self._cordoned = [node.unschedulable for node in self._nodes]
        self._columns: dict[str, list[str | None]] = {}
        # (label keys, by name) -> (label values[, name], taint set id, cordoned) -> nodes
        self._shapes: dict[tuple[tuple[str, ...], bool], Counter[tuple[Any, ...]]] = {}
        # selector and affinity -> (taint set id, cordoned) -> nodes whose labels they select
        self._selected: dict[Hashable, Counter[tuple[int, bool]]] = {}
        self._tolerated: dict[str, tuple[bool, ...]] = {}  # tolerations -> per taint set

    def admitted(self, placement: Placement) -> int:
        """How many nodes admit a pod of this placement."""
        selected = self._selected_by(placement)
        tolerated = self._tolerated_by(placement)
        daemonset = placement.daemonset
        return sum(n for (taints, cordoned), n in selected.items() if tolerated[taints] and (daemonset or not cordoned))

    def _selected_by(self, placement: Placement) -> Counter[tuple[int, bool]]:
        key = (tuple(sorted(placement.node_selector.items())), placement.affinity_terms)
        selected = self._selected.get(key)
        if selected is None:
            label_keys, by_name = _what_it_reads(placement)
            selected = Counter()
            for shape, n in self._shapes_of(label_keys, by_name).items():
                values = shape[: len(label_keys)]
                labels = {k: v for k, v in zip(label_keys, values, strict=True) if v is not None}
                name = shape[len(label_keys)] if by_name else ""
                if placement.selects(NodeInfo(name, labels)):
                    selected[shape[-2], shape[-1]] += n
            self._selected[key] = selected
        return selected

    def _tolerated_by(self, placement: Placement) -> tuple[bool, ...]:
        if len(self._taint_sets) <= _FEW_TAINT_SETS:
            # Clusters have a handful of taint sets: deciding them is cheaper than any cache key.
            return tuple(placement.tolerates(taints) for taints in self._taint_sets)
        # Equal texts are equal tolerations (YAML scalars): the text keys the decision over many taint sets.
        key = repr(placement.tolerations)
        tolerated = self._tolerated.get(key)
        if tolerated is None:
            tolerated = tuple(placement.tolerates(taints) for taints in self._taint_sets)
            self._tolerated[key] = tolerated
        return tolerated

    def _shapes_of(self, label_keys: tuple[str, ...], by_name: bool) -> Counter[tuple[Any, ...]]:
        shapes = self._shapes.get((label_keys, by_name))
        if shapes is None:
            columns: list[Sequence[Any]] = [self._column(key) for key in label_keys]
            if by_name:
                columns.append([node.name for node in self._nodes])
            shapes = Counter(zip(*columns, self._taint_ids, self._cordoned, strict=True))
            self._shapes[(label_keys, by_name)] = shapes
        return shapes

    def _column(self, key: str) -> list[str | None]:
        column = self._columns.get(key)
        if column is None:
            column = [node.labels.get(key) for node in self._nodes]
            self._columns[key] = column
        return column


@dataclass(frozen=True)
class ReachAnalysis:
    """The reach records of a change set (the report's `reach`) and the findings they lead to."""

    reaches: tuple[Reach, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class NodeReachRule:
    """Reach of per-node workloads; `max_reach` and the weight of its finding come from `kubernetes:` in
    guardrail.yaml. The gate calls `analyse` once and uses both halves; `evaluate` is the KubeRule face."""

    max_reach: int = DEFAULT_MAX_REACH
    enforcement: Enforcement = Enforcement.SOFT
    id: str = NODE_REACH

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        return self.analyse(changes).findings

    def analyse(self, changes: KubeChangeSet) -> ReachAnalysis:
        """A reach record for every change after which a per-node or placed workload runs, and the findings."""
        with_cluster = qualified(changes)
        indexes = NodeIndexes(changes)
        reaches: list[Reach] = []
        findings: list[Finding] = []
        for change in changes.changes:
            placement = _running_placement(change)
            if placement is None:
                continue
            address, where = change_address(change, with_cluster=with_cluster), cluster_phrase(change.cluster)
            index = indexes.of(change.cluster)
            count = index.admitted(placement) if index is not None else None
            reaches.append(Reach(address, change.cluster, count, index.total if index is not None else None))
            if change.action is Action.NO_OP:
                continue  # already running there: nothing new reaches a node
            if index is None or count is None:
                if placement.daemonset:
                    findings.append(Finding(self.id, Enforcement.ADVISORY, address, _unknown_reach(where)))
            elif count == 0 and index.total:
                message = (
                    f"its pod template admits none of the {plural(index.total, 'node')} of {where} (node selector, "
                    "required node affinity or taints it does not tolerate): it would run nowhere"
                )
                findings.append(Finding(self.id, Enforcement.ADVISORY, address, message))
            elif placement.daemonset and count > self.max_reach and rolls_every_pod(change):
                message = (
                    f"reaches {count:,} of {plural(index.total, 'node')} of {where} in one step, more than "
                    f"kubernetes.max_reach ({self.max_reach:,}): roll it out with `guardrail rollout` (the fleet "
                    "canary), node batch by node batch"
                )
                findings.append(Finding(self.id, self.enforcement, address, message))
        return ReachAnalysis(tuple(reaches), tuple(findings))


def _running_placement(change: KubeChange) -> Placement | None:
    if change.action not in _RUNNING or change.after is None:
        return None
    return placement_of(change.after)


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
    strategy = field_at(change.after, "spec", "updateStrategy", "type")
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
