"""The change an input makes when no cluster is read: every object is created (or, for `--delete`, deleted)
on every target cluster, with Secret values masked and kept apart as literals to scrub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.secret_data import is_secret, masked_secret, secret_values
from guardrail.core.secrets import literal_secrets


def shown_manifest(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The manifest as any output may show it: a Secret's values masked, every other object as it is."""
    return masked_secret(manifest)[0] if is_secret(manifest) else manifest


def input_secrets(objects: Iterable[RenderedObject]) -> frozenset[str]:
    """The literal Secret values of the input (long enough to scrub safely)."""
    return literal_secrets(value for obj in objects if is_secret(obj.manifest) for value in secret_values(obj.manifest))


def offline_changes(
    objects: Sequence[RenderedObject], clusters: Sequence[ClusterView], *, delete: bool = False
) -> KubeChangeSet:
    """One create per object and cluster (a delete with `delete`), in input order, cluster after cluster."""
    action = Action.DELETE if delete else Action.CREATE
    shown = [shown_manifest(obj.manifest) for obj in objects]
    changes = [
        KubeChange(
            cluster=cluster.name,
            ref=obj.ref,
            api_version=obj.api_version,
            action=action,
            before=manifest if delete else None,
            after=None if delete else manifest,
            source=obj.source,
            scope_known=obj.scope_known,
        )
        for cluster in clusters
        for obj, manifest in zip(objects, shown, strict=True)
    ]
    return KubeChangeSet(tuple(changes), tuple(clusters), input_secrets(objects))
