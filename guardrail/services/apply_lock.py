"""One apply per workspace at a time: the apply lock, its start and end events, and stale-lock recovery."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.core.audit import EventDraft, EventKind, iso_utc
from guardrail.core.errors import BadInputError, DeniedError
from guardrail.core.locks import ApplyLockHeldError, ApplyLockHolder, stale_reason
from guardrail.core.store_ports import ApplyLockStore, AuditStore
from guardrail.services.wiring import hostname, process_alive

DEFAULT_LEASE = timedelta(hours=2)


class ApplyStore(ApplyLockStore, AuditStore, Protocol):
    """What applying needs of the store: its apply locks and its audit log."""


@dataclass(frozen=True)
class HostInfo:
    """How this host is seen: its name and whether a pid runs here (replaceable in tests)."""

    name: str = field(default_factory=hostname)
    pid: int = field(default_factory=os.getpid)
    pid_alive: Callable[[int], bool] = process_alive


def acquire(
    store: ApplyLockStore,
    workspace: str,
    actor: str,
    now: datetime,
    *,
    fingerprint: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    host: HostInfo | None = None,
) -> ApplyLockHolder:
    """Take the workspace's apply lock and record `apply-start`.

    Raises ApplyLockHeldError (exit 1) naming the holder, and whether its lock looks stale; StoreError.
    """
    here = host or HostInfo()
    if not workspace.strip():
        raise BadInputError("apply lock: the workspace name is empty")
    holder = ApplyLockHolder(
        workspace, secrets.token_hex(16), actor, here.pid, here.name, now, now + lease, fingerprint
    )
    payload = {"workspace": workspace, "pid": here.pid, "hostname": here.name, "lease_until": iso_utc(now + lease)}
    try:
        store.acquire_apply_lock(holder, EventDraft(actor, EventKind.APPLY_START, payload, fingerprint))
    except ApplyLockHeldError as held:
        raise ApplyLockHeldError(held.holder, stale_reason(held.holder, now, here.name, here.pid_alive)) from None
    return holder


def release(store: ApplyStore, holder: ApplyLockHolder, outcome: Mapping[str, object]) -> None:
    """Give the lock back and record `apply-end` with `outcome` (redacted data: status, counts, error).

    Raises DeniedError when the lock was recovered from under this holder (its apply outlived the lease
    or was taken for dead): the outcome is then recorded without the lock; StoreError.
    """
    payload = {"workspace": holder.workspace, **outcome}
    event = EventDraft(holder.actor, EventKind.APPLY_END, payload, holder.fingerprint)
    if not store.release_apply_lock(holder.workspace, holder.token, event):
        store.append(EventDraft(holder.actor, EventKind.APPLY_END, {**payload, "lock_lost": True}, holder.fingerprint))
        raise DeniedError(f"apply lock of {holder.workspace!r} was recovered by someone else while this apply ran")


def status(
    store: ApplyLockStore, workspace: str, now: datetime, *, host: HostInfo | None = None
) -> tuple[ApplyLockHolder | None, str | None]:
    """The holder of the workspace's apply lock (or None) and why it looks stale (or None)."""
    here = host or HostInfo()
    holder = store.apply_lock(workspace)
    if holder is None:
        return None, None
    return holder, stale_reason(holder, now, here.name, here.pid_alive)


def recover(
    store: ApplyLockStore, workspace: str, actor: str, reason: str, now: datetime, *, host: HostInfo | None = None
) -> ApplyLockHolder:
    """Remove a stale apply lock and record `apply-lock-recovered`; returns the holder it removed.

    Raises BadInputError when there is no lock or no reason, DeniedError when the holder still looks
    alive (only a stale lock may be recovered), StoreError.
    """
    if not reason.strip():
        raise BadInputError("recovering an apply lock needs a --reason")
    holder, stale = status(store, workspace, now, host=host)
    if holder is None:
        raise BadInputError(f"workspace {workspace!r} has no apply lock to recover")
    if stale is None:
        raise DeniedError(f"apply lock of {workspace!r} is held by {holder.describe()}, which still looks alive")
    payload = {
        "workspace": workspace,
        "reason": reason.strip(),
        "stale_because": stale,
        "holder": holder.actor,
        "holder_pid": holder.pid,
        "holder_hostname": holder.hostname,
        "held_since": iso_utc(holder.acquired_at),
    }
    event = EventDraft(actor, EventKind.APPLY_LOCK_RECOVERED, payload, holder.fingerprint)
    if not store.break_apply_lock(workspace, holder.token, event):
        raise DeniedError(f"apply lock of {workspace!r} changed hands while recovering it: look again")
    return holder


@contextmanager
def holding(
    store: ApplyStore,
    workspace: str,
    actor: str,
    now: datetime,
    *,
    fingerprint: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> Iterator[dict[str, object]]:
    """Hold the apply lock around a block; yields a dict the block fills with its outcome.

    `status` becomes "succeeded", or "failed" with the error's type when the block raises (the error
    propagates). The lock is released and `apply-end` recorded either way.
    """
    holder = acquire(store, workspace, actor, now, fingerprint=fingerprint, lease=lease)
    outcome: dict[str, object] = {}
    try:
        yield outcome
    except BaseException as error:
        outcome.setdefault("status", "failed")
        outcome.setdefault("error", type(error).__name__)
        release(store, holder, outcome)
        raise
    outcome.setdefault("status", "succeeded")
    release(store, holder, outcome)
