"""Records to rows and back. Reading never judges content: a tampered audit row is returned as stored,
for verification to name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Row

from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, iso_utc, parse_iso
from guardrail.core.change import Action
from guardrail.core.errors import StoreError
from guardrail.core.kube.objects import ObjectRef, split_api_version
from guardrail.core.kube.rollback import RollbackPoint, SavedObject
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


def kube_apply_row(point: RollbackPoint) -> dict[str, Any]:
    return {
        "apply_id": point.apply_id,
        "fingerprint": point.fingerprint,
        "actor": point.actor,
        "saved_at": iso_utc(point.saved_at),
        "rollback_of": point.rollback_of,
    }


def kube_object_rows(point: RollbackPoint) -> list[dict[str, Any]]:
    return [
        {
            "apply_id": point.apply_id,
            "position": position,
            "cluster": saved.cluster,
            "api_version": saved.api_version,
            "kind": saved.ref.kind,
            "namespace": saved.ref.namespace,
            "name": saved.ref.name,
            "action": saved.action.value,
            "live_manifest": json.dumps(saved.live, sort_keys=True) if saved.live is not None else None,
        }
        for position, saved in enumerate(point.objects)
    ]


def rollback_point_of(row: Row[Any], objects: Sequence[Row[Any]]) -> RollbackPoint:
    try:
        saved = tuple(_saved_object(item) for item in objects)
        return RollbackPoint(row.apply_id, row.fingerprint, row.actor, parse_iso(row.saved_at), saved, row.rollback_of)
    except ValueError as error:  # json's errors are ValueErrors too
        # A rollback point that cannot be read must not put back half of what it saved.
        raise StoreError(f"rollback point {row.apply_id}: unreadable record ({error})") from None


def _saved_object(row: Row[Any]) -> SavedObject:
    ref = ObjectRef(split_api_version(row.api_version)[0], row.kind, row.namespace, row.name)
    live = json.loads(row.live_manifest) if row.live_manifest is not None else None
    if live is not None and not isinstance(live, dict):
        raise ValueError(f"object {row.position} is not a manifest")
    return SavedObject(row.cluster, ref, row.api_version, Action(row.action), live)


def _opt(moment: Any) -> str | None:
    return None if moment is None else iso_utc(moment)


def _time(text: str | None) -> Any:
    return None if text is None else parse_iso(text)
