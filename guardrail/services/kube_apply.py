"""Apply exactly the reviewed Kubernetes objects: the gate rerun on them, allowed, under each cluster's apply lock.

Order matters, as for a Terraform apply. The change is judged first (its fingerprint, recomputed from the
manifests and the live clusters, is what approvals are bound to); only an allowed change takes the apply
locks (one per cluster, `kubernetes:CONTEXT`); only the lock holder spends a break-glass pass, saves the
rollback point (every object it will change, as it lives now, in the store) and applies: server-side apply
with field manager `guardrail`, conflicts forced as the dry run forced them, in dependency order (see
guardrail.core.kube.rollback.apply_order). Every object's outcome is an audit event; the first failure stops
the apply, and the outcome says what was applied before it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from guardrail.config import Settings
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError, ClusterError, StalePlanError
from guardrail.core.kube.change import KubeChange
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.rollback import RollbackPoint, SavedObject, apply_order
from guardrail.core.report import CheckReport
from guardrail.core.secrets import Scrubber, scrubber_for
from guardrail.core.store_ports import KubeRollbackStore
from guardrail.core.verdict import Decision
from guardrail.services import apply_lock
from guardrail.services.apply_lock import ApplyStore
from guardrail.services.approvals import use_break_glass
from guardrail.services.kube_check import KubeCheckRequest, KubeJudgement, judge
from guardrail.services.kube_live import FIELD_MANAGER
from guardrail.services.review import settle
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_store
from guardrail.services.wiring import connected_clusters

APPLY_LOCK_PREFIX = "kubernetes:"


class KubeApplyStore(ApplyStore, KubeRollbackStore, Protocol):
    """What applying needs of the store: apply locks, the audit log and rollback points."""


@dataclass(frozen=True)
class KubeApplyRequest:
    """The manifests and clusters to apply (a check request: without a context, the kubeconfig's current
    one, as kubectl applies), and the store that judges and records it."""

    check: KubeCheckRequest
    store: str | None = None


class ObjectResult(StrEnum):
    """What an apply did to one object."""

    APPLIED = "applied"  # created or updated by server-side apply
    DELETED = "deleted"
    FAILED = "failed"  # refused: the apply stopped here


@dataclass(frozen=True)
class ObjectOutcome:
    """What an apply did to one object, and why it failed when it did."""

    address: str
    cluster: str
    action: Action
    outcome: ObjectResult
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.outcome is not ObjectResult.FAILED


@dataclass(frozen=True)
class KubeApplyOutcome:
    """What happened. `applied` false means nothing ran: the settled verdict in `report` says why. `objects`
    are what was done, in order, up to the failure that stopped it (`failure`, scrubbed of secrets)."""

    report: CheckReport
    applied: bool
    apply_id: str | None = None
    objects: tuple[ObjectOutcome, ...] = ()
    planned: int = 0  # how many objects the apply set out to change
    failure: str | None = None


def kube_apply(request: KubeApplyRequest, *, actor: str | None = None) -> KubeApplyOutcome:
    """Rerun the gate on the manifests against the live clusters with the store's locks and approvals and,
    when the verdict is allow (or a break-glass pass lets it through), apply them.

    Raises BadInputError (bad manifests, context, store: exit 3), ClusterError (a cluster that cannot be
    read: exit 3), ApplyLockHeldError (another apply holds a cluster: exit 1), StalePlanError (a live object
    changed between the check and the apply: exit 1). A refusal midway is no exception: see `failure`.
    """
    if request.check.delete:
        raise BadInputError("kube apply applies objects; delete them with --prune or kubectl delete")
    with connected_clusters(request.check.contexts, request.check.kubeconfig) as clusters:
        judgement = judge(request.check, clusters)
        return carry_out(judgement, clusters, request.check.settings, request.store, actor or current_actor())


def carry_out(
    judgement: KubeJudgement,
    clusters: Sequence[Cluster],
    settings: Settings,
    store: str | None,
    who: str,
    *,
    rollback_of: str | None = None,
) -> KubeApplyOutcome:
    """Settle a judged change with the store and, when allowed, apply it (see the module docstring).
    `rollback_of` names the apply that this change undoes. Raises what kube_apply raises."""
    report = judgement.report
    scrub = scrubber_for(report.changeset.sensitive_literals)
    with opened_store(store, settings, scrub) as opened:
        reviewed = settle(opened, report, settings, who, datetime.now(UTC), applying=True)
        if reviewed.report.verdict.decision is not Decision.ALLOW:
            return KubeApplyOutcome(reviewed.report, applied=False)
        steps = apply_order(judgement.changes.changes)
        if not steps:
            return KubeApplyOutcome(reviewed.report, applied=True)
        apply_id = f"kube-{secrets.token_hex(6)}"
        grant = reviewed.gate.settlement.break_glass
        names = list(dict.fromkeys(step.cluster for step in steps))
        with _locked(opened, names, who, report.changeset.fingerprint) as ends:
            if grant is not None:
                use_break_glass(opened, grant, who, datetime.now(UTC))
            by_name = {c.name: c for c in clusters}
            run = _Run(opened, judgement, clusters=by_name, who=who, apply_id=apply_id, scrub=scrub)
            run.save(steps, rollback_of)
            done, failure = run.apply(steps)
            for name, end in ends.items():
                end.update(run.summary(name, failure))
    return KubeApplyOutcome(reviewed.report, True, apply_id, tuple(done), len(steps), failure)


@contextmanager
def _locked(
    store: ApplyStore, clusters: Sequence[str], who: str, fingerprint: str
) -> Iterator[dict[str, dict[str, object]]]:
    # One apply lock per cluster, taken in name order so that two applies to overlapping clusters cannot
    # each hold one lock and wait for the other.
    with ExitStack() as stack:
        ends = {
            name: stack.enter_context(
                apply_lock.holding(store, APPLY_LOCK_PREFIX + name, who, datetime.now(UTC), fingerprint=fingerprint)
            )
            for name in sorted(clusters)
        }
        yield ends


class _Run:
    """One apply's work on its clusters: the rollback point, then each object, each recorded."""

    def __init__(
        self,
        store: KubeApplyStore,
        judgement: KubeJudgement,
        *,
        clusters: Mapping[str, Cluster],
        who: str,
        apply_id: str,
        scrub: Scrubber,
    ) -> None:
        self.store = store
        self.judgement = judgement
        self.clusters = clusters
        self.who = who
        self.apply_id = apply_id
        self.scrub = scrub
        self.fingerprint = judgement.report.changeset.fingerprint
        self.with_cluster = qualified(judgement.changes)
        self.manifests = {reading.view.name: reading.manifests for reading in judgement.readings}
        self.done: list[ObjectOutcome] = []

    def save(self, steps: Sequence[KubeChange], rollback_of: str | None) -> None:
        """Save every object the steps change as it lives now; refuse when one moved since the check."""
        saved = []
        for step in steps:
            cluster = self.clusters[step.cluster]
            # A custom resource whose definition this apply creates cannot live yet (nor be asked for).
            served = cluster.served(step.api_version, step.ref.kind) is not None
            live = cluster.get(step.ref, step.api_version) if served else None
            if (live is None) != (step.action is Action.CREATE):
                now = "exists" if live is not None else "is gone"
                raise StalePlanError(
                    f"{self._address(step)} {now} on cluster {step.cluster} since it was checked: check again"
                )
            saved.append(SavedObject(step.cluster, step.ref, step.api_version, step.action, live))
        point = RollbackPoint(self.apply_id, self.fingerprint, self.who, datetime.now(UTC), tuple(saved), rollback_of)
        addresses = [self._address(step) for step in steps]
        payload: dict[str, object] = {"apply_id": self.apply_id, "addresses": addresses}
        event = EventDraft(self.who, EventKind.KUBE_ROLLBACK_POINT, payload, self.fingerprint)
        self.store.save_kube_rollback(point, event)
        if rollback_of is not None:
            undo = {"apply_id": self.apply_id, "rollback_of": rollback_of, "addresses": addresses}
            self.store.append(EventDraft(self.who, EventKind.KUBE_ROLLBACK, undo, self.fingerprint))

    def apply(self, steps: Sequence[KubeChange]) -> tuple[list[ObjectOutcome], str | None]:
        """Each step in order, each recorded; the first refusal stops the rest."""
        for step in steps:
            cluster = self.clusters[step.cluster]
            try:
                if step.action is Action.DELETE:
                    cluster.delete(step.ref, step.api_version)
                    outcome = ObjectResult.DELETED
                else:
                    manifest = self.manifests[step.cluster][step.ref]
                    cluster.apply(manifest, field_manager=FIELD_MANAGER, force=True)
                    outcome = ObjectResult.APPLIED
            except ClusterError as error:
                why = self.scrub(str(error))  # an API server may quote the object, Secret values included
                self._record(ObjectOutcome(self._address(step), step.cluster, step.action, ObjectResult.FAILED, why))
                return self.done, f"{self._address(step)}: {why}"
            self._record(ObjectOutcome(self._address(step), step.cluster, step.action, outcome))
        return self.done, None

    def summary(self, cluster: str, failure: str | None) -> dict[str, object]:
        """The apply-end record of one cluster's lock."""
        on = [o for o in self.done if o.cluster == cluster]
        summary: dict[str, object] = {
            "apply_id": self.apply_id,
            "applied": sum(o.changed for o in on),
            "status": "failed" if failure is not None else "succeeded",
        }
        if failure is not None:
            summary["error"] = failure
        return summary

    def _record(self, outcome: ObjectOutcome) -> None:
        self.done.append(outcome)
        payload: dict[str, object] = {
            "apply_id": self.apply_id,
            "address": outcome.address,
            "cluster": outcome.cluster,
            "action": outcome.action.value,
            "outcome": outcome.outcome.value,
        }
        if outcome.error is not None:
            payload["error"] = outcome.error
        self.store.append(EventDraft(self.who, EventKind.KUBE_APPLY_OBJECT, payload, self.fingerprint))

    def _address(self, step: KubeChange) -> str:
        return change_address(step, with_cluster=self.with_cluster)
