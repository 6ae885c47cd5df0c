"""Put back what a Kubernetes apply changed: its saved objects restored, the ones it created deleted.

A rollback is a change like any other: it is read against the live clusters (what restoring each object
would change now), judged by the same gate (its own fingerprint, which also names the apply it undoes; the
store's locks; approvals; break-glass), and applied as an apply is: its own rollback point first, each
object an audit event, the first failure stops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.kube.live import without_server_fields
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.rollback import RollbackPoint, SavedObject, bare
from guardrail.services.kube_apply import KubeApplyOutcome, carry_out
from guardrail.services.kube_check import KubeJudgement
from guardrail.services.kube_gate import judged, policies_of, submit
from guardrail.services.kube_live import change_set, read_cluster
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_store
from guardrail.services.wiring import connected_clusters


@dataclass(frozen=True)
class KubeRollbackRequest:
    """Which apply to undo, with the rules to judge the undoing by and the store that holds its rollback point."""

    apply_id: str
    settings: Settings
    kubeconfig: Path | None = None  # the kubeconfig holding the apply's contexts (kubectl's rules without it)
    store: str | None = None
    policies: Sequence[Path] = ()


def kube_rollback(request: KubeRollbackRequest, *, actor: str | None = None) -> KubeApplyOutcome:
    """Restore what apply `apply_id` changed, through the gate.

    Raises BadInputError (no such apply in the store, a context of the apply missing from the kubeconfig),
    and what kube_apply raises.
    """
    with opened_store(request.store, request.settings) as store:
        point = store.kube_rollback(request.apply_id.strip())
        where = store.description
    if point is None:
        raise BadInputError(f"kube rollback {request.apply_id}: store {where} holds no Kubernetes apply of that id")
    engine = policies_of(request.settings, request.policies)
    contexts = list(dict.fromkeys(saved.cluster for saved in point.objects))
    with connected_clusters(contexts, request.kubeconfig) as clusters:
        items = _objects(point)
        restored = [obj for obj, _, restore in items if restore]
        run = submit(engine, restored) if engine is not None else None
        readings = [
            read_cluster(
                cluster,
                [obj for obj, saved, restore in items if restore and saved.cluster == cluster.name],
                removed=[obj for obj, saved, restore in items if not restore and saved.cluster == cluster.name],
            )
            for cluster in clusters
        ]
        changes = change_set(readings, restored)
        source = f"rollback of kube apply {point.apply_id}"
        covers = [("kube-rollback-of", point.apply_id)]
        report = judged(request.settings, restored, changes, source=source, run=run, covers=covers)
        judgement = KubeJudgement(report, changes, tuple(restored), tuple(readings))
        who = actor or current_actor()
        return carry_out(judgement, clusters, request.settings, request.store, who, rollback_of=point.apply_id)


def _objects(point: RollbackPoint) -> list[tuple[RenderedObject, SavedObject, bool]]:
    """Each saved object as the rollback names it (by its place in the rollback point), with whether it is put
    back as it lived (the apply updated or deleted it) or deleted (the apply created it)."""
    items = []
    for index, saved in enumerate(point.objects):
        source, where = f"{point.apply_id}#{index}", f"rollback point {point.apply_id}: object {index}"
        restore = saved.action is not Action.CREATE and saved.live is not None
        manifest = without_server_fields(saved.live) if saved.live is not None and restore else bare(saved)
        items.append(
            (RenderedObject(saved.ref, saved.api_version, manifest, manifest, source, True, where), saved, restore)
        )
    return items
