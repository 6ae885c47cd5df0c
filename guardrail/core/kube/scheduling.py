"""Which nodes a pod template can land on: nodeSelector, required node affinity, taints and tolerations.

Used for the reach of a DaemonSet (the gate) and for the nodes a fleet canary labels batch by batch.
Preferred affinity and resources are left out on purpose: they change where a pod goes, not whether a
DaemonSet pod goes to a node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.kube.cluster import NodeInfo, Taint, TaintEffect
from guardrail.core.kube.objects import field_at

# The tolerations the DaemonSet controller adds to every DaemonSet pod, so that node trouble does not
# evict them and cordoned nodes still run them (kubernetes docs: "Taints and tolerations" of DaemonSets).
DAEMONSET_TOLERATIONS: tuple[Mapping[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
# Added only for pods on the host network.
HOST_NETWORK_TOLERATION: Mapping[str, str] = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}
_BLOCKING = frozenset({TaintEffect.NO_SCHEDULE.value, TaintEffect.NO_EXECUTE.value})


@dataclass(frozen=True)
class Placement:
    """The scheduling constraints of a pod template, read once and matched against many nodes."""

    node_selector: Mapping[str, str]
    # OR of terms; each term an AND of (key, operator, values) label expressions and field expressions.
    affinity_terms: tuple[tuple[tuple[str, str, tuple[str, ...], bool], ...], ...]
    tolerations: tuple[Mapping[str, Any], ...]
    daemonset: bool

    @property
    def constrained(self) -> bool:
        """Whether the template narrows where it runs at all (selector, affinity or tolerations)."""
        return bool(self.node_selector or self.affinity_terms or self.tolerations)

    @classmethod
    def of_template(cls, pod_spec: Mapping[str, Any], *, daemonset: bool = False) -> Placement:
        """The placement of a pod spec (`spec.template.spec` of a workload). Odd shapes read as empty."""
        selector = pod_spec.get("nodeSelector")
        node_selector = {str(k): str(v) for k, v in selector.items()} if isinstance(selector, Mapping) else {}
        affinity = field_at(pod_spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        terms = tuple(_term(t) for t in _list(field_at(affinity, "nodeSelectorTerms")) if isinstance(t, Mapping))
        tolerations = [t for t in _list(pod_spec.get("tolerations")) if isinstance(t, Mapping)]
        if daemonset:
            tolerations.extend(DAEMONSET_TOLERATIONS)
            if pod_spec.get("hostNetwork") is True:
                tolerations.append(HOST_NETWORK_TOLERATION)
        return cls(node_selector, terms, tuple(tolerations), daemonset)

    def admits(self, node: NodeInfo) -> bool:
        """Whether a pod of this template may run on `node`."""
        if not self.selects(node):
            return False
        if node.unschedulable and not self.daemonset:
            return False
        return self.tolerates(node.taints)

    def selects(self, node: NodeInfo) -> bool:
        """Whether the node's labels (and name, for matchFields) meet the node selector and required affinity.

        Part of admits, apart so that many nodes can be decided by their labels and taints separately."""
        labels = node.labels
        if any(labels.get(k) != v for k, v in self.node_selector.items()):
            return False
        return not self.affinity_terms or any(_term_matches(term, node) for term in self.affinity_terms)

    def tolerates(self, taints: Iterable[Taint]) -> bool:
        """Whether every NoSchedule and NoExecute taint among `taints` is tolerated (part of admits)."""
        return all(tolerated(taint, self.tolerations) for taint in taints if taint.effect in _BLOCKING)

    def reach(self, nodes: Iterable[NodeInfo]) -> list[NodeInfo]:
        """The nodes this template may run on, in the order given.

        Decided once per node shape (the labels it reads, the name when it reads fields, taints, cordoned):
        a fleet canary asks this of thousands of nodes at every observation."""
        keys = tuple(sorted({*self.node_selector, *(e[0] for t in self.affinity_terms for e in t if not e[3])}))
        by_name = any(e[3] for t in self.affinity_terms for e in t)
        decided: dict[tuple[object, ...], bool] = {}
        reached: list[NodeInfo] = []
        for node in nodes:
            shape: tuple[object, ...] = (node.taints, node.unschedulable)
            if keys or by_name:
                labels = node.labels
                shape = (*shape, node.name if by_name else "", *(labels.get(k) for k in keys))
            admitted = decided.get(shape)
            if admitted is None:
                admitted = decided[shape] = self.admits(node)
            if admitted:
                reached.append(node)
        return reached


def tolerated(taint: Taint, tolerations: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any toleration matches the taint (Kubernetes' ToleratesTaint)."""
    for toleration in tolerations:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.effect:
            continue
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists":
            if not key or key == taint.key:
                return True
        elif key == taint.key and str(toleration.get("value") or "") == taint.value:
            return True
    return False


def _term(term: Mapping[str, Any]) -> tuple[tuple[str, str, tuple[str, ...], bool], ...]:
    expressions: list[tuple[str, str, tuple[str, ...], bool]] = []
    for source, is_field in (("matchExpressions", False), ("matchFields", True)):
        for expression in _list(term.get(source)):
            if isinstance(expression, Mapping):
                values = tuple(str(v) for v in _list(expression.get("values")))
                expressions.append(
                    (str(expression.get("key", "")), str(expression.get("operator", "")), values, is_field)
                )
    return tuple(expressions)


def _term_matches(term: tuple[tuple[str, str, tuple[str, ...], bool], ...], node: NodeInfo) -> bool:
    # An empty term matches nothing (as the scheduler reads it).
    if not term:
        return False
    for key, operator, values, is_field in term:
        if is_field:
            actual: str | None = node.name if key == "metadata.name" else None
        else:
            actual = node.labels.get(key)
        if not _expression_holds(actual, operator, values):
            return False
    return True


def _expression_holds(actual: str | None, operator: str, values: tuple[str, ...]) -> bool:
    if operator == "In":
        return actual is not None and actual in values
    if operator == "NotIn":
        return actual is None or actual not in values
    if operator == "Exists":
        return actual is not None
    if operator == "DoesNotExist":
        return actual is None
    if operator in ("Gt", "Lt") and actual is not None and len(values) == 1:
        try:
            left, right = int(actual), int(values[0])
        except ValueError:
            return False
        return left > right if operator == "Gt" else left < right
    return False  # an operator the scheduler would reject: the pod would never land


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
