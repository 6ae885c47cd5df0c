"""The change an input makes when no cluster is read: every object is created (or, for `--delete`, deleted)
on every target cluster, with Secret values masked and kept apart as literals to scrub."""

from __future__ import annotations

from collections.abc import Sequence

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.secret_data import secret_literals, shown_manifest


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
    return KubeChangeSet(tuple(changes), tuple(clusters), secret_literals(obj.manifest for obj in objects))
