"""Records to rows and back. Reading never judges content: a tampered audit row is returned as stored,
for verification to name."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, iso_utc, parse_iso
from guardrail.core.errors import StoreError
from guardrail.core.locks import ApplyLockHolder, Lock, LockTarget


def event_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": event.time,
        "actor": event.actor,
        "kind": event.kind,
        "fingerprint": event.fingerprint,
        "payload": event.payload_json,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def event_of(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        int(row.seq), row.time, row.actor, row.kind, row.fingerprint, row.payload, row.prev_hash, row.hash
    )


def lock_row(lock: Lock) -> dict[str, Any]:
    return {
        "id": lock.id,
        "target": lock.target.value,
        "pattern": lock.pattern,
        "owner": lock.owner,
        "reason": lock.reason,
        "created_at": iso_utc(lock.created_at),
        "expires_at": _opt(lock.expires_at),
        "released_at": _opt(lock.released_at),
        "released_by": lock.released_by,
        "release_reason": lock.release_reason,
    }


def lock_of(row: Row[Any]) -> Lock:
    try:
        return Lock(
            row.id,
            LockTarget(row.target),
            row.pattern,
            row.owner,
            row.reason,
            parse_iso(row.created_at),
            _time(row.expires_at),
            _time(row.released_at),
            row.released_by,
            row.release_reason,
        )
    except ValueError as error:
        # A lock that cannot be read must not silently stop applying: refuse to go on.
        raise StoreError(f"lock {row.id}: unreadable record ({error})") from None


def approval_row(approval: Approval) -> dict[str, Any]:
    return {
        "fingerprint": approval.fingerprint,
        "actor": approval.actor,
        "time": iso_utc(approval.time),
        "comment": approval.comment,
        "signature": approval.signature,
    }


def approval_of(row: Row[Any]) -> Approval:
    try:
        return Approval(row.fingerprint, row.actor, parse_iso(row.time), row.comment, row.signature)
    except ValueError as error:
        raise StoreError(f"approval of {row.fingerprint} by {row.actor}: unreadable record ({error})") from None


def break_glass_row(grant: BreakGlass) -> dict[str, Any]:
    return {
        "id": grant.id,
        "fingerprint": grant.fingerprint,
        "actor": grant.actor,
        "reason": grant.reason,
        "created_at": iso_utc(grant.created_at),
        "expires_at": iso_utc(grant.expires_at),
        "used_at": _opt(grant.used_at),
        "signature": grant.signature,
    }


def break_glass_of(row: Row[Any]) -> BreakGlass:
    try:
        return BreakGlass(
            row.id,
            row.fingerprint,
            row.actor,
            row.reason,
            parse_iso(row.created_at),
            parse_iso(row.expires_at),
            _time(row.used_at),
            row.signature,
        )
    except ValueError as error:
        raise StoreError(f"break-glass pass {row.id}: unreadable record ({error})") from None


def apply_lock_row(holder: ApplyLockHolder) -> dict[str, Any]:
    return {
        "workspace": holder.workspace,
        "token": holder.token,
        "actor": holder.actor,
        "pid": holder.pid,
        "hostname": holder.hostname,
        "acquired_at": iso_utc(holder.acquired_at),
        "expires_at": iso_utc(holder.expires_at),
        "fingerprint": holder.fingerprint,
    }


def apply_lock_of(row: Row[Any]) -> ApplyLockHolder:
    try:
        return ApplyLockHolder(
            row.workspace,
            row.token,
            row.actor,
            int(row.pid),
            row.hostname,
            parse_iso(row.acquired_at),
            parse_iso(row.expires_at),
            row.fingerprint,
        )
    except ValueError as error:
        raise StoreError(f"apply lock of {row.workspace}: unreadable record ({error})") from None


def _opt(moment: Any) -> str | None:
    return None if moment is None else iso_utc(moment)


def _time(text: str | None) -> Any:
    return None if text is None else parse_iso(text)
