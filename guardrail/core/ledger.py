"""The audit chain as the authority over what the store keeps beside it. Pure.

A lock, its release, an approval, a break-glass pass and its use, a plan's author and an apply lock each
live in a row of their own, for the queries; each row names the event that recorded it, and counts only
while that event is in the chain, sealed as it was, in its place between its neighbours, and says what
the row says (its facts). The other way round, every event that records one of them must have its row:
deleting a lock's row must not lift it.

The facts of each record are defined here, once: the store puts them into the payload of the event it
appends for the record, and later compares the row with the event through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventKind, iso_utc, stored_hash
from guardrail.core.locks import ApplyLockHolder, Lock

# Facts an event recorded before they were part of it (break-glass and approval signatures, before
# schema 0003): compared only when the event holds them. The signature is verified again anyway.
OPTIONAL_FACTS = frozenset({"signature"})


@dataclass(frozen=True, slots=True)
class Claim:
    """What one row says about the event that recorded it."""

    record: str  # the record, for messages: "lock lk-1", "approval of sha256:... by bob"
    seq: int | None  # the event the row names; None: the row names none (it was written outside guardrail)
    kind: str
    actor: str
    fingerprint: str | None
    facts: Mapping[str, object] = field(default_factory=dict)
    # Whether a decision rests on it. A released lock stops nothing whatever it locked: its release is
    # what a check must trust, while `audit verify` still holds every claim to the chain.
    settles: bool = True


def lock_facts(lock: Lock) -> dict[str, object]:
    """What a `lock` event records of the lock."""
    return {
        "lock_id": lock.id,
        "target": lock.target.value,
        "pattern": lock.pattern,
        "owner": lock.owner,
        "reason": lock.reason,
        "expires_at": iso_utc(lock.expires_at) if lock.expires_at else None,
    }


def release_facts(lock_id: str, reason: str) -> dict[str, object]:
    """What a `release` event records of the release."""
    return {"lock_id": lock_id, "release_reason": reason}


def approval_facts(approval: Approval) -> dict[str, object]:
    """What an `approval` event records of the approval."""
    return {"comment": approval.comment, "signed": approval.signature is not None, "signature": approval.signature}


def break_glass_facts(grant: BreakGlass) -> dict[str, object]:
    """What a `break-glass` event records of the pass."""
    return {
        "pass_id": grant.id,
        "reason": grant.reason,
        "expires_at": iso_utc(grant.expires_at),
        "signed": grant.signature is not None,
        "signature": grant.signature,
    }


def use_facts(pass_id: str) -> dict[str, object]:
    """What a `break-glass-used` event records of the use."""
    return {"pass_id": pass_id}


def apply_lock_facts(holder: ApplyLockHolder) -> dict[str, object]:
    """What an `apply-start` event records of the apply lock it took."""
    return {
        "workspace": holder.workspace,
        "pid": holder.pid,
        "hostname": holder.hostname,
        "lease_until": iso_utc(holder.expires_at),
    }


def lock_claims(lock: Lock, event_seq: int | None, release_seq: int | None) -> list[Claim]:
    """The claims of a lock's row: its `lock` event and, once released, its `release` event."""
    record = f"lock {lock.id}"
    in_force = lock.released_at is None
    claims = [Claim(record, event_seq, EventKind.LOCK, lock.owner, None, lock_facts(lock), settles=in_force)]
    if lock.released_at is not None:
        facts = release_facts(lock.id, lock.release_reason or "")
        releaser = lock.released_by or ""
        claims.append(Claim(f"release of {record}", release_seq, EventKind.RELEASE, releaser, None, facts))
    return claims


def approval_claim(approval: Approval, event_seq: int | None) -> Claim:
    record = f"approval of {approval.fingerprint} by {approval.actor}"
    return Claim(record, event_seq, EventKind.APPROVAL, approval.actor, approval.fingerprint, approval_facts(approval))


def break_glass_claims(grant: BreakGlass, event_seq: int | None, used_seq: int | None) -> list[Claim]:
    """The claims of a pass's row: its `break-glass` event and, once spent, its `break-glass-used` event."""
    record = f"break-glass pass {grant.id}"
    claims = [Claim(record, event_seq, EventKind.BREAK_GLASS, grant.actor, grant.fingerprint, break_glass_facts(grant))]
    if grant.used_at is not None:
        # Whoever applied spends the pass: the use event's actor is not the holder, and is not compared.
        used = Claim(
            f"use of {record}", used_seq, EventKind.BREAK_GLASS_USED, "", grant.fingerprint, use_facts(grant.id)
        )
        claims.append(used)
    return claims


def author_claim(fingerprint: str, author: str, event_seq: int | None) -> Claim:
    """A plan's author is the actor of its first `check` event."""
    return Claim(f"author of plan {fingerprint}", event_seq, EventKind.CHECK, author, fingerprint)


def apply_lock_claim(holder: ApplyLockHolder, event_seq: int | None) -> Claim:
    record = f"apply lock of {holder.workspace}"
    return Claim(record, event_seq, EventKind.APPLY_START, holder.actor, holder.fingerprint, apply_lock_facts(holder))


def claim_problem(
    claim: Claim, event: AuditEvent | None, before_hash: str | None, after_prev_hash: str | None, head_seq: int
) -> str | None:
    """Why `claim` is not backed by the chain, or None. `event` is the stored event at the claimed seq;
    `before_hash` the hash of the event before it and `after_prev_hash` the prev_hash of the one after it
    (None where there is none); `head_seq` the newest event's seq."""
    if claim.seq is None:
        return f"{claim.record}: no event of the audit log records it (written outside guardrail)"
    where = f"{claim.record}: its event {claim.seq}"
    if event is None:
        return f"{where} is not in the audit log (removed)"
    if stored_hash(event) != event.hash:
        return f"{where}: content does not match its hash (modified)"
    if event.prev_hash != (GENESIS_HASH if claim.seq == 1 else before_hash):
        return f"{where} does not follow the event before it (inserted, removed or reordered)"
    if after_prev_hash != event.hash and not (after_prev_hash is None and claim.seq == head_seq):
        return f"{where} is not followed by the event after it (inserted, removed or reordered)"
    mismatch = _mismatch(claim, event)
    return None if mismatch is None else f"{where} says otherwise ({mismatch}): the record was altered"


def _mismatch(claim: Claim, event: AuditEvent) -> str | None:
    if event.kind != claim.kind:
        return f"it is a {event.kind} event"
    if claim.actor and event.actor != claim.actor:
        return "actor"
    if claim.fingerprint is not None and event.fingerprint != claim.fingerprint:
        return "plan"
    if not claim.facts:
        return None  # a plan's first check: its payload (every changed address) need not be read
    try:
        payload = event.payload
    except ValueError:
        return "payload"
    if not isinstance(payload, Mapping):
        return "payload"
    for key, value in claim.facts.items():
        if key in OPTIONAL_FACTS and key not in payload:
            continue
        if payload.get(key) != value:
            return key
    return None
