"""Approvals bound to the exact plan, and break-glass: record checks, approve, settle the verdict."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from guardrail.core.approvals import (
    BREAK_GLASS_NAMESPACE,
    DEFAULT_BREAK_GLASS_TTL,
    SIGNATURE_NAMESPACE,
    Approval,
    ApprovalPolicy,
    ApprovalRefusedError,
    ApprovalStatus,
    BreakGlass,
    InvalidSignatureError,
    Settlement,
    ensure_can_approve,
    ensure_can_break_glass,
    settle,
    signed_message,
    tally,
)
from guardrail.core.audit import EventDraft, EventKind, iso_utc
from guardrail.core.change import Action, ChangeSet
from guardrail.core.errors import BadInputError, DeniedError, StoreError
from guardrail.core.provenance import Provenance
from guardrail.core.rollback.reversibility import RollbackAssessment
from guardrail.core.rollback.undo import check_record
from guardrail.core.secrets import plan_scrubber
from guardrail.core.store_ports import ApprovalStore, SignatureVerifier, Standing
from guardrail.core.verdict import Verdict

# An author, once stored, never changes: a second attempt always settles with the decided one.
_SETTLE_ATTEMPTS = 2


@dataclass(frozen=True)
class GateResult:
    """A checked plan's final verdict, with who wrote it, which approvals counted, and every break-glass
    pass of the plan (used, expired or ignored ones too: for display)."""

    settlement: Settlement
    author: str
    status: ApprovalStatus
    passes: tuple[BreakGlass, ...] = ()


def gate(
    store: ApprovalStore,
    policy: ApprovalPolicy,
    changeset: ChangeSet,
    verdict: Verdict,
    actor: str,
    *,
    now: datetime,
    verifier: SignatureVerifier | None = None,
    applying: bool = False,
    break_glass_verifier: SignatureVerifier | None = None,
    provenance: Provenance | None = None,
    rollback: RollbackAssessment | None = None,
    standing: Standing | None = None,
) -> GateResult:
    """Settle `verdict` with the plan's approvals and break-glass passes, and record the check.

    The first actor to check a fingerprint is its author, decided by the store in the same transaction
    that records the check, so that actors checking a new plan at once are never each told they wrote
    it. Enough valid approvals turn "needs approval" into "allow"; when `applying`, a usable break-glass
    pass lets a denied plan through (spend it with `use_break_glass`); a check only reports the pass.
    `provenance` (where the plan came from) and the lossy and irreversible changes of `rollback` are
    recorded with the check. `standing` is the plan's standing when the caller has read it already.
    Raises StoreError when the store fails, BadInputError when signatures are required but no verifier
    is configured.
    """
    fingerprint = changeset.fingerprint
    standing = standing or store.standing(fingerprint)
    given = list(standing.approvals)
    all_passes = list(standing.passes)
    passes, refused = _signed_passes(all_passes, policy, fingerprint, break_glass_verifier)
    author = standing.author or actor  # the likely author; the store decides below
    for _attempt in range(_SETTLE_ATTEMPTS):
        invalid = _invalid_signatures(given, policy, fingerprint, author, verifier)
        status = tally(policy, author, given, invalid)
        settlement = settle(verdict, status, passes, now, policy=policy, applying=applying)
        if refused:
            settlement = replace(settlement, notes=(*refused, *settlement.notes))
        payload = _check_payload(changeset, verdict, settlement, author, status)
        if rollback is not None:
            payload["rollback"] = check_record(rollback)
        if provenance is not None:
            payload["provenance"] = provenance.to_payload()
        event = EventDraft(actor, EventKind.CHECK, payload, fingerprint)
        decided = store.record_check(fingerprint, actor, now, event, author=author)
        if decided == author:
            return GateResult(settlement, author, status, tuple(all_passes))
        author = decided  # another actor's first check was recorded first: settle again with theirs
    raise StoreError(f"plan {fingerprint}: its author kept changing while the check was recorded")


def approve(
    store: ApprovalStore,
    policy: ApprovalPolicy,
    fingerprint: str,
    actor: str,
    now: datetime,
    *,
    comment: str = "",
    signature: str | None = None,
    verifier: SignatureVerifier | None = None,
) -> Approval:
    """Record `actor`'s approval of the plan; an `approval` event.

    Raises ApprovalRefusedError (exit 1) when the actor is the author, is not an allowed approver or the
    plan was never checked; InvalidSignatureError (exit 1) for a missing or bad signature when signatures
    are required; BadInputError when the actor already approved; StoreError.
    """
    author = store.plan_author(fingerprint)
    ensure_can_approve(policy, author, actor)
    signature = _checked_signature(
        policy, verifier, actor, fingerprint, signature, what="approval", namespace=SIGNATURE_NAMESPACE
    )
    if signature is not None and verifier is not None:
        _ensure_not_the_authors_key(verifier, signature, author, actor)
    approval = Approval(fingerprint, actor, now, comment.strip(), signature)
    payload = {"comment": approval.comment, "signed": signature is not None}
    store.add_approval(approval, EventDraft(actor, EventKind.APPROVAL, payload, fingerprint))
    return approval


def break_glass(
    store: ApprovalStore,
    policy: ApprovalPolicy,
    fingerprint: str,
    actor: str,
    *,
    reason: str,
    now: datetime,
    ttl: timedelta = DEFAULT_BREAK_GLASS_TTL,
    signature: str | None = None,
    verifier: SignatureVerifier | None = None,
) -> BreakGlass:
    """Grant a one-time pass for one checked plan until now + `ttl`; a loud `break-glass` event.

    When signatures are required (approvals.allowed_signers), the grant must carry the actor's SSH
    signature over the fingerprint in the break-glass namespace (`verifier` checks it), like an approval:
    overriding the rules must not rest on an environment variable either. Raises ApprovalRefusedError
    when `actor` is not allowed to; InvalidSignatureError (exit 1) for a missing or bad signature;
    BadInputError for an empty reason, a time limit out of range, or a plan never checked; StoreError.
    """
    ensure_can_break_glass(policy, actor, reason, ttl)
    if store.plan_author(fingerprint) is None:
        raise BadInputError(f"plan {fingerprint}: never checked: run guardrail check on it first")
    kept = _checked_signature(
        policy, verifier, actor, fingerprint, signature, what="break-glass", namespace=BREAK_GLASS_NAMESPACE
    )
    grant = BreakGlass(f"bg-{secrets.token_hex(4)}", fingerprint, actor, reason.strip(), now, now + ttl, None, kept)
    payload = {
        "pass_id": grant.id,
        "reason": grant.reason,
        "expires_at": iso_utc(grant.expires_at),
        "signed": kept is not None,
    }
    store.add_break_glass(grant, EventDraft(actor, EventKind.BREAK_GLASS, payload, fingerprint))
    return grant


def use_break_glass(store: ApprovalStore, grant: BreakGlass, actor: str, now: datetime) -> None:
    """Spend the pass that a settlement relied on, just before applying.

    Raises DeniedError (exit 1) when it was spent or expired meanwhile (by a concurrent apply); StoreError.
    """
    payload = {"pass_id": grant.id, "granted_by": grant.actor, "reason": grant.reason}
    event = EventDraft(actor, EventKind.BREAK_GLASS_USED, payload, grant.fingerprint)
    if not store.use_break_glass(grant.id, now, event):
        raise DeniedError(f"break-glass pass {grant.id} was already used or has expired")


def _checked_signature(
    policy: ApprovalPolicy,
    verifier: SignatureVerifier | None,
    actor: str,
    fingerprint: str,
    signature: str | None,
    *,
    what: str,
    namespace: str,
) -> str | None:
    """The signature (stripped; None when blank) once it verifies for `actor` over the fingerprint.

    Raises InvalidSignatureError when one is required and missing, or does not verify; BadInputError when
    one is given but no allowed_signers file is configured."""
    signature = signature.strip() if signature and signature.strip() else None
    if policy.signatures_required and signature is None:
        raise InvalidSignatureError(
            f"{what} refused: signatures are required; sign the fingerprint with "
            f"`printf %s {fingerprint} | ssh-keygen -Y sign -f KEY -n {namespace}`"
        )
    if signature is not None:
        if verifier is None:
            raise BadInputError("a signature was given but no approvals.allowed_signers file is configured")
        verifier.verify(actor, signed_message(fingerprint), signature)
    return signature


def _invalid_signatures(
    approvals: list[Approval],
    policy: ApprovalPolicy,
    fingerprint: str,
    author: str | None,
    verifier: SignatureVerifier | None,
) -> dict[str, str]:
    # Re-verified at every check: a row written straight into the store must not count as an approval.
    if verifier is None:
        if policy.signatures_required:
            raise BadInputError("approvals need signatures but no allowed_signers file is configured")
        return {}
    invalid: dict[str, str] = {}
    for approval in approvals:
        if approval.signature is None:
            continue
        try:
            verifier.verify(approval.actor, signed_message(fingerprint), approval.signature)
            _ensure_not_the_authors_key(verifier, approval.signature, author, approval.actor)
        except InvalidSignatureError as error:
            invalid[approval.actor] = str(error)
    return invalid


def _signed_passes(
    passes: list[BreakGlass], policy: ApprovalPolicy, fingerprint: str, verifier: SignatureVerifier | None
) -> tuple[list[BreakGlass], list[str]]:
    """The passes that may count, and why the others do not: when signatures are required, a pass counts
    only with its holder's valid signature, verified again each time (a row written into the store behind
    guardrail's back, or one granted before signatures were required, lets nothing through)."""
    if not policy.signatures_required:
        return passes, []
    kept: list[BreakGlass] = []
    refused: list[str] = []
    for grant in passes:
        if grant.signature is None or verifier is None:
            refused.append(f"break-glass pass {grant.id} by {grant.actor} ignored: not signed")
            continue
        try:
            verifier.verify(grant.actor, signed_message(fingerprint), grant.signature)
        except InvalidSignatureError as error:
            refused.append(f"break-glass pass {grant.id} ignored: {error}")
            continue
        kept.append(grant)
    return kept, refused


def _ensure_not_the_authors_key(verifier: SignatureVerifier, signature: str, author: str | None, actor: str) -> None:
    # Names are not people: allowed_signers may list one key under two names, and the author must not
    # approve their own plan under the other one.
    if author is None or actor == author:
        return
    if author in verifier.identities_of_signer(signature):
        raise InvalidSignatureError(
            f"approval refused: {actor} signed with a key that allowed_signers also lists for {author}, "
            "the author of this plan"
        )


def _check_payload(
    changeset: ChangeSet, verdict: Verdict, settlement: Settlement, author: str, status: ApprovalStatus
) -> dict[str, object]:
    scrub = plan_scrubber(changeset)
    changed = sorted(c.address for c in changeset.changes if c.action not in (Action.NO_OP, Action.READ))
    return {
        "source": scrub(changeset.source),
        "verdict": verdict.decision.value,
        "decision": settlement.verdict.decision.value,
        "author": author,
        "approved_by": list(status.approvers),
        "break_glass": settlement.break_glass.id if settlement.break_glass else None,
        "summary": changeset.summary(),
        "addresses": changed,
        "findings": [
            {"rule": f.rule, "enforcement": f.enforcement.value, "address": f.address, "message": scrub(f.message)}
            for f in verdict.findings
        ],
    }


__all__ = [
    "ApprovalRefusedError",
    "GateResult",
    "approve",
    "break_glass",
    "gate",
    "use_break_glass",
]


def approval_status(
    store: ApprovalStore, policy: ApprovalPolicy, fingerprint: str, verifier: SignatureVerifier | None = None
) -> ApprovalStatus:
    """The approvals of `fingerprint` as `policy` counts them now (signatures verified when required),
    without recording a check. Raises StoreError, BadInputError (signatures required, no verifier)."""
    author = store.plan_author(fingerprint)
    given = store.approvals(fingerprint)
    return tally(policy, author, given, _invalid_signatures(given, policy, fingerprint, author, verifier))
