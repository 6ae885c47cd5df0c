"""Reading a live cluster for the gate: what the cluster is, and what a set of objects would do to it.

For one cluster (through the cluster port): its version (live /version unless a target version is given),
its nodes, the live objects the rules need (see kube_live_context), object counts, and the change each object
makes: create, update or no-op (with the changed field paths), or delete with `delete`; with `prune`, the live
members of the input's ApplySet that the input no longer has become deletes; `removed` objects are deleted
whatever the rest (a rollback's creations). Updates are judged by a server-side dry-run apply (field manager
`guardrail`, forcing conflicts as the apply will) compared with the live object; where the server refuses
that, by a client-side comparison, and the view says so. Secret values never leave here unmasked, but in
`LiveReading.manifests`, the objects as the apply will send them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.change import Action
from guardrail.core.errors import BadInputError, ClusterError, ClusterUnreachableError
from guardrail.core.kube.applyset import ID_LABEL, PARENT_KINDS, PART_OF_LABEL, declared_applyset, is_parent_of, pruned
from guardrail.core.kube.applyset import scope_of as applyset_scope
from guardrail.core.kube.change import ClusterView, DiffSource, KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.deprecated_api_table import lookup as deprecation
from guardrail.core.kube.live import changed_paths, manifest_changes, refuses_server_side_diff, without_server_fields
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.render import RenderedObject, with_namespace
from guardrail.core.kube.scopes import Scopes
from guardrail.core.kube.secret_data import secret_literals, shown_manifest
from guardrail.services.kube_live_context import context_of

FIELD_MANAGER = "guardrail"
LIVE_SOURCE = "live"


@dataclass(frozen=True)
class LiveReading:
    """One cluster read for the gate: its view, the objects' changes on it (Secret values masked), the Secret
    literals to scrub, and the manifest each create or update will send, by ref (values in clear: never shown)."""

    view: ClusterView
    changes: tuple[KubeChange, ...]
    sensitive_literals: frozenset[str] = field(default=frozenset(), repr=False)
    manifests: Mapping[ObjectRef, Mapping[str, Any]] = field(default_factory=dict, repr=False)


def read_cluster(
    cluster: Cluster,
    objects: Sequence[RenderedObject],
    *,
    target_version: str | None = None,
    delete: bool = False,
    prune: bool = False,
    removed: Sequence[RenderedObject] = (),
) -> LiveReading:
    """Read `cluster` for the gate.

    Raises BadInputError naming the file and document of an object of a kind the cluster does not serve
    (unless a CustomResourceDefinition among `objects` introduces it), and for `prune` without one declared
    ApplySet; ClusterUnreachableError and ClusterError as the port does: a cluster that cannot be read never
    yields a partial view.
    """
    reader = _Reader(cluster, Scopes.with_crds(obj.manifest for obj in objects))
    placed = [reader.placed(obj) for obj in objects]
    changes = [
        reader.change(obj, ref, manifest, delete=delete) for obj, (ref, manifest) in zip(objects, placed, strict=True)
    ]
    manifests = {ref: manifest for (ref, manifest), c in zip(placed, changes, strict=True) if c.action in _SENT}
    changes.extend(reader.removal(obj) for obj in removed)
    if prune:
        members = [(obj.source, manifest) for obj, (_, manifest) in zip(objects, placed, strict=True)]
        changes.extend(reader.pruned(members, [ref for ref, _ in placed]))
    context = context_of(cluster, changes)
    view = ClusterView(
        name=cluster.name,
        version=target_version or cluster.server_version(),
        nodes=tuple(cluster.nodes()),
        live=tuple(shown_manifest(obj) for obj in context.live),
        counts=context.counts,
        unreadable=context.unreadable,
        diff_source=DiffSource.SERVER_SIDE if reader.server_side else DiffSource.CLIENT_SIDE,
    )
    secrets = secret_literals(c.before for c in changes)
    return LiveReading(view, tuple(_shown(c) for c in changes), secrets, manifests)


def read_clusters(
    clusters: Sequence[Cluster],
    objects: Sequence[RenderedObject],
    *,
    target_version: str | None = None,
    delete: bool = False,
    prune: bool = False,
) -> tuple[KubeChangeSet, list[LiveReading]]:
    """Every cluster read (see read_cluster), in order, and the change set they make together: the changes
    cluster after cluster, the input's Secret values and the live ones among its literals."""
    names = [cluster.name for cluster in clusters]
    if len(set(names)) != len(names):
        raise BadInputError(f"contexts {', '.join(names)}: a context is named twice")
    readings = [
        read_cluster(cluster, objects, target_version=target_version, delete=delete, prune=prune)
        for cluster in clusters
    ]
    return change_set(readings, objects), readings


def change_set(readings: Sequence[LiveReading], objects: Sequence[RenderedObject]) -> KubeChangeSet:
    """The change several clusters' readings make together: their changes cluster after cluster, their views,
    and the objects' Secret values with the live ones as the literals to scrub."""
    literals = secret_literals(obj.manifest for obj in objects).union(*(r.sensitive_literals for r in readings))
    return KubeChangeSet(
        tuple(c for reading in readings for c in reading.changes),
        tuple(reading.view for reading in readings),
        literals,
    )


# Actions whose object the apply sends to the API server.
_SENT = frozenset({Action.CREATE, Action.UPDATE})


class _Reader:
    """The per-object work of one read, remembering whether the server still accepts dry-run applies."""

    def __init__(self, cluster: Cluster, declared: Scopes) -> None:
        self.cluster = cluster
        self.declared = declared
        self.server_side = True

    def placed(self, obj: RenderedObject) -> tuple[ObjectRef, Mapping[str, Any]]:
        """The object's ref and manifest on this cluster: a namespaced kind that the input wrote no namespace
        for goes to the context's namespace, as kubectl puts it. Raises BadInputError for an unserved kind."""
        served = self.cluster.served(obj.api_version, obj.ref.kind)
        if served is not None:
            namespaced = served.namespaced
        elif (custom := self.declared.custom.get((obj.ref.group, obj.ref.kind))) is not None:
            namespaced = custom.namespaced  # its definition is applied in the same change
        elif (removed := self._removed_scope(obj)) is not None:
            namespaced = removed
        else:
            where = obj.where or obj.source
            raise BadInputError(
                f"{where}: context {self.cluster.name} does not serve {obj.ref.kind} at {obj.api_version}"
            )
        if not namespaced:
            namespace = None
        elif obj.named_namespace:
            namespace = obj.ref.namespace
        else:
            namespace = self.cluster.default_namespace
        return obj.ref.in_namespace(namespace), with_namespace(obj.manifest, namespace)

    def _removed_scope(self, obj: RenderedObject) -> bool | None:
        """Whether a kind at an API version that Kubernetes removed is namespaced; None for any other unserved
        kind. Such an object is for the deprecated-API rule to judge (what replaces it, since when), not bad
        input."""
        if deprecation(obj.api_version, obj.ref.kind) is None:
            return None
        return self.declared.namespaced(obj.ref.group, obj.ref.kind)

    def change(self, obj: RenderedObject, ref: ObjectRef, manifest: Mapping[str, Any], *, delete: bool) -> KubeChange:
        if self.cluster.served(obj.api_version, ref.kind) is None:
            # Introduced by a definition of the same change: it cannot exist yet. Or at an API version the
            # cluster no longer serves: nothing can be read or sent at it, and the deprecated-API rule says why.
            # Nothing of it lives, so a delete of it has nothing to delete.
            if delete:
                return KubeChange(self.cluster.name, ref, obj.api_version, Action.NO_OP, None, None, obj.source)
            return KubeChange(self.cluster.name, ref, obj.api_version, Action.CREATE, None, manifest, obj.source)
        live = self.cluster.get(ref, obj.api_version)
        if delete:
            action = Action.DELETE if live is not None else Action.NO_OP
            return KubeChange(self.cluster.name, ref, obj.api_version, action, live, None, obj.source)
        if live is None:
            return KubeChange(self.cluster.name, ref, obj.api_version, Action.CREATE, None, manifest, obj.source)
        after, paths = self._compare(manifest, live)
        action = Action.UPDATE if paths else Action.NO_OP
        return KubeChange(self.cluster.name, ref, obj.api_version, action, live, after, obj.source, paths)

    def removal(self, obj: RenderedObject) -> KubeChange:
        """A delete of the object when it lives (a no-op when it is already gone)."""
        if self.cluster.served(obj.api_version, obj.ref.kind) is None:
            action, live = Action.NO_OP, None  # its kind is gone, and every object of it
        else:
            live = self.cluster.get(obj.ref, obj.api_version)
            action = Action.DELETE if live is not None else Action.NO_OP
        return KubeChange(self.cluster.name, obj.ref, obj.api_version, action, live, None, obj.source)

    def _compare(
        self, manifest: Mapping[str, Any], live: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], tuple[str, ...]]:
        if self.server_side:
            try:
                would_be = self.cluster.apply(manifest, field_manager=FIELD_MANAGER, dry_run=True, force=True)
            except ClusterError as exc:
                if isinstance(exc, ClusterUnreachableError) or not refuses_server_side_diff(exc):
                    raise
                self.server_side = False  # the same server will refuse the next object too
            else:
                return would_be, changed_paths(live, would_be)
        return manifest, manifest_changes(manifest, live)

    def pruned(self, members: Sequence[tuple[str, Mapping[str, Any]]], keep: Sequence[ObjectRef]) -> list[KubeChange]:
        set_id = declared_applyset(members)
        scope = applyset_scope(set_id, [m for _, m in members], self._parent(set_id))
        found: list[KubeChange] = []
        for group, kind in sorted(scope.group_kinds):
            served = self.cluster.preferred(group, kind)
            if served is None:
                continue
            for namespace in sorted(scope.namespaces) if served.namespaced else [None]:
                listed = self.cluster.list_objects(
                    served.api_version, kind, namespace=namespace, label_selector=f"{PART_OF_LABEL}={set_id}"
                )
                for obj in pruned(listed, set_id, keep):
                    ref = ObjectRef.of(obj)
                    found.append(
                        KubeChange(self.cluster.name, ref, served.api_version, Action.DELETE, obj, None, LIVE_SOURCE)
                    )
        return found

    def _parent(self, set_id: str) -> Mapping[str, Any] | None:
        for api_version, kind in PARENT_KINDS:
            for candidate in self.cluster.list_objects(api_version, kind, label_selector=f"{ID_LABEL}={set_id}"):
                if is_parent_of(candidate, set_id):
                    return candidate
        return None


def _shown(change: KubeChange) -> KubeChange:
    # What the report and the rules see: Secret values masked, and none of the fields the server keeps for
    # itself (resourceVersion, managedFields, status...), which are nobody's change.
    before = shown_manifest(without_server_fields(change.before)) if change.before is not None else None
    after = shown_manifest(without_server_fields(change.after)) if change.after is not None else None
    return KubeChange(
        change.cluster,
        change.ref,
        change.api_version,
        change.action,
        before,
        after,
        change.source,
        change.changed_paths,
        scope_known=True,  # the cluster's discovery knows every kind it serves
    )
