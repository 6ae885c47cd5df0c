"""Deleting Kubernetes objects that hold data or take data with them: soft at least, with the reason.

A Namespace takes everything in it, a CustomResourceDefinition every custom resource of its kind, a
PersistentVolume or PersistentVolumeClaim its volume's data (depending on the reclaim policy), a StatefulSet
with volume claim templates its pods' identities and, by its retention policy, their claims. What the live
cluster holds is counted when a cluster view has it, and said to be unknown otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.objects import field_at
from guardrail.core.kube.scopes import custom_kind
from guardrail.core.kube.wording import forbidden_listing, plural
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

RULE_ID = register_rule("kube-stateful", "A Kubernetes object that holds data, or takes data with it, is deleted.")
_DESTRUCTIVE = frozenset({Action.DELETE, Action.REPLACE})


def live_in_namespace(view: ClusterView | None, namespace: str) -> int | None:
    """How many live objects the cluster holds in `namespace`; None when its live objects are unknown."""
    if view is None or view.live is None:
        return None
    return sum(1 for obj in view.live if _namespace(obj) == namespace)


def live_custom_resources(view: ClusterView | None, group: str, kind: str) -> int | None:
    """How many custom resources of `kind` in `group` the cluster holds; None when unknown (listing them is
    forbidden, say)."""
    if view is None or view.unlisted([(group, kind)]):
        return None
    if view.counts is not None and f"{kind.lower()}.{group}" in view.counts:
        return view.counts[f"{kind.lower()}.{group}"]
    if view.live is None:
        return None
    return sum(1 for _ in view.live_of_kind(kind, group))


@dataclass(frozen=True)
class KubeStatefulRule:
    """Every delete (or replace) of a stateful object is a finding of `enforcement` (soft or hard)."""

    enforcement: Enforcement = Enforcement.SOFT
    id: str = RULE_ID

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        with_cluster = qualified(changes)
        # Objects of this change per (cluster, namespace) and per (cluster, group, kind), counted once.
        counts: Counter[tuple[str, ...]] = Counter()
        for change in changes.changes:
            counts[(change.cluster, change.ref.namespace or "")] += change.ref.namespace is not None
            counts[(change.cluster, change.ref.group, change.ref.kind)] += 1
        findings = []
        for change in changes.changes:
            if change.action not in _DESTRUCTIVE or change.before is None:
                continue
            reason = self._reason(change, changes, counts)
            if reason is not None:
                address = change_address(change, with_cluster=with_cluster)
                findings.append(Finding(self.id, self.enforcement, address, f"{change.action.value} {reason}"))
        return findings

    def _reason(self, change: KubeChange, changes: KubeChangeSet, counts: Counter[tuple[str, ...]]) -> str | None:
        ref, manifest = change.ref, change.before
        assert manifest is not None
        view = changes.cluster(change.cluster)
        if ref.group == "" and ref.kind == "Namespace":
            return _namespace_reason(change, counts[(change.cluster, ref.name)], view)
        if ref.group == "apiextensions.k8s.io" and ref.kind == "CustomResourceDefinition":
            return _crd_reason(manifest, counts, change.cluster, view)
        if ref.group == "" and ref.kind == "PersistentVolume":
            policy = field_at(manifest, "spec", "persistentVolumeReclaimPolicy") or "Retain"
            if policy == "Retain":
                return "of a PersistentVolume (reclaim policy Retain: the data stays but must be reclaimed by hand)"
            return f"of a PersistentVolume (reclaim policy {policy}: the storage and its data are deleted too)"
        if ref.group == "" and ref.kind == "PersistentVolumeClaim":
            return (
                "of a PersistentVolumeClaim: its volume is released, and with the Delete reclaim policy that "
                "dynamically provisioned volumes get by default, its data is deleted"
            )
        if ref.kind == "StatefulSet" and ref.group in ("apps", "extensions"):
            return _statefulset_reason(manifest)
        return None


def _namespace_reason(change: KubeChange, in_change: int, view: ClusterView | None) -> str:
    name = change.ref.name
    live = live_in_namespace(view, name)
    unlisted = view.unlisted() if view is not None else ()
    if live is None:
        held = "what it holds on the cluster is unknown"
    elif unlisted:
        held = f"at least {plural(live, 'live object')}, count incomplete ({forbidden_listing(unlisted)})"
    else:
        held = plural(live, "live object")
    ours = f"; {plural(in_change, 'object')} of this change {'is' if in_change == 1 else 'are'} in it"
    return f"of a Namespace deletes everything in it: {held}{ours if in_change else ''}"


def _crd_reason(
    manifest: Mapping[str, Any], counts: Counter[tuple[str, ...]], cluster: str, view: ClusterView | None
) -> str:
    declared = custom_kind(manifest)
    if declared is None:
        return "of a CustomResourceDefinition deletes every custom resource of its kind"
    label = f"{declared.kind}.{declared.group}"
    in_change = counts[(cluster, declared.group, declared.kind)]
    live = live_custom_resources(view, declared.group, declared.kind)
    unlisted = view.unlisted([(declared.group, declared.kind)]) if view is not None else ()
    held = f"{live:,} live" if live is not None else "how many the cluster holds is unknown"
    if unlisted:
        held += f" ({forbidden_listing(unlisted)})"
    ours = f"; {in_change:,} of this change" if in_change else ""
    return f"of a CustomResourceDefinition deletes every {label} custom resource: {held}{ours}"


def _statefulset_reason(manifest: Mapping[str, Any]) -> str | None:
    templates = field_at(manifest, "spec", "volumeClaimTemplates")
    if not isinstance(templates, list) or not templates:
        return None
    names = ", ".join(str(field_at(t, "metadata", "name") or "?") for t in templates)
    when_deleted = field_at(manifest, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") or "Retain"
    if when_deleted == "Delete":
        fate = "its claims are deleted with it (persistentVolumeClaimRetentionPolicy.whenDeleted: Delete), data too"
    else:
        fate = "its claims are kept (whenDeleted: Retain) but its pods and their stable identities go"
    return f"of a StatefulSet with volume claim templates ({names}): {fate}"


def _namespace(obj: Mapping[str, Any]) -> str | None:
    namespace = field_at(obj, "metadata", "namespace")
    return namespace if isinstance(namespace, str) else None
