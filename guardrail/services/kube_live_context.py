"""The live objects and counts the gate's rules read on one cluster, fetched for what the change touches.

- always: the ClusterRoles and ClusterRoleBindings (the control-plane cost rule: who may list what), the live
  version of every object of the change, and counts of the resources a cluster-wide list or watch reads;
- a Namespace deleted: every object in it, of every kind the cluster stores and lets one list (the stateful
  rule counts them, the blast radius lists them);
- a CustomResourceDefinition deleted: how many custom resources of its kind live;
- a ConfigMap, Secret or Service updated or deleted: the workloads and pods of its namespace (the blast
  radius: whose pods read it, which pods a Service stops selecting).

A kind that guardrail's identity may not list (403) is left out rather than failing the check, and named in
`unreadable`: the rules then say what they could not count or see, never "none". An object served by two API
groups (Event) is kept once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action
from guardrail.core.errors import ClusterError, ClusterUnreachableError
from guardrail.core.kube.change import KubeChange
from guardrail.core.kube.cluster import Cluster, ServedResource
from guardrail.core.kube.objects import ObjectRef, split_api_version
from guardrail.core.kube.rbac import RBAC_GROUP, WATCHED
from guardrail.core.kube.scopes import CRD_GROUP, CRD_KIND, custom_kind
from guardrail.core.kube.workloads import workload_kinds

_FORBIDDEN = 403
# Aggregated APIs that compute their objects on the fly: nothing of them is stored in a namespace.
_COMPUTED_GROUPS = frozenset({"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"})
_CHANGED = frozenset({Action.UPDATE, Action.DELETE, Action.REPLACE})
_READ_BY_PODS = frozenset({("", "ConfigMap"), ("", "Secret"), ("", "Service")})
# Who may list what, cluster-wide: what the control-plane cost rule reads on every cluster.
_RBAC_KINDS = ((f"{RBAC_GROUP}/v1", "ClusterRole"), (f"{RBAC_GROUP}/v1", "ClusterRoleBinding"))


@dataclass(frozen=True)
class LiveContext:
    """What the rules read of one cluster beside the change itself: live objects as served (Secret values in
    clear: the caller masks them), and object counts per resource type (`pod`, `backup.example.com`)."""

    live: tuple[Mapping[str, Any], ...]
    counts: dict[str, int]
    # Resource types it may not list (403): their live objects are unknown.
    unreadable: frozenset[str] = frozenset()


def context_of(cluster: Cluster, changes: Sequence[KubeChange]) -> LiveContext:
    """The live objects and counts the rules need for `changes` on `cluster` (see the module docstring)."""
    found = _Found()
    for api_version, kind in _RBAC_KINDS:
        found.add(_listed(cluster, api_version, kind, unreadable=found.unreadable))
    found.add(c.before for c in changes if c.before is not None)
    deleted_namespaces = sorted(
        {c.ref.name for c in changes if c.action is Action.DELETE and (c.ref.group, c.ref.kind) == ("", "Namespace")}
    )
    if deleted_namespaces:
        stored = [r for r in cluster.served_resources() if r.namespaced and _group(r) not in _COMPUTED_GROUPS]
        for namespace in deleted_namespaces:
            for resource in stored:
                found.add(_listed(cluster, resource.api_version, resource.kind, namespace, unreadable=found.unreadable))
    read_in = {
        c.ref.namespace
        for c in changes
        if c.action in _CHANGED and (c.ref.group, c.ref.kind) in _READ_BY_PODS and c.ref.namespace
    }
    for namespace in sorted(read_in - set(deleted_namespaces)):
        for group, kind in workload_kinds():
            served = cluster.preferred(group, kind)
            if served is not None and _group(served) == group:
                found.add(_listed(cluster, served.api_version, kind, namespace, unreadable=found.unreadable))
    counts = {**_watched_counts(cluster), **_custom_counts(cluster, changes, found.unreadable)}
    return LiveContext(tuple(found.objects), counts, frozenset(found.unreadable))


class _Found:
    """Live objects, each once: one object served by two API groups has one kind, name and uid."""

    def __init__(self) -> None:
        self.objects: list[Mapping[str, Any]] = []
        self._seen: set[tuple[str, ...]] = set()
        self.unreadable: set[str] = set()

    def add(self, objects: Iterable[Mapping[str, Any]]) -> None:
        for obj in objects:
            metadata = obj.get("metadata")
            meta = metadata if isinstance(metadata, Mapping) else {}
            uid = str(meta.get("uid") or "") or str(obj.get("apiVersion"))  # no uid: the group tells them apart
            key = (str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")), uid)
            if key not in self._seen:
                self._seen.add(key)
                self.objects.append(obj)


def _listed(
    cluster: Cluster, api_version: str, kind: str, namespace: str | None = None, *, unreadable: set[str] | None = None
) -> list[dict[str, Any]]:
    try:
        return cluster.list_objects(api_version, kind, namespace=namespace)
    except ClusterError as exc:
        if exc.status != _FORBIDDEN or isinstance(exc, ClusterUnreachableError):
            raise
        if unreadable is not None:
            unreadable.add(ObjectRef(split_api_version(api_version)[0], kind, None, "").type)
        return []


def _watched_counts(cluster: Cluster) -> dict[str, int]:
    # The objects of the resources a cluster-wide list or watch reads: what such a grant costs the API server.
    # A type the server does not serve or cannot count cheaply is left out: a missing count is unknown, never 0.
    counts: dict[str, int] = {}
    for watched in WATCHED:
        api_version = next((v for v in watched.api_versions if cluster.served(v, watched.kind) is not None), None)
        number = _counted(cluster, api_version, watched.kind) if api_version is not None else None
        if number is not None:
            counts[watched.count_key] = number
    return counts


def _custom_counts(cluster: Cluster, changes: Sequence[KubeChange], unreadable: set[str]) -> dict[str, int]:
    # A CustomResourceDefinition deleted takes every object of its kind: counted, listed when it cannot be.
    # A kind it may not list gets no count (unknown, named in `unreadable`), never 0.
    counts: dict[str, int] = {}
    for change in changes:
        if change.action is not Action.DELETE or (change.ref.group, change.ref.kind) != (CRD_GROUP, CRD_KIND):
            continue
        declared = custom_kind(change.before) if change.before is not None else None
        served = cluster.preferred(declared.group, declared.kind) if declared is not None else None
        if declared is None or served is None:
            continue  # not established: what it holds is unknown, and says so
        resource_type = ObjectRef(declared.group, declared.kind, None, "").type
        number = _counted(cluster, served.api_version, declared.kind)
        if number is None:
            forbidden: set[str] = set()
            listed = _listed(cluster, served.api_version, declared.kind, unreadable=forbidden)
            if forbidden:
                unreadable.update(forbidden)
                continue
            number = len(listed)
        counts[resource_type] = number
    return counts


def _counted(cluster: Cluster, api_version: str, kind: str) -> int | None:
    try:
        return cluster.count_objects(api_version, kind)
    except ClusterError as exc:
        if exc.status != _FORBIDDEN or isinstance(exc, ClusterUnreachableError):
            raise
        return None


def _group(served: ServedResource) -> str:
    return split_api_version(served.api_version)[0]
