"""What a Kubernetes apply changes, in which order, and how to put it back.

Pure. The apply sends objects in dependency order: Namespaces and CustomResourceDefinitions first (what
everything else lives in or is an instance of), then the other cluster-scoped objects, then namespaced ones;
deletes go last, in the reverse order (namespaced objects before their Namespace). Before it changes anything it
saves each object as it lives (the rollback point); a rollback restores the saved objects and deletes the ones
the apply created: a change of its own, judged by the same gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import KubeChange
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.scopes import CRD_GROUP, CRD_KIND

# What an apply does to an object, in the order it does it; the rest (no-op, read) it leaves alone.
APPLIED = frozenset({Action.CREATE, Action.UPDATE})
DELETED = frozenset({Action.DELETE})


@dataclass(frozen=True)
class SavedObject:
    """One object an apply changes on one cluster, as it lived just before (None: the apply creates it)."""

    cluster: str
    ref: ObjectRef
    api_version: str
    action: Action  # what the apply does to it: create, update or delete
    live: Mapping[str, Any] | None = field(default=None, repr=False)  # Secret values in clear: never shown


@dataclass(frozen=True)
class RollbackPoint:
    """The objects one apply changes, saved before it changed them; `rollback_of` names the apply that this
    one undoes, when it is a rollback."""

    apply_id: str
    fingerprint: str
    actor: str
    saved_at: datetime
    objects: tuple[SavedObject, ...]
    rollback_of: str | None = None


def rank(ref: ObjectRef) -> int:
    """Where an object goes in an apply: 0 Namespaces and CRDs, 1 other cluster-scoped objects, 2 namespaced."""
    if (ref.group, ref.kind) in (("", "Namespace"), (CRD_GROUP, CRD_KIND)):
        return 0
    return 1 if ref.namespace is None else 2


def apply_order(changes: Sequence[KubeChange]) -> list[KubeChange]:
    """The changes an apply makes, in the order it makes them: creates and updates by rank (input order within
    one), then deletes by reverse rank. Cluster after cluster, in the order the clusters were given."""
    clusters = list(dict.fromkeys(change.cluster for change in changes))
    ordered: list[KubeChange] = []
    for cluster in clusters:
        on = [c for c in changes if c.cluster == cluster]
        ordered += sorted((c for c in on if c.action in APPLIED), key=lambda c: rank(c.ref))
        ordered += sorted((c for c in on if c.action in DELETED), key=lambda c: -rank(c.ref))
    return ordered


def bare(saved: SavedObject) -> dict[str, Any]:
    """The least manifest that names a saved object (to delete one the apply created)."""
    metadata: dict[str, Any] = {"name": saved.ref.name}
    if saved.ref.namespace is not None:
        metadata["namespace"] = saved.ref.namespace
    return {"apiVersion": saved.api_version, "kind": saved.ref.kind, "metadata": metadata}
