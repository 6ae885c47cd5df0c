"""Reading a live cluster for the gate: what the cluster is, and what a set of manifests would do to it.

For one cluster (through the cluster port): its version (live /version unless a target version is given),
its nodes, the live objects the rules need (ClusterRoles, ClusterRoleBindings and the live version of every
input object), object counts per type, and the change each input object makes: create, update or no-op
(with the changed field paths), or delete with --delete; with --prune, the live members of the input's
ApplySet that the input no longer has become deletes. Updates are judged by a server-side dry-run apply
(field manager `guardrail`, forcing conflicts as the apply will) compared with the live object; where the
server refuses that, by a client-side comparison, and the view says so. Secret values never leave here
unmasked; they are returned as literals to scrub instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.change import Action
from guardrail.core.errors import BadInputError, ClusterError, ClusterUnreachableError
from guardrail.core.kube.applyset import (
    ID_LABEL,
    PARENT_KINDS,
    PART_OF_LABEL,
    declared_applyset,
    is_parent_of,
    pruned,
    scope_of,
)
from guardrail.core.kube.change import ClusterView, DiffSource, KubeChange
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.live import changed_paths, manifest_changes, refuses_server_side_diff
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.rbac import WATCHED
from guardrail.core.kube.scopes import Scopes
from guardrail.core.kube.secret_data import secret_literals, shown_manifest

FIELD_MANAGER = "guardrail"
# Live objects every cluster view carries: RBAC that grants a workload's service account its reach.
RBAC_KINDS: tuple[tuple[str, str], ...] = (
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
)
LIVE_SOURCE = "live"
_FORBIDDEN = 403


@dataclass(frozen=True)
class LiveReading:
    """One cluster read for the gate: its view, the input's changes on it, and Secret literals to scrub."""

    view: ClusterView
    changes: tuple[KubeChange, ...]
    sensitive_literals: frozenset[str] = field(default=frozenset(), repr=False)


def read_cluster(
    cluster: Cluster,
    inputs: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    target_version: str | None = None,
    delete: bool = False,
    prune: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> LiveReading:
    """Read `cluster` for the gate; `inputs` are (source, manifest) pairs, the source as `file.yaml#3`.

    Raises BadInputError for an object of a kind the cluster does not serve (unless a definition in the
    input introduces it) and for --prune without one declared ApplySet; ClusterUnreachableError and
    ClusterError as the port does: a cluster that cannot be read never yields a partial view.
    """
    reader = _Reader(cluster, field_manager)
    defined = Scopes.with_crds(manifest for _, manifest in inputs)
    changes = [reader.change(source, manifest, delete=delete, defined=defined) for source, manifest in inputs]
    if prune:
        changes.extend(reader.pruned(inputs, [c.ref for c in changes]))
    rbac = [obj for api_version, kind in RBAC_KINDS for obj in cluster.list_objects(api_version, kind)]
    live_inputs = [c.before for c in changes if c.before is not None and c.source != LIVE_SOURCE]
    view = ClusterView(
        name=cluster.name,
        version=target_version or cluster.server_version(),
        nodes=tuple(cluster.nodes()),
        live=tuple(shown_manifest(obj) for obj in [*rbac, *live_inputs]),
        counts=_counts(cluster),
        diff_source=DiffSource.SERVER_SIDE if reader.server_side else DiffSource.CLIENT_SIDE,
    )
    shown = tuple(_masked_change(c) for c in changes)
    secrets = secret_literals(c.before for c in changes)
    return LiveReading(view, shown, secrets)


class _Reader:
    """The per-object work of one read, remembering whether the server still accepts dry-run applies."""

    def __init__(self, cluster: Cluster, field_manager: str) -> None:
        self.cluster = cluster
        self.field_manager = field_manager
        self.server_side = True

    def change(self, source: str, manifest: Mapping[str, Any], *, delete: bool, defined: Scopes) -> KubeChange:
        api_version, kind = str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        try:
            ref = ObjectRef.of(manifest)
        except BadInputError as exc:
            raise BadInputError(f"{source}: {exc}") from exc
        served = self.cluster.served(api_version, kind)
        if served is None:
            if defined.custom.get((ref.group, kind)) is None:
                raise BadInputError(f"{source}: cluster {self.cluster.name} does not serve {kind} at {api_version}")
            # Its definition is applied in the same change: it cannot exist yet.
            return KubeChange(self.cluster.name, ref, api_version, Action.CREATE, None, manifest, source)
        namespace = (ref.namespace or self.cluster.default_namespace) if served.namespaced else None
        ref = ref.in_namespace(namespace)
        manifest = _placed(manifest, namespace)
        live = self.cluster.get(ref, api_version)
        if delete:
            action = Action.DELETE if live is not None else Action.NO_OP
            return KubeChange(self.cluster.name, ref, api_version, action, live, None, source)
        if live is None:
            return KubeChange(self.cluster.name, ref, api_version, Action.CREATE, None, manifest, source)
        after, paths = self._compare(manifest, live)
        action = Action.UPDATE if paths else Action.NO_OP
        return KubeChange(self.cluster.name, ref, api_version, action, live, after, source, paths)

    def _compare(
        self, manifest: Mapping[str, Any], live: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], tuple[str, ...]]:
        if self.server_side:
            try:
                would_be = self.cluster.apply(manifest, field_manager=self.field_manager, dry_run=True, force=True)
            except ClusterError as exc:
                if isinstance(exc, ClusterUnreachableError) or not refuses_server_side_diff(exc):
                    raise
                self.server_side = False  # the same server will refuse the next object too
            else:
                return would_be, changed_paths(live, would_be)
        return manifest, manifest_changes(manifest, live)

    def pruned(self, inputs: Sequence[tuple[str, Mapping[str, Any]]], keep: Sequence[ObjectRef]) -> list[KubeChange]:
        set_id = declared_applyset(inputs)
        scope = scope_of(set_id, [m for _, m in inputs], self._parent(set_id))
        found: list[KubeChange] = []
        for group, kind in sorted(scope.group_kinds):
            served = self.cluster.preferred(group, kind)
            if served is None:
                continue
            for namespace in sorted(scope.namespaces) if served.namespaced else [None]:
                members = self.cluster.list_objects(
                    served.api_version, kind, namespace=namespace, label_selector=f"{PART_OF_LABEL}={set_id}"
                )
                for obj in pruned(members, set_id, keep):
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


def _counts(cluster: Cluster) -> dict[str, int]:
    # A type the server does not serve, cannot count cheaply or will not let us list is left out:
    # a missing count is unknown, never zero.
    # The objects of the resources a cluster-wide list or watch reads: what such a grant costs the API server.
    counts: dict[str, int] = {}
    for watched in WATCHED:
        api_version = next((v for v in watched.api_versions if cluster.served(v, watched.kind) is not None), None)
        if api_version is None:
            continue
        try:
            number = cluster.count_objects(api_version, watched.kind)
        except ClusterError as exc:
            if exc.status != _FORBIDDEN or isinstance(exc, ClusterUnreachableError):
                raise
            continue
        if number is not None:
            counts[watched.count_key] = number
    return counts


def _placed(manifest: Mapping[str, Any], namespace: str | None) -> Mapping[str, Any]:
    metadata = manifest.get("metadata")
    current = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    if current == namespace or not isinstance(metadata, Mapping):
        return manifest
    placed = {k: v for k, v in metadata.items() if k != "namespace"}
    if namespace:
        placed["namespace"] = namespace
    return {**manifest, "metadata": placed}


def _masked_change(change: KubeChange) -> KubeChange:
    before = shown_manifest(change.before) if change.before is not None else None
    after = shown_manifest(change.after) if change.after is not None else None
    return KubeChange(
        change.cluster,
        change.ref,
        change.api_version,
        change.action,
        before,
        after,
        change.source,
        change.changed_paths,
    )
