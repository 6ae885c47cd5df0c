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
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.core.errors import StoreError
from guardrail.core.secrets import Scrubber

if TYPE_CHECKING:  # imported when a store is opened: the fork must come before anything it can wait for
    from guardrail.adapters.forwarded_store import ForwardedStore

OPEN = "__open__"
DESCRIPTION = "__description__"
CLOSE = "__close__"


class StoreHelper:
    """A forked child that has the store adapter imported and will open one store on request."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self._pid = pid
        self._conn: Connection | None = conn
        # Dropped unused (the check failed first): the child must not linger.
        self._reaper = weakref.finalize(self, reap, pid, conn)

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
        from guardrail.adapters.forwarded_store import ForwardedStore

        conn = self._take()
        self._reaper.detach()  # the store owns the child from now on, however long this helper lives
        forwarded = ForwardedStore(conn, self._pid)
        try:
            forwarded.call(OPEN, url, str(cwd), sorted(literals), create)
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


def _serve(conn: Connection) -> None:
    """The child: import the adapter now, then answer calls until told to close. Never returns."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        from guardrail.adapters.store import open_store
        from guardrail.core.store_ports import Store

        # What the child may be asked to run: the Store port's methods, and nothing else.
        methods = {name for name in dir(Store) if not name.startswith("_")} - {"close", "description"}

        store: Any = None
        while True:
            try:
                name, args, kwargs = conn.recv()
            except EOFError:
                break
            if name == CLOSE:
                if store is not None:
                    store.close()
                    store = None
                _reply(conn, True, None)
                break
            try:
                if name == OPEN:
                    url, cwd, literals, create = args
                    scrub = Scrubber(frozenset(literals)) if literals else None
                    store = open_store(url, cwd=Path(cwd), scrub=scrub, create=create)
                    result: Any = None
                elif name == DESCRIPTION:
                    result = store.description
                elif name in methods:
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


def reap(pid: int, conn: Connection) -> None:
    """Close the pipe and end the child. By then it has closed its store and is leaving (a normal close), is
    idle (never used) or is working for a caller that gave up (an interrupt): none of these is worth waiting
    for, and a child blocked on a database must not hang the caller."""
    with contextlib.suppress(OSError):
        conn.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
