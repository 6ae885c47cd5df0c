"""A Kubernetes change in the shape every other part of guardrail reads: a ChangeSet of ResourceChanges.

Fingerprints, approvals, locks, `protect:`, renderers and the TUI then work the same for both. An object's
address is kubectl's (`daemonset.apps/kube-system/agent`) when one cluster is targeted; with several, the
same object goes to each, so every address is prefixed by its cluster: `prod-eu::daemonset.apps/kube-system/
agent`. The structured `cluster` is on every change either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guardrail.core.change import ChangeSet, ResourceChange
from guardrail.core.kube.change import KubeChange, KubeChangeSet
from guardrail.core.kube.objects import ClusterObject, ObjectRef
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.secret_data import is_secret, masked_secret

# The plan format every Kubernetes ChangeSet reports (Terraform's is its format_version, `1.2`).
KUBE_FORMAT = "kubernetes"
CLUSTER_SEPARATOR = "::"


def qualified(changes: KubeChangeSet) -> bool:
    """Whether addresses carry their cluster: when more than one cluster is targeted."""
    return len(changes.clusters) > 1


def object_address(cluster: str, ref: ObjectRef, *, with_cluster: bool) -> str:
    """The address of an object on a cluster, prefixed by the cluster when `with_cluster`."""
    return f"{cluster}{CLUSTER_SEPARATOR}{ref.address}" if with_cluster else ref.address


def change_address(change: KubeChange, *, with_cluster: bool) -> str:
    """The address of one object change, prefixed by its cluster when `with_cluster`: every finding on the
    change names it so, whichever rule found it."""
    return object_address(change.cluster, change.ref, with_cluster=with_cluster)


def derived_changeset(changes: KubeChangeSet, *, source: str, fingerprint: str) -> ChangeSet:
    """The ChangeSet of a KubeChangeSet: one ResourceChange per object and cluster, masks included."""
    with_cluster = qualified(changes)
    return ChangeSet(
        source=source,
        fingerprint=fingerprint,
        format_version=KUBE_FORMAT,
        changes=tuple(_resource_change(change, with_cluster) for change in changes.changes),
        sensitive_literals=changes.sensitive_literals,
    )


def _resource_change(change: KubeChange, with_cluster: bool) -> ResourceChange:
    secret = change.ref.kind == "Secret" and not change.ref.group
    return ResourceChange(
        address=change_address(change, with_cluster=with_cluster),
        type=change.ref.type,
        name=change.ref.name,
        action=change.action,
        actions=(change.action.value,),
        provider_name="kubernetes",
        before=change.before,
        after=change.after,
        after_unknown={},
        before_sensitive=_mask(change.before) if secret else {},
        after_sensitive=_mask(change.after) if secret else {},
        cluster_object=ClusterObject(change.cluster, change.ref, change.scope_known, change.changed_paths),
    )


def _mask(manifest: Mapping[str, Any] | None) -> Any:
    # Masking keeps the keys, so the masked copy yields the same mask as the original would.
    if manifest is None or not is_secret(manifest):
        return {}
    return masked_secret(manifest)[1]


def fingerprint_sections(objects: Sequence[RenderedObject], changes: KubeChangeSet) -> list[tuple[str, Any]]:
    """What a Kubernetes fingerprint covers, as plain data for a canonical JSON encoder: the target clusters
    (names and versions), each object change (cluster, address, action, apiVersion, the fields an update
    changes: a live object that moved since the review is another change) and every rendered object
    in full (Secret values too: a different secret is a different change). Sorted, so the order of the input
    files does not matter; the source names are left out, so moving a manifest to another file does not."""
    clusters = [[c.name, c.version] for c in sorted(changes.clusters, key=lambda c: c.name)]
    actions = sorted(
        [change.cluster, change.ref.address, change.action.value, change.api_version, list(change.changed_paths)]
        for change in changes.changes
    )
    rendered = [[obj.ref.address, obj.manifest] for obj in sorted(objects, key=lambda o: o.ref.address)]
    return [("kube-clusters", clusters), ("kube-changes", actions), ("kube-objects", rendered)]
