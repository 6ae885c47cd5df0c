"""Resource locks: add, list, release, and the rule that makes them block changes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from guardrail.core.audit import EventDraft, EventKind, iso_utc
from guardrail.core.errors import BadInputError
from guardrail.core.locks import Lock, LockTarget, new_lock
from guardrail.core.matching import KubeCriteria
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.store_ports import LockStore


def new_lock_id() -> str:
    """A short random id that people can type (`lock release ID`)."""
    return f"lk-{secrets.token_hex(4)}"


def add_lock(
    store: LockStore,
    actor: str,
    now: datetime,
    *,
    reason: str,
    address: str | None = None,
    type_: str | None = None,
    tag: str | None = None,
    expires_in: timedelta | None = None,
    kube: KubeCriteria | None = None,
) -> Lock:
    """Lock what exactly one of address glob, type, tag `k=v` or Kubernetes criteria selects; records a
    `lock` event.

    Raises BadInputError for a missing or double target or an empty reason, StoreError when the store fails.
    """
    lock = new_lock(
        new_lock_id(), actor, reason, now, address=address, type_=type_, tag=tag, expires_in=expires_in, kube=kube
    )
    store.add_lock(lock, EventDraft(actor, EventKind.LOCK, _payload(lock)))
    return lock


def list_locks(store: LockStore, now: datetime, *, include_inactive: bool = False) -> list[Lock]:
    """Locks in force at `now` (all of them, released and expired included, with `include_inactive`)."""
    return [lock for lock in store.locks() if include_inactive or lock.is_active(now)]


def release_lock(store: LockStore, actor: str, lock_id: str, reason: str, now: datetime) -> Lock:
    """Release a lock, whoever owns it (the reason and actor are recorded); records a `release` event.

    Raises BadInputError for an empty reason, an unknown or already released lock; StoreError.
    """
    if not reason.strip():
        raise BadInputError("releasing a lock needs a --reason")
    current = store.lock(lock_id)
    if current is None:
        raise BadInputError(f"lock {lock_id}: no such lock")
    payload = {**_payload(current), "release_reason": reason.strip()}
    return store.release_lock(lock_id, actor, reason.strip(), now, EventDraft(actor, EventKind.RELEASE, payload))


def locks_rule(store: LockStore, now: datetime) -> ActiveLocksRule:
    """The rule for `check`: every lock active at `now`. Raises StoreError: a check that needs the
    store never passes without it."""
    return ActiveLocksRule(tuple(store.locks()), now)


def _payload(lock: Lock) -> dict[str, object]:
    return {
        "lock_id": lock.id,
        "target": lock.target.value,
        "pattern": lock.pattern,
        "address": lock.pattern if lock.target is LockTarget.ADDRESS else None,
        "owner": lock.owner,
        "reason": lock.reason,
        "expires_at": iso_utc(lock.expires_at) if lock.expires_at else None,
    }
