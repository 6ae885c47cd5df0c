"""The gate with the store: a checked plan, frozen by the active locks, settled by its approvals, recorded.

`check` alone judges a plan by its content; this adds what people decided at runtime: locks block it,
approvals or a break-glass pass let it through, and the check itself enters the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from guardrail.config import Settings
from guardrail.core.approvals import BREAK_GLASS_NAMESPACE
from guardrail.core.policy import evaluate
from guardrail.core.provenance import Provenance
from guardrail.core.report import CheckReport
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.store_ports import Store, StoreOpener
from guardrail.core.verdict import Decision, Verdict
from guardrail.services.approvals import GateResult, gate
from guardrail.services.check import CheckRequest, check
from guardrail.services.provenance import configuration_directory, gather
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_for_review, signature_verifier


@dataclass(frozen=True)
class Reviewed:
    """A plan's report with the settled verdict and notes, and what settled it."""

    report: CheckReport
    gate: GateResult


def review(
    request: CheckRequest,
    store: str | None = None,
    *,
    helper: StoreOpener | None = None,
    clock: Callable[[], datetime] | None = None,
) -> CheckReport:
    """Check the plan, then settle and record it in the store chosen by `store` (see store_url).

    `helper` (wiring.start_store_helper) has the store's libraries imported in another process meanwhile; without
    it the store is opened here after the check (a thread beside the check was measured slower: both are
    CPU-bound Python). Raises what check raises, and StoreError (exit 3) when the store fails: without the
    store there is no verdict at all, since locks and approvals could not be known. Locks and approvals
    are judged at `clock()` (default: the system clock), taken once the plan is checked.
    """
    report = check(request)
    literals = report.changeset.sensitive_literals
    directory = configuration_directory(request.plan, request.configuration)
    plan_files = [p for p in (request.plan_out, request.plan) if p is not None and not p.is_dir()]
    with opened_for_review(store, request.settings, literals, helper) as opened:
        # The log is read only in a repository: outside one there is no commit to look for.
        origin = gather(directory, opened, plan_files=plan_files)
        at = clock() if clock is not None else datetime.now(UTC)
        settled = settle(opened, report, request.settings, current_actor(), at, provenance=origin)
    if not origin.dirty:
        return settled.report
    warning = f"made from a dirty tree ({origin.describe()}): guardrail apply refuses it without --allow-dirty"
    return replace(settled.report, notes=(*settled.report.notes, warning))


def settle(
    store: Store,
    report: CheckReport,
    settings: Settings,
    actor: str,
    now: datetime,
    *,
    applying: bool = False,
    provenance: Provenance | None = None,
) -> Reviewed:
    """Add the findings of the locks active at `now`, settle the verdict with the plan's approvals and
    break-glass passes, and record the check by `actor` with the plan's `provenance`. Raises StoreError,
    BadInputError."""
    changeset = report.changeset
    standing = store.standing(changeset.fingerprint)  # one read, every record held to the audit chain
    lock_findings = evaluate(changeset, [ActiveLocksRule(standing.locks, now)])
    verdict = Verdict.of([*report.verdict.findings, *lock_findings]) if lock_findings else report.verdict
    result = gate(
        store,
        settings.approvals.policy(),
        changeset,
        verdict,
        actor,
        now=now,
        verifier=signature_verifier(settings),
        applying=applying,
        break_glass_verifier=signature_verifier(settings, BREAK_GLASS_NAMESPACE),
        provenance=provenance,
        rollback=report.rollback,
        standing=standing,
    )
    notes = [*report.notes, *result.settlement.notes]
    notes.extend(f"approval by {approval.actor} not counted: {why}" for approval, why in result.status.ignored)
    decision = result.settlement.verdict.decision
    if decision is Decision.NEEDS_APPROVAL:
        notes.append(f"author: {result.author}; approve with: guardrail approve {changeset.fingerprint}")
    # Which configuration and store decided: a plan judged from another directory says where its rules,
    # locks and approvals came from (see CheckReport.provenance).
    config = str(settings.source) if settings.source is not None else None
    verdict = result.settlement.verdict
    settled = replace(report, verdict=verdict, notes=tuple(notes), config=config, store=store.description)
    return Reviewed(settled, result)
