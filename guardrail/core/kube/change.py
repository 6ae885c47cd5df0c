"""A Kubernetes change as the gate judges it: objects bound for clusters, and what is known of each cluster.

The Terraform side reads a plan into a ChangeSet; the Kubernetes side reads manifests (and, with a
context, the live objects) into a KubeChangeSet. Kubernetes rules evaluate a KubeChangeSet; the gate
also derives a ChangeSet from it (addresses, actions, before/after) so that fingerprints, approvals,
locks and renderers work the same way for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from guardrail.core.change import Action
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.scopes import BUILT_IN_SCOPES
from guardrail.core.verdict import Finding

# The name of the one cluster of an offline check (no context given).
OFFLINE_CLUSTER = "offline"
# Built-in types that never live in a namespace (`clusterrolebinding.rbac.authorization.k8s.io`).
_CLUSTER_SCOPED_TYPES = frozenset(
    ObjectRef(group, kind, None, "").type for (group, kind), namespaced in BUILT_IN_SCOPES.items() if not namespaced
)


class DiffSource(StrEnum):
    """How the gate learnt what an object change does."""

    OFFLINE = "offline"  # no cluster: every object is a create (or a delete with --delete)
    SERVER_SIDE = "server-side"  # server-side dry-run apply against the live object
    CLIENT_SIDE = "client-side"  # the live object compared with the manifest here


@dataclass(frozen=True)
class ClusterView:
    """What the gate knows of one target cluster. Unknown parts are None, never empty: a rule that needs
    them must say it could not tell (fail closed), not conclude "nothing"."""

    name: str
    # The version the change will meet: --target-version before an upgrade, else the live /version.
    version: str | None = None
    nodes: tuple[NodeInfo, ...] | None = None
    # Live objects fetched for analysis (RBAC roles and bindings, workloads, services, pods...), as served.
    live: tuple[Mapping[str, Any], ...] | None = None
    # Object counts per resource type (`pod`, `node`, `secret`, `customresourcedefinition.apiextensions.k8s.io`).
    counts: Mapping[str, int] | None = None
    diff_source: DiffSource = DiffSource.OFFLINE
    # Resource types (`clusterrolebinding.rbac.authorization.k8s.io`) whose live objects guardrail's identity
    # may not list (403): `live` holds none of them, which means unknown, not none.
    unreadable: frozenset[str] = frozenset()

    def unlisted(self, kinds: Iterable[tuple[str, str]] | None = None) -> tuple[str, ...]:
        """The resource types, sorted, whose live objects are unknown because listing them is forbidden: among
        `kinds` (group, kind) when given, else every such type that can live in a namespace (what a count of a
        namespace's objects misses; built-in cluster-scoped types left out)."""
        if kinds is not None:
            return tuple(sorted(self.unreadable & {ObjectRef(group, kind, None, "").type for group, kind in kinds}))
        return tuple(sorted(self.unreadable - _CLUSTER_SCOPED_TYPES))

    def live_of_kind(self, kind: str, group: str = "") -> Iterator[Mapping[str, Any]]:
        """The live objects of one kind (and API group), when live objects are known."""
        for obj in self.live or ():
            ref_group = str(obj.get("apiVersion", "")).rpartition("/")[0]
            if obj.get("kind") == kind and ref_group == group:
                yield obj


@dataclass(frozen=True)
class KubeChange:
    """One object's change on one cluster. `before` is the live object (None for a create), `after` the
    object as it will be (None for a delete); Secret data is already masked in both."""

    cluster: str
    ref: ObjectRef
    api_version: str  # as written in the manifest (or served, for a delete of a live object)
    action: Action
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    source: str = ""  # where it came from: `file.yaml#3` (document index), `-#0`, or `live` for a prune
    # Field-level differences, `spec.template.spec.containers[0].image`, for updates.
    changed_paths: tuple[str, ...] = ()
    # False for a kind that neither Kubernetes nor a CRD of the input declares (offline: scope unknown).
    scope_known: bool = True

    @property
    def manifest(self) -> Mapping[str, Any] | None:
        """The object as it will be, else as it was (for a delete)."""
        return self.after if self.after is not None else self.before


@dataclass(frozen=True)
class KubeChangeSet:
    """Every object change of one gate run, on every target cluster."""

    changes: tuple[KubeChange, ...] = ()
    clusters: tuple[ClusterView, ...] = ()
    # Literal secret values (Secret data) found in the input: scrubbed from any free text as a last defence.
    sensitive_literals: frozenset[str] = field(default=frozenset(), repr=False)

    def cluster(self, name: str) -> ClusterView | None:
        return next((c for c in self.clusters if c.name == name), None)

    def on(self, cluster: str) -> Sequence[KubeChange]:
        return [c for c in self.changes if c.cluster == cluster]


class KubeRule(Protocol):
    """A built-in Kubernetes check. `id` names it in every output; evaluate never performs I/O."""

    @property
    def id(self) -> str: ...

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]: ...
