"""The store in a forked helper process, so that importing the database libraries overlaps the caller's work.

`guardrail check` needs the store only once the plan is judged, yet SQLAlchemy's import alone takes about
as long as parsing an 11,000-change plan. `StoreHelper.start()` forks a child at once, which imports the
store adapter while the parent reads its configuration and the plan on the other core; `open()` then has
the child connect, and every call on the returned store is forwarded over a pipe and answered with the
result or the exception, so callers see the same behaviour as an in-process SqlStore, errors included.

Measured by benchmarks/check_speed.py (with and without the helper): see docs/performance.md.

Fork only where it is safe: Linux, a single-threaded parent (the same rule as the Rego child).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any, TypeVar

from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, ChainBreak, ChainPoint, EventDraft
from guardrail.core.errors import StoreError
from guardrail.core.locks import ApplyLockHolder, Lock
from guardrail.core.secrets import Scrubber
from guardrail.core.store_ports import Standing, Store

T = TypeVar("T")

_OPEN = "__open__"
_DESCRIPTION = "__description__"
_CLOSE = "__close__"
# What the child may be asked to run: the Store port's methods, and nothing else.
_METHODS = frozenset(name for name in dir(Store) if not name.startswith("_") and name not in ("close", "description"))


class StoreHelper:
    """A forked child that has the store adapter imported and will open one store on request."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self._pid = pid
        self._conn: Connection | None = conn
        # Dropped unused (the check failed first): the child must not linger.
        self._reaper = weakref.finalize(self, _reap, pid, conn)

    @classmethod
    def start(cls) -> StoreHelper | None:
        """Fork the helper, or None where forking is unsafe or impossible (the caller opens in-process)."""
        if not (hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1):
            return None
        parent_end, child_end = Pipe(duplex=True)
        for stream in (sys.stdout, sys.stderr):  # or the child's copy of a buffer would be written twice
            stream.flush()
        try:
            pid = os.fork()
        except OSError:
            parent_end.close()
            child_end.close()
            return None
        if pid == 0:  # pragma: no cover - the child; coverage cannot see it
            parent_end.close()
            _serve(child_end)
        child_end.close()
        return cls(pid, parent_end)

    def open(
        self, url: str, *, cwd: Path, literals: frozenset[str] = frozenset(), create: bool = False
    ) -> ForwardedStore:
        """The store at `url`, opened in the helper. Raises StoreError as open_store does."""
        conn = self._take()
        self._reaper.detach()  # the store owns the child from now on, however long this helper lives
        forwarded = ForwardedStore(conn, self._pid)
        try:
            forwarded.call(_OPEN, url, str(cwd), sorted(literals), create)
        except BaseException:
            forwarded.close()
            raise
        return forwarded

    def stop(self) -> None:
        """End the helper when it was never asked to open a store (after `open`, closing the store does)."""
        if self._conn is not None:
            self._conn = None
            self._reaper()

    def _take(self) -> Connection:
        if self._conn is None:
            raise StoreError("store helper already used")
        conn, self._conn = self._conn, None
        return conn


class ForwardedStore:
    """The Store port (core/store_ports.py), every method run by the store in the helper process.

    Each method is declared with the port's types and checks the type of what comes back, so that mypy
    holds this class to the port and a confused helper is a StoreError, never a wrong value.
    """

    def __init__(self, conn: Connection, pid: int) -> None:
        self._conn = conn
        self._pid = pid
        self._reaper = weakref.finalize(self, _reap, pid, conn)

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
        return _of(self.call(_DESCRIPTION), str)

    def close(self) -> None:
        with contextlib.suppress(StoreError):
            self.call(_CLOSE)
        self._reaper()

    # -- audit ---------------------------------------------------------------------------------------

    def append(self, draft: EventDraft) -> AuditEvent:
        return _of(self.call("append", draft), AuditEvent)

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        return iter(_list_of(self.call("events", after_seq), AuditEvent))

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


def _of(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise StoreError(f"store helper answered {type(value).__name__} where {kind.__name__} was expected")
    return value


def _optional(value: object, kind: type[T]) -> T | None:
    return None if value is None else _of(value, kind)


def _list_of(value: object, kind: type[T]) -> list[T]:
    return [_of(item, kind) for item in _of(value, list)]


def _serve(conn: Connection) -> None:
    """The child: import the adapter now, then answer calls until told to close. Never returns."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        from guardrail.adapters.store import open_store

        store: Any = None
        while True:
            try:
                name, args, kwargs = conn.recv()
            except EOFError:
                break
            if name == _CLOSE:
                if store is not None:
                    store.close()
                    store = None
                _reply(conn, True, None)
                break
            try:
                if name == _OPEN:
                    url, cwd, literals, create = args
                    scrub = Scrubber(frozenset(literals)) if literals else None
                    store = open_store(url, cwd=Path(cwd), scrub=scrub, create=create)
                    result: Any = None
                elif name == _DESCRIPTION:
                    result = store.description
                elif name in _METHODS:
                    result = getattr(store, name)(*args, **kwargs)
                    if isinstance(result, Iterator):
                        result = list(result)
                else:
                    raise StoreError(f"store helper: no store method {name!r}")
            except BaseException as exc:
                _reply(conn, False, exc)
            else:
                _reply(conn, True, result)
        if store is not None:
            store.close()
        status = 0
    finally:
        os._exit(status)


def _reply(conn: Connection, ok: bool, value: Any) -> None:
    try:
        conn.send((ok, value))
    except Exception as exc:  # a result or an error that does not pickle: the caller still hears of it
        conn.send((False, StoreError(f"store call failed: {type(value).__name__}: {value} ({exc})")))


def _reap(pid: int, conn: Connection) -> None:
    """Close the pipe and end the child. By then it has closed its store and is leaving (a normal close), is
    idle (never used) or is working for a caller that gave up (an interrupt): none of these is worth waiting
    for, and a child blocked on a database must not hang the caller."""
    with contextlib.suppress(OSError):
        conn.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
