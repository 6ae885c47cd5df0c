"""Approvals bound to one plan fingerprint, and break-glass: who may let what through, and when.

Pure: records and decisions. The services load the records, verify signatures and write the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from guardrail.core.errors import BadInputError, DeniedError
from guardrail.core.verdict import Decision, Verdict

SIGNATURE_NAMESPACE = "guardrail-approval"
# Its own namespace: an approval's signature over a fingerprint can never be replayed as a break-glass one.
BREAK_GLASS_NAMESPACE = "guardrail-break-glass"
DEFAULT_BREAK_GLASS_TTL = timedelta(hours=1)


class ApprovalRefusedError(DeniedError):
    """The actor may not approve or break glass for this plan (exit 1)."""


class InvalidSignatureError(DeniedError):
    """An approval's signature does not verify for the approver's identity (exit 1)."""


@dataclass(frozen=True)
class ApprovalPolicy:
    """`approvals:` of guardrail.yaml.

    `approvers` empty means anyone but the author; `break_glass` empty means nobody may break glass.
    """

    required: int = 1
    approvers: frozenset[str] = frozenset()
    break_glass: frozenset[str] = frozenset()
    signatures_required: bool = False
    max_break_glass_ttl: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.required < 1:
            raise BadInputError(f"approvals.required: must be at least 1, got {self.required}")


@dataclass(frozen=True, slots=True)
class Approval:
    """One person's approval of one plan. `signature` is an SSH signature over the fingerprint."""

    fingerprint: str
    actor: str
    time: datetime
    comment: str = ""
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """A one-time pass for one plan, usable until `expires_at` and spent by the apply that uses it."""

    id: str
    fingerprint: str
    actor: str
    reason: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    signature: str | None = None  # the holder's SSH signature over the fingerprint (break-glass namespace)

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class ApprovalStatus:
    """Which approvals count for a plan, which do not and why, and whether they are enough."""

    required: int
    counted: tuple[Approval, ...]
    ignored: tuple[tuple[Approval, str], ...]

    @property
    def satisfied(self) -> bool:
        return len(self.counted) >= self.required

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(a.actor for a in self.counted)


def signed_message(fingerprint: str) -> bytes:
    """The exact bytes an approver signs: the fingerprint, no newline.

    `printf %s FINGERPRINT | ssh-keygen -Y sign -f KEY -n guardrail-approval` makes such a signature.
    """
    return fingerprint.encode("utf-8")


def refusal(policy: ApprovalPolicy, author: str | None, actor: str) -> str | None:
    """Why `actor` may not approve a plan by `author`, or None when they may.

    An unknown author refuses: without it, self-approval could not be ruled out.
    """
    if author is None:
        return "no check of this plan was recorded: run guardrail check on it first"
    if actor == author:
        return f"{actor} is the author of this plan and cannot approve it"
    if policy.approvers and actor not in policy.approvers:
        return f"{actor} is not one of the allowed approvers ({', '.join(sorted(policy.approvers))})"
    return None


def ensure_can_approve(policy: ApprovalPolicy, author: str | None, actor: str) -> None:
    """Raises ApprovalRefusedError (exit 1) with the reason when `actor` may not approve."""
    reason = refusal(policy, author, actor)
    if reason is not None:
        raise ApprovalRefusedError(f"approval refused: {reason}")


def ensure_can_break_glass(policy: ApprovalPolicy, actor: str, reason: str, ttl: timedelta) -> None:
    """Raises ApprovalRefusedError when `actor` is not allowed to, BadInputError for an empty reason or a
    time limit out of range."""
    if not reason.strip():
        raise BadInputError("break-glass needs a --reason")
    if ttl <= timedelta() or ttl > policy.max_break_glass_ttl:
        raise BadInputError(f"break-glass --ttl must be between 0 and {policy.max_break_glass_ttl}, got {ttl}")
    if actor not in policy.break_glass:
        allowed = ", ".join(sorted(policy.break_glass)) or "nobody: set approvals.break_glass in guardrail.yaml"
        raise ApprovalRefusedError(f"break-glass refused: {actor} is not allowed to (allowed: {allowed})")


def tally(
    policy: ApprovalPolicy, author: str | None, approvals: Iterable[Approval], invalid: dict[str, str] | None = None
) -> ApprovalStatus:
    """Count the approvals that still hold under `policy` (it may have changed since they were given).

    `invalid` maps an approver to why their signature failed verification: such approvals never count,
    nor do unsigned ones when signatures are required, nor the author's, nor one person's twice.
    """
    invalid = invalid or {}
    counted: list[Approval] = []
    ignored: list[tuple[Approval, str]] = []
    seen: set[str] = set()
    for approval in sorted(approvals, key=lambda a: (a.time, a.actor)):
        why = refusal(policy, author, approval.actor)
        if why is None and approval.actor in seen:
            why = "already counted"
        if why is None and policy.signatures_required and not approval.signature:
            why = "unsigned, and signatures are required"
        if why is None and approval.actor in invalid:
            why = f"signature does not verify: {invalid[approval.actor]}"
        if why is None:
            counted.append(approval)
            seen.add(approval.actor)
        else:
            ignored.append((approval, why))
    return ApprovalStatus(policy.required, tuple(counted), tuple(ignored))


def settle(
    verdict: Verdict,
    status: ApprovalStatus,
    passes: Iterable[BreakGlass],
    now: datetime,
    *,
    policy: ApprovalPolicy,
    applying: bool = False,
) -> Settlement:
    """The verdict once approvals and break-glass are taken into account.

    Enough approvals turn "needs approval" into "allow". A break-glass pass lets a denied (or unapproved)
    plan through, loudly, but only for the apply that spends it (`applying`): a check reports the pass and
    keeps its verdict, or a pipeline gating on the check could run a plain `terraform apply` as often as it
    liked while the pass lasts. A pass counts only while its holder is still allowed to break glass under
    `policy` (which may have changed since). Findings are kept as they were: only the decision changes.
    """
    if verdict.decision is Decision.NEEDS_APPROVAL and status.satisfied:
        note = f"approved by {', '.join(status.approvers)} ({len(status.counted)} of {status.required} required)"
        return Settlement(Verdict(Decision.ALLOW, verdict.findings), (note,), None)
    notes: list[str] = []
    if verdict.decision is not Decision.ALLOW:
        usable = sorted((p for p in passes if p.is_usable(now)), key=lambda p: p.created_at)
        notes.extend(
            f"break-glass pass {p.id} by {p.actor} ignored: {p.actor} is no longer allowed to break glass"
            for p in usable
            if p.actor not in policy.break_glass
        )
        usable = [p for p in usable if p.actor in policy.break_glass]
        if usable and applying:
            chosen = usable[0]
            note = (
                f"BREAK-GLASS by {chosen.actor}: {chosen.reason} (pass {chosen.id}, one use, "
                f"expires {chosen.expires_at.isoformat()}); this {verdict.decision.value} verdict is overridden"
            )
            return Settlement(Verdict(Decision.ALLOW, verdict.findings), (*notes, note), chosen)
        if usable:
            chosen = usable[0]
            notes.append(
                f"BREAK-GLASS pass {chosen.id} by {chosen.actor} ({chosen.reason}) is ready: guardrail apply of "
                f"this exact plan will use it once, until {chosen.expires_at.isoformat()}"
            )
    if verdict.decision is Decision.NEEDS_APPROVAL:
        have = f"approved by {', '.join(status.approvers)}; " if status.counted else ""
        notes.append(f"{have}{len(status.counted)} of {status.required} approval(s) so far")
    return Settlement(verdict, tuple(notes), None)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The decision after approvals, notes saying why, and the break-glass pass that it relies on."""

    verdict: Verdict
    notes: tuple[str, ...]
    break_glass: BreakGlass | None
