"""`guardrail rollback plan|apply DIR [--to REF]`: the configuration at REF planned against the current
state, judged by the gate like any plan, applied exactly through the apply path, and verified.

A rollback plan is a plan like any other: its own fingerprint, its own approvals and locks, break-glass
when denied. Planning it again for the apply yields the same fingerprint when nothing changed meanwhile,
so an approval of `rollback plan`'s fingerprint carries over to `rollback apply`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.errors import BadInputError
from guardrail.core.locks import split_workspace_lock_name
from guardrail.core.ports import OutputLine
from guardrail.core.report import CheckReport
from guardrail.core.rollback.plan import RollbackPlan, RollbackResult, RollbackTarget, rollback_scrubber
from guardrail.core.rollback.undo import compare, remaining_changes
from guardrail.core.store_ports import Store
from guardrail.services.apply import ApplyOutcome, ApplyRequest, PlanOrigin, apply_reviewed
from guardrail.services.check import CheckRequest, check
from guardrail.services.review import settle
from guardrail.services.rollback_target import configuration_at, find_target, target_provenance
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_store
from guardrail.services.wiring import apply_lock_name

DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True)
class RollbackRequest:
    """A rollback of `directory` (its current workspace) to `to` (None: the previous apply's commit)."""

    directory: Path
    settings: Settings
    to: str | None = None
    store: str | None = None
    policies: tuple[Path, ...] = ()
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    terraform_bin: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    undo_seq: int | None = None  # the apply to undo (its apply-end event); None: the latest one


@dataclass(frozen=True)
class RollbackApplied:
    """A rollback apply: the plan, and how it ended (see RollbackResult); `outcome` is the apply's own."""

    plan: RollbackPlan
    result: RollbackResult
    outcome: ApplyOutcome


def plan_rollback(request: RollbackRequest, *, actor: str | None = None) -> RollbackPlan:
    """Plan the configuration at the target commit against the current state and settle it with the gate
    (the check is recorded, and a `rollback-plan` event links it to the apply it undoes).

    Raises BadInputError (no configuration, not a repository, no earlier apply without --to, a ref that is
    not a commit), CommandError (terraform failed: the configuration at REF does not plan), StoreError.
    """
    who = actor or current_actor()
    target = _target(request)
    with configuration_at(request.directory, target.commit) as inner, _plan_folder() as folder:
        report = _checked(request, inner, folder / "rollback.tfplan", target.commit)
    provenance = target_provenance(request.directory, target.commit)
    with opened_store(request.store, request.settings, rollback_scrubber(report.changeset, target)) as store:
        settled = settle(store, report, request.settings, who, datetime.now(UTC), provenance=provenance)
        planned = RollbackPlan(target, settled.report, compare(target.forward, report.changeset))
        _record(store, who, EventKind.ROLLBACK_PLAN, planned, {"decision": settled.report.verdict.decision.value})
    return planned


def apply_rollback(
    request: RollbackRequest, *, actor: str | None = None, on_line: Callable[[OutputLine], None] | None = None
) -> RollbackApplied:
    """Plan the rollback (as plan_rollback), apply that plan through the apply path (gate, dirty-tree
    rule, workspace lock, rollback point; terraform's output shown to `on_line` as it comes, scrubbed of
    the plan's secrets), then plan the target again: verified when nothing is left.

    Raises what plan_rollback and `apply` raise.
    """
    who = actor or current_actor()
    target = _target(request)
    with configuration_at(request.directory, target.commit) as inner, _plan_folder() as folder:
        plan_file = folder / "rollback.tfplan"
        report = _checked(request, inner, plan_file, target.commit)
        planned = RollbackPlan(target, report, compare(target.forward, report.changeset))
        links = {"rollback_of": target.link()}  # "rollback" already names the rollback point
        provenance = target_provenance(request.directory, target.commit)
        origin = PlanOrigin(inner, request.directory, provenance, links, source=_source(request, target.commit))
        outcome = apply_reviewed(_apply_request(request, plan_file), plan_file, origin, who, on_line=on_line)
        planned = RollbackPlan(target, outcome.report, planned.undo)
        if not outcome.applied:
            return RollbackApplied(planned, RollbackResult(applied=False), outcome)
        again = _checked(request, inner, folder / "verify.tfplan", target.commit)
    point = str(outcome.rollback) if outcome.rollback is not None else None
    result = RollbackResult(True, tuple(remaining_changes(again.changeset.changes)), point)
    with opened_store(request.store, request.settings, planned.scrubber()) as store:
        verdict = {"verified": result.verified, "remaining": list(result.remaining)}
        _record(store, who, EventKind.ROLLBACK_VERIFY, planned, verdict)
    return RollbackApplied(planned, result, outcome)


def _target(request: RollbackRequest) -> RollbackTarget:
    workspace = _workspace(request.directory)
    with opened_store(request.store, request.settings) as store:
        return find_target(request.directory, workspace, request.to, store, undo_seq=request.undo_seq)


def _checked(request: RollbackRequest, inner: Path, plan_file: Path, commit: str) -> CheckReport:
    """Plan `inner` (the directory at `commit`) into `plan_file` and check it with the request's rules (not
    yet settled)."""
    return check(
        CheckRequest(
            plan=inner,
            settings=request.settings,
            policies=request.policies,
            namespaces=request.namespaces,
            all_namespaces=request.all_namespaces,
            terraform_bin=request.terraform_bin,
            variables=request.variables,
            plan_out=plan_file,
            source=_source(request, commit),
        )
    )


def _source(request: RollbackRequest, commit: str) -> str:
    """How reports and the log name a rollback plan: the directory and the commit it puts back."""
    return f"{request.directory} at {commit[:12]}"


def _apply_request(request: RollbackRequest, plan_file: Path) -> ApplyRequest:
    return ApplyRequest(
        plan_file=plan_file,
        settings=request.settings,
        store=request.store,
        policies=request.policies,
        namespaces=request.namespaces,
        all_namespaces=request.all_namespaces,
        terraform_bin=request.terraform_bin,
    )


def _record(store: Store, who: str, kind: EventKind, planned: RollbackPlan, extra: Mapping[str, object]) -> None:
    undo = planned.undo
    payload: dict[str, object] = {
        **planned.target.link(),
        "undone": list(undo.undone),
        "cannot_undo": [
            {"address": c.address, "reversibility": c.reversibility.value, "reason": c.reason} for c in undo.cannot_undo
        ],
        "also_changes": list(undo.also_changes),
        **extra,
    }
    store.append(EventDraft(who, kind, payload, planned.report.changeset.fingerprint))


def _workspace(directory: Path) -> str:
    lock = apply_lock_name(directory)
    if lock is None:
        raise BadInputError(f"{directory}: no Terraform configuration here (no *.tf or *.tf.json files)")
    split = split_workspace_lock_name(lock)
    chosen = split[1] if split is not None else DEFAULT_WORKSPACE
    if chosen != DEFAULT_WORKSPACE and not os.environ.get("TF_WORKSPACE"):
        # The worktree starts uninitialised: only TF_WORKSPACE carries the workspace into it.
        raise BadInputError(
            f"{directory}: workspace {chosen} is selected there; set TF_WORKSPACE={chosen} to roll it back"
        )
    return lock


@contextmanager
def _plan_folder() -> Iterator[Path]:
    """A private folder for the rollback's plan files (they hold sensitive values in clear)."""
    with tempfile.TemporaryDirectory(prefix="guardrail-rollback-") as folder:
        yield Path(folder)


__all__: Sequence[str] = ["RollbackApplied", "RollbackRequest", "apply_rollback", "plan_rollback"]
