"""The gate with the store: a checked plan, frozen by the active locks, settled by its approvals, recorded.

`check` alone judges a plan by its content; this adds what people decided at runtime: locks block it,
approvals or a break-glass pass let it through, and the check itself enters the audit log.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from guardrail.config import Settings
from guardrail.core.policy import evaluate
from guardrail.core.report import CheckReport
from guardrail.core.secrets import Scrubber
from guardrail.core.store_ports import Store
from guardrail.core.verdict import Decision, Verdict
from guardrail.services.approvals import GateResult, gate
from guardrail.services.check import CheckRequest, check
from guardrail.services.locks import locks_rule
from guardrail.services.store import actor as current_actor
from guardrail.services.store import open_configured_store, signature_verifier

if TYPE_CHECKING:
    from guardrail.adapters.store import SqlStore


@dataclass(frozen=True)
class Reviewed:
    """A plan's report with the settled verdict and notes, and what settled it."""

    report: CheckReport
    gate: GateResult


def review(request: CheckRequest, store: str | None = None, *, actor: str | None = None) -> CheckReport:
    """Check the plan, then settle and record it in the store chosen by `store` (see store_url).

    Raises what check raises, and StoreError (exit 3) when the store fails: without the store there is
    no verdict at all, since locks and approvals could not be known.
    """
    # Opening the store (importing SQLAlchemy, connecting, checking the schema) overlaps the check: much of
    # it runs while the check reads the plan or waits for its policy child, instead of after it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="guardrail-store") as pool:
        opening = pool.submit(open_configured_store, store, request.settings)
        try:
            report = check(request)
        except BaseException:
            opening.add_done_callback(_close_opened)
            raise
        opened = opening.result()  # StoreError: no verdict without the store
    try:
        scrubbed = opened.scrubbing(Scrubber(report.changeset.sensitive_literals))
        return settle(scrubbed, report, request.settings, actor or current_actor(), datetime.now(UTC)).report
    finally:
        opened.close()


def _close_opened(opening: Future[SqlStore]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def settle(store: Store, report: CheckReport, settings: Settings, actor: str, now: datetime) -> Reviewed:
    """Add the findings of the locks active at `now`, settle the verdict with the plan's approvals and
    break-glass passes, and record the check by `actor`. Raises StoreError, BadInputError."""
    changeset = report.changeset
    lock_findings = evaluate(changeset, [locks_rule(store, now)])
    verdict = Verdict.of([*report.verdict.findings, *lock_findings]) if lock_findings else report.verdict
    result = gate(
        store, settings.approvals.policy(), changeset, verdict, actor, now=now, verifier=signature_verifier(settings)
    )
    notes = [*report.notes, *result.settlement.notes]
    notes.extend(f"approval by {approval.actor} not counted: {why}" for approval, why in result.status.ignored)
    decision = result.settlement.verdict.decision
    if decision is Decision.NEEDS_APPROVAL:
        notes.append(f"author: {result.author}; approve with: guardrail approve {changeset.fingerprint}")
    settled = replace(report, verdict=result.settlement.verdict, notes=tuple(notes))
    return Reviewed(settled, result)
