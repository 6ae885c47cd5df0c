"""The Store port answered by the store in the helper process (see store_helper.py).

Each method is declared with the port's types and checks the type of what comes back, so that mypy
holds this class to the port and a confused helper is a StoreError, never a wrong value.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from typing import TypeVar

from guardrail.adapters.store_helper import CLOSE, DESCRIPTION, reap
from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, ChainBreak, ChainPoint, EventDraft
from guardrail.core.errors import StoreError
from guardrail.core.kube.rollback import RollbackPoint
from guardrail.core.locks import ApplyLockHolder, Lock
from guardrail.core.store_ports import Standing

T = TypeVar("T")


class ForwardedStore:
    """The Store port (core/store_ports.py), every method run by the store in the helper process."""

    def __init__(self, conn: Connection, pid: int) -> None:
        self._conn = conn
        self._pid = pid
        self._reaper = weakref.finalize(self, reap, pid, conn)

    def call(self, name: str, *args: object, **kwargs: object) -> object:
        """Run `name(*args, **kwargs)` on the helper's store; its result, or its exception raised here."""
        try:
            self._conn.send((name, args, kwargs))
            ok, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._reaper()
            raise StoreError(f"store helper process ended unexpectedly ({type(exc).__name__})") from None
        except BaseException:
            # Ctrl-C (or any error) while the helper works, perhaps waiting on a database lock: end it now
            # rather than wait for an answer nobody will read.
            self._reaper()
            raise
        if not ok:
            raise value
        return value

    @property
    def description(self) -> str:
        return _of(self.call(DESCRIPTION), str)

    def close(self) -> None:
        with contextlib.suppress(StoreError):
            self.call(CLOSE)
        self._reaper()

    # -- audit ---------------------------------------------------------------------------------------

    def append(self, draft: EventDraft) -> AuditEvent:
        return _of(self.call("append", draft), AuditEvent)

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        return iter(_list_of(self.call("events", after_seq), AuditEvent))

    def events_of_kind(
        self, kind: str, *, newest_first: bool = False, fingerprint: str | None = None
    ) -> Iterator[AuditEvent]:
        answer = self.call("events_of_kind", kind, newest_first=newest_first, fingerprint=fingerprint)
        return iter(_list_of(answer, AuditEvent))

    def event(self, seq: int) -> AuditEvent | None:
        return _optional(self.call("event", seq), AuditEvent)

    def head(self) -> AuditEvent | None:
        return _optional(self.call("head"), AuditEvent)

    def verified_point(self) -> ChainPoint | None:
        return _optional(self.call("verified_point"), ChainPoint)

    def records_problem(self) -> ChainBreak | None:
        return _optional(self.call("records_problem"), ChainBreak)

    # -- locks ---------------------------------------------------------------------------------------

    def add_lock(self, lock: Lock, event: EventDraft) -> AuditEvent:
        return _of(self.call("add_lock", lock, event), AuditEvent)

    def locks(self) -> list[Lock]:
        return _list_of(self.call("locks"), Lock)

    def lock(self, lock_id: str) -> Lock | None:
        return _optional(self.call("lock", lock_id), Lock)

    def release_lock(self, lock_id: str, by: str, reason: str, at: datetime, event: EventDraft) -> Lock:
        return _of(self.call("release_lock", lock_id, by, reason, at, event), Lock)

    # -- plans, approvals, break-glass ---------------------------------------------------------------

    def record_check(self, fingerprint: str, actor: str, at: datetime, event: EventDraft, *, author: str) -> str:
        return _of(self.call("record_check", fingerprint, actor, at, event, author=author), str)

    def plan_author(self, fingerprint: str) -> str | None:
        return _optional(self.call("plan_author", fingerprint), str)

    def standing(self, fingerprint: str) -> Standing:
        return _of(self.call("standing", fingerprint), Standing)

    def add_approval(self, approval: Approval, event: EventDraft) -> AuditEvent:
        return _of(self.call("add_approval", approval, event), AuditEvent)

    def approvals(self, fingerprint: str) -> list[Approval]:
        return _list_of(self.call("approvals", fingerprint), Approval)

    def add_break_glass(self, grant: BreakGlass, event: EventDraft) -> AuditEvent:
        return _of(self.call("add_break_glass", grant, event), AuditEvent)

    def break_glass_passes(self, fingerprint: str) -> list[BreakGlass]:
        return _list_of(self.call("break_glass_passes", fingerprint), BreakGlass)

    def use_break_glass(self, pass_id: str, at: datetime, event: EventDraft) -> bool:
        return _of(self.call("use_break_glass", pass_id, at, event), bool)

    # -- apply locks ---------------------------------------------------------------------------------

    def acquire_apply_lock(self, holder: ApplyLockHolder, event: EventDraft) -> None:
        self.call("acquire_apply_lock", holder, event)

    def apply_lock(self, workspace: str) -> ApplyLockHolder | None:
        return _optional(self.call("apply_lock", workspace), ApplyLockHolder)

    def release_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        return _of(self.call("release_apply_lock", workspace, token, event), bool)

    def break_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        return _of(self.call("break_apply_lock", workspace, token, event), bool)

    # -- Kubernetes rollback points ------------------------------------------------------------------

    def save_kube_rollback(self, point: RollbackPoint, event: EventDraft) -> AuditEvent:
        return _of(self.call("save_kube_rollback", point, event), AuditEvent)

    def kube_rollback(self, apply_id: str) -> RollbackPoint | None:
        return _optional(self.call("kube_rollback", apply_id), RollbackPoint)


def _of(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise StoreError(f"store helper answered {type(value).__name__} where {kind.__name__} was expected")
    return value


def _optional(value: object, kind: type[T]) -> T | None:
    return None if value is None else _of(value, kind)


def _list_of(value: object, kind: type[T]) -> list[T]:
    return [_of(item, kind) for item in _of(value, list)]
