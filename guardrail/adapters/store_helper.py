"""The store in a forked helper process, so that importing the database libraries overlaps the caller's work.

`guardrail check` needs the store only once the plan is judged, yet SQLAlchemy's import alone takes about
as long as parsing an 11,000-change plan. `StoreHelper.start()` forks a child at once, which imports the
store adapter while the parent reads its configuration and the plan on the other core; `open()` then has
the child connect, and every call on the returned store is forwarded over a pipe and answered with the
result or the exception, so callers see the same behaviour as an in-process SqlStore, errors included.

Fork only where it is safe: Linux, a single-threaded parent (the same rule as the Rego child).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

from guardrail.core.errors import StoreError
from guardrail.core.secrets import Scrubber

_OPEN = "__open__"
_DESCRIPTION = "__description__"
_CLOSE = "__close__"


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

    def open(self, url: str, *, cwd: Path, literals: frozenset[str] = frozenset()) -> ForwardedStore:
        """The store at `url`, opened in the helper. Raises StoreError as open_store does."""
        conn = self._take()
        self._reaper.detach()  # the store owns the child from now on, however long this helper lives
        forwarded = ForwardedStore(conn, self._pid)
        try:
            forwarded.call(_OPEN, url, str(cwd), sorted(literals))
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
    """A Store whose every method runs in the helper process (see the module's docstring)."""

    def __init__(self, conn: Connection, pid: int) -> None:
        self._conn = conn
        self._pid = pid
        self._reaper = weakref.finalize(self, _reap, pid, conn)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
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
        return str(self.call(_DESCRIPTION))

    def close(self) -> None:
        with contextlib.suppress(StoreError):
            self.call(_CLOSE)
        self._reaper()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


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
                    url, cwd, literals = args
                    store = open_store(url, cwd=Path(cwd), scrub=Scrubber(frozenset(literals)) if literals else None)
                    result: Any = None
                elif name == _DESCRIPTION:
                    result = store.description
                else:
                    result = getattr(store, name)(*args, **kwargs)
                    if isinstance(result, Iterator):
                        result = list(result)
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
