"""The blast radius of a Kubernetes change, as the same records as Terraform's.

- A Namespace delete takes every object in it; a CustomResourceDefinition delete every custom resource of
  its kind: the objects of this change, and the live ones when a cluster view has them.
- A ConfigMap or Secret changed or deleted reaches the workloads whose pods read it (volumes, projected
  volumes, envFrom, env valueFrom; Secrets also imagePullSecrets).
- A Service whose selector changes (or that goes) stops selecting pods: the live pods, and the workloads of
  this change whose pods it selected.
- A DaemonSet updated or deleted restarts or removes one pod per node it reaches, counted per cluster from
  the cluster's nodes; an update that leaves its pod template alone restarts none, nor does one with the
  OnDelete strategy (its pods take the new template as they are deleted): neither is an impact.
- An update that reaches nothing (a ConfigMap no workload reads, a selector change that drops no pod) is no
  impact either: only deletes are listed when nothing depends on them.

What could not be known (no live objects, no nodes, kinds guardrail may not list) is said in `unknown`, never
left as an empty list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from guardrail.core.blast.impact import BlastRadius, Impact, ImpactedResource
from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.derive import change_address, object_address, qualified
from guardrail.core.kube.objects import ClusterObject, ObjectRef
from guardrail.core.kube.reach import NodeIndex, placement_of, rolls_every_pod
from guardrail.core.kube.scopes import custom_kind
from guardrail.core.kube.wording import forbidden_listing
from guardrail.core.kube.workloads import (
    pod_labels,
    pod_spec,
    pod_template,
    referenced,
    selector_matches,
    workload_kinds,
)
from guardrail.core.matching import Match, Selector

_GOES = frozenset({Action.DELETE, Action.REPLACE})
_CHANGES = frozenset({Action.UPDATE, Action.DELETE, Action.REPLACE})
_NO_LIVE = "live objects unknown (no cluster was read)"


class _Context:
    """What every impact of one cluster needs, indexed once: its changes and live objects by namespace, the
    ConfigMaps and Secrets each workload reads, the labels of each workload's pods, critical selectors."""

    def __init__(self, changes: KubeChangeSet, cluster: str, critical: Callable[[ResourceChange], bool]) -> None:
        self.cluster = cluster
        self.view: ClusterView | None = changes.cluster(cluster)
        self.with_cluster = qualified(changes)
        self.changes = changes.on(cluster)
        self.is_critical = critical
        self.nodes = NodeIndex(self.view.nodes) if self.view is not None and self.view.nodes is not None else None
        self.in_namespace: dict[str | None, list[KubeChange]] = {}
        for change in self.changes:
            self.in_namespace.setdefault(change.ref.namespace, []).append(change)
        in_change = {c.ref for c in self.changes}
        # Live objects this change does not itself change (those are listed from the change).
        self.live_in_namespace: dict[str | None, list[tuple[ObjectRef, Mapping[str, Any]]]] = {}
        for obj in self.live or ():
            try:
                ref = ObjectRef.of(obj)
            except BadInputError:
                continue  # a live object without a name cannot be listed; the API never serves one
            if ref not in in_change:
                self.live_in_namespace.setdefault(ref.namespace, []).append((ref, obj))
        self._pods: dict[str | None, list[tuple[KubeChange, Mapping[str, str]]]] = {}
        self._readers: dict[tuple[str | None, str, str], list[KubeChange | tuple[ObjectRef, Mapping[str, Any]]]] | None
        self._readers = None

    @property
    def live(self) -> tuple[Mapping[str, Any], ...] | None:
        return self.view.live if self.view is not None else None

    def unknown(self, what: str, kinds: Sequence[tuple[str, str]] | None = None) -> str | None:
        """Why the live objects an impact lists are not all of them: none were read, or listing some of
        `kinds` (default: every type that lives in a namespace) is forbidden; None when they are complete."""
        if self.view is None or self.view.live is None:
            return _NO_LIVE
        unlisted = self.view.unlisted(kinds)
        return f"{what}: {forbidden_listing(unlisted)}" if unlisted else None

    def live_objects(self) -> Iterator[tuple[ObjectRef, Mapping[str, Any]]]:
        for objects in self.live_in_namespace.values():
            yield from objects

    def readers(self, namespace: str | None, kind: str, name: str) -> list[KubeChange | tuple[ObjectRef, Any]]:
        """The changes and live workloads whose pods read ConfigMap or Secret `name` (`kind`) in `namespace`."""
        if self._readers is None:
            index: dict[tuple[str | None, str, str], list[KubeChange | tuple[ObjectRef, Mapping[str, Any]]]] = {}
            for change in self.changes:
                for manifest in {id(m): m for m in (change.after, change.before) if m is not None}.values():
                    for key in _read_by(change.ref.namespace, manifest):
                        readers = index.setdefault(key, [])
                        if change not in readers:
                            readers.append(change)
            for ref, obj in self.live_objects():
                if not _controlled(obj):
                    for key in _read_by(ref.namespace, obj):
                        index.setdefault(key, []).append((ref, obj))
            self._readers = index
        return self._readers.get((namespace, kind, name), [])

    def pod_labels_in(self, namespace: str | None) -> list[tuple[KubeChange, Mapping[str, str]]]:
        """The workloads of this change in `namespace` (as they were) with the labels of their pods."""
        found = self._pods.get(namespace)
        if found is None:
            found = self._pods[namespace] = [
                (c, pod_labels(c.before))
                for c in self.in_namespace.get(namespace, ())
                if c.before is not None and pod_template(c.before) is not None
            ]
        return found

    def address(self, ref: ObjectRef) -> str:
        return object_address(self.cluster, ref, with_cluster=self.with_cluster)

    def from_change(self, change: KubeChange, resource: ResourceChange) -> ImpactedResource:
        address = change_address(change, with_cluster=self.with_cluster)
        return ImpactedResource(address, (address,), change.action, self.is_critical(resource))

    def from_live(self, ref: ObjectRef, obj: Mapping[str, Any]) -> ImpactedResource:
        address = self.address(ref)
        record = ResourceChange(
            address, ref.type, ref.name, Action.NO_OP, ("no-op",), before=obj, after=obj,
            cluster_object=ClusterObject(self.cluster, ref),
        )  # fmt: skip
        return ImpactedResource(address, (address,), Action.NO_OP, self.is_critical(record))


def _read_by(namespace: str | None, manifest: Mapping[str, Any]) -> Iterator[tuple[str | None, str, str]]:
    spec = pod_spec(manifest)
    if spec is None:
        return
    for kind in ("ConfigMap", "Secret"):
        for name in referenced(spec, kind):
            yield namespace, kind, name


def kube_blast_radius(changes: KubeChangeSet, derived: ChangeSet, critical: Sequence[Selector] = ()) -> BlastRadius:
    """The impact of every change that reaches other objects or pods, critical ones and the widest first.

    `derived` is the ChangeSet of `changes` (same order): its records are what `critical:` selectors match.
    """
    by_address = {c.address: c for c in derived.changes}

    def is_critical(resource: ResourceChange) -> bool:
        return any(s.match(resource) is not Match.NO for s in critical)

    contexts = {view.name: _Context(changes, view.name, is_critical) for view in changes.clusters}
    impacts: list[Impact] = []
    for change, resource in zip(changes.changes, derived.changes, strict=True):
        context = contexts.get(change.cluster)
        if context is None:
            continue
        impact = _impact(change, resource, context, by_address)
        if impact is not None:
            impacts.append(impact)
    impacts.sort(key=lambda i: (not i.involves_critical, -len(i.impacted), -(i.pods or 0), i.address))
    return BlastRadius(tuple(impacts))


def _impact(
    change: KubeChange, resource: ResourceChange, context: _Context, by_address: Mapping[str, ResourceChange]
) -> Impact | None:
    ref = change.ref
    found: tuple[list[ImpactedResource], str, str | None, int | None] | None = None
    if change.action in _GOES and ref.group == "" and ref.kind == "Namespace":
        found = _namespace(ref.name, context, by_address)
    elif change.action in _GOES and ref.group == "apiextensions.k8s.io" and ref.kind == "CustomResourceDefinition":
        found = _custom_resources(change, context, by_address)
    elif change.action in _CHANGES and ref.group == "" and ref.kind in ("ConfigMap", "Secret"):
        found = _readers(change, context, by_address)
    elif change.action in _CHANGES and ref.group == "" and ref.kind == "Service":
        found = _unselected(change, context, by_address)
    elif change.action in _CHANGES and ref.kind == "DaemonSet":
        found = _daemon_pods(change, context)
    if found is None:
        return None
    impacted, effect, unknown, pods = found
    if change.action not in _GOES and not (impacted or unknown or pods):
        return None
    return Impact(
        address=resource.address,
        action=change.action,
        replace_order=None,
        critical=context.is_critical(resource),
        impacted=tuple(
            replace(r, path=(resource.address, r.address))  # one step from the change: a reference, not a chain
            for r in sorted({r.address: r for r in impacted}.values(), key=lambda r: r.address)
        ),
        cluster=change.cluster,
        effect=effect,
        pods=pods,
        unknown=unknown,
    )


_Found = tuple[list[ImpactedResource], str, str | None, int | None]


def _namespace(name: str, context: _Context, by_address: Mapping[str, ResourceChange]) -> _Found:
    impacted = [context.from_change(c, by_address[context.address(c.ref)]) for c in context.in_namespace.get(name, ())]
    impacted += [context.from_live(ref, obj) for ref, obj in context.live_in_namespace.get(name, ())]
    return impacted, "deletes everything in the namespace", context.unknown("live objects incomplete"), None


def _custom_resources(change: KubeChange, context: _Context, by_address: Mapping[str, ResourceChange]) -> _Found:
    declared = custom_kind(change.before or {})
    if declared is None:
        return [], "deletes every custom resource of its kind", "its kind is unreadable from the manifest", None
    kind = (declared.group, declared.kind)
    impacted = [
        context.from_change(c, by_address[context.address(c.ref)])
        for c in context.changes
        if (c.ref.group, c.ref.kind) == kind
    ]
    impacted += [context.from_live(ref, obj) for ref, obj in context.live_objects() if (ref.group, ref.kind) == kind]
    unknown = context.unknown("live custom resources unknown", [kind])
    if context.live is None:
        counts = context.view.counts if context.view is not None else None
        live = counts.get(f"{declared.kind.lower()}.{declared.group}") if counts is not None else None
        unknown = f"{live:,} live custom resources, not listed" if live is not None else _NO_LIVE
    return impacted, f"deletes every {declared.kind}.{declared.group} custom resource", unknown, None


def _readers(change: KubeChange, context: _Context, by_address: Mapping[str, ResourceChange]) -> _Found:
    kind = change.ref.kind
    impacted = []
    for reader in context.readers(change.ref.namespace, kind, change.ref.name):
        if isinstance(reader, KubeChange):
            if reader is not change:
                impacted.append(context.from_change(reader, by_address[context.address(reader.ref)]))
        else:
            impacted.append(context.from_live(*reader))
    effect = f"{change.action.value} of a {kind} that these workloads read"
    return impacted, effect, context.unknown("live readers unknown", tuple(workload_kinds())), None


def _unselected(change: KubeChange, context: _Context, by_address: Mapping[str, ResourceChange]) -> _Found | None:
    old = _selector(change.before)
    new = _selector(change.after) if change.action is Action.UPDATE else {}
    if not old or old == new:
        return None
    namespace = change.ref.namespace

    def dropped(labels: Mapping[str, str]) -> bool:
        return selector_matches(old, labels) and not selector_matches(new, labels)

    impacted = [
        context.from_change(c, by_address[context.address(c.ref)])
        for c, labels in context.pod_labels_in(namespace)
        if dropped(labels)
    ]
    impacted += [
        context.from_live(ref, obj)
        for ref, obj in context.live_in_namespace.get(namespace, ())
        if ref.kind == "Pod" and ref.group == "" and dropped(_labels(obj))
    ]
    return impacted, "stops selecting these pods", context.unknown("live pods unknown", [("", "Pod")]), None


def _daemon_pods(change: KubeChange, context: _Context) -> _Found | None:
    manifest = change.before if change.action is Action.DELETE else change.after
    placement = placement_of(manifest) if manifest is not None else None
    if placement is None:
        return None
    if change.action is not Action.DELETE and not rolls_every_pod(change):
        return None  # the pod template is unchanged, or OnDelete: no pod restarts now
    verb = "removed" if change.action is Action.DELETE else "restarted"
    if context.nodes is None:
        return [], f"one pod {verb} per node it runs on", "the cluster's nodes are unknown (give --nodes)", None
    pods = context.nodes.admitted(placement)
    return [], f"{pods:,} pod{'' if pods == 1 else 's'} {verb} on cluster {context.cluster}", None, pods


def _selector(manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    spec = manifest.get("spec") if manifest is not None else None
    selector = spec.get("selector") if isinstance(spec, Mapping) else None
    return dict(selector) if isinstance(selector, Mapping) else {}


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    metadata = obj.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def _controlled(obj: Mapping[str, Any]) -> bool:
    """A ReplicaSet, Job or Pod that a listed workload controls: its controller is what a reviewer reads."""
    metadata = obj.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, Mapping) else None
    return isinstance(owners, list) and any(isinstance(o, Mapping) and o.get("controller") is True for o in owners)
