"""Quitting while the store is still being opened: the app exits at once, and no store is left open."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from guardrail.adapters.store import SqlStore, open_store
from guardrail.config import Settings
from guardrail.core.errors import StoreError
from guardrail.core.runs import StoreWithRuns
from guardrail.services.session import OperatorSession
from tests.conftest import initialised_sqlite
from tests.tui.conftest import Harness


class SilentListener:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word on them."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)  # a blocked accept() does not notice the socket closing
        self.port = int(self.server.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)
            self.connected.set()

    def hang_up(self) -> None:
        """Close everything, so a client still waiting for an answer fails at once."""
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    listener = SilentListener()
    try:
        yield listener
    finally:
        listener.hang_up()


async def test_quitting_while_the_store_does_not_answer_is_immediate(
    harness: Harness, silent_listener: SilentListener
) -> None:
    harness.store_url = f"postgresql://u@127.0.0.1:{silent_listener.port}/x"
    app = harness.app()
    async with app.run_test(size=(100, 30)) as pilot:
        # The app starts opening the store as it mounts: wait until it is stuck waiting for an answer.
        assert await _wait_for(silent_listener.connected), "the app never tried to open the store"
        started = time.monotonic()
        await pilot.press("q")
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"quitting took {elapsed:.1f} s while the store was being opened"
    # Let the opener give up now, so the test does not wait for the connect timeout on its way out.
    silent_listener.hang_up()


def test_the_app_returns_promptly_when_quit_while_the_store_does_not_answer(
    harness: Harness, silent_listener: SilentListener
) -> None:
    """As `guardrail tui` runs it: `run()` returns only once every worker thread is done, so none may be
    left waiting for the store."""
    harness.store_url = f"postgresql://u@127.0.0.1:{silent_listener.port}/x"
    app = harness.app()
    quit_at: list[float] = []

    def quit_once_connecting() -> None:
        if silent_listener.connected.wait(timeout=5):
            quit_at.append(time.monotonic())
        app.call_from_thread(app.exit)

    threading.Thread(target=quit_once_connecting, daemon=True).start()
    app.run(headless=True, size=(100, 30))
    assert quit_at, "the app never tried to open the store"
    elapsed = time.monotonic() - quit_at[0]
    assert elapsed < 2.0, f"the app returned {elapsed:.1f} s after quitting while the store was being opened"


async def _wait_for(event: threading.Event, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not event.is_set():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


# -- the session on its own ---------------------------------------------------------------------------
# The store is the real SQLite store. What the test controls is the port the session opens it through: an
# opener that waits for the test's word before it opens the store (or fails).

WAIT = 30  # seconds before a test that went wrong gives up; never a pause when it goes right


class ObservedStore(SqlStore):
    """The real SQLite store, which also lets the test see the session close it."""

    def __init__(self, url: str) -> None:
        opened = open_store(url)  # connects and migrates, as the session's own opener does
        super().__init__(opened.engine, opened.description)
        self.closes = 0
        self.closed = threading.Event()

    def close(self) -> None:
        self.closes += 1
        super().close()
        self.closed.set()


@dataclass
class SlowOpener:
    """Opens the real store once `release` is set (or raises `failures` first). `entered`: it was called;
    `opened`: the stores it opened, `done`: it has returned."""

    url: str
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    failures: list[StoreError] = field(default_factory=list)
    calls: int = 0
    opened: list[ObservedStore] = field(default_factory=list)

    def __call__(self, _explicit: str | None, _settings: Settings) -> StoreWithRuns:
        self.calls += 1
        self.entered.set()
        try:
            assert self.release.wait(timeout=WAIT), "never released"
            if self.failures:
                raise self.failures.pop(0)
            store = ObservedStore(self.url)
            self.opened.append(store)
            return store
        finally:
            self.done.set()


@pytest.fixture
def opener(tmp_path: Path) -> SlowOpener:
    return SlowOpener(f"sqlite:///{initialised_sqlite(tmp_path / 'store.db')}")


def _session(opener: SlowOpener) -> OperatorSession:
    return OperatorSession(Settings(), open_store=opener)


def _in_thread(call: Callable[[], StoreWithRuns]) -> tuple[threading.Thread, list[BaseException | StoreWithRuns]]:
    outcome: list[BaseException | StoreWithRuns] = []

    def run() -> None:
        try:
            outcome.append(call())
        except StoreError as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_closing_while_the_store_is_being_opened_frees_every_caller_and_the_opener_closes_it(
    opener: SlowOpener,
) -> None:
    session = _session(opener)
    first, first_outcome = _in_thread(session.store)
    assert opener.entered.wait(timeout=WAIT)
    second, second_outcome = _in_thread(session.store)  # waits for the same opening

    session.close()
    first.join(timeout=WAIT)
    second.join(timeout=WAIT)
    # Both callers are back while the opening is still held up: they did not wait for it.
    assert not opener.release.is_set()
    assert not opener.done.is_set()
    for outcome in (first_outcome, second_outcome):
        assert len(outcome) == 1
        assert isinstance(outcome[0], StoreError)
        assert "closed" in str(outcome[0])

    opener.release.set()  # the opening finishes after the close
    assert opener.done.wait(timeout=WAIT)
    [store] = opener.opened
    assert store.closed.wait(timeout=WAIT), "the store opened after the close is left open"
    assert opener.calls == 1
    assert store.closes == 1


def test_a_closed_session_opens_no_store(opener: SlowOpener) -> None:
    opener.release.set()
    session = _session(opener)
    session.close()
    with pytest.raises(StoreError, match="closed"):
        session.store()
    assert opener.calls == 0


def test_a_failed_opening_is_retried_on_the_next_call_and_closing_closes_the_store_once(
    opener: SlowOpener,
) -> None:
    opener.failures.append(StoreError("store unreachable"))
    opener.release.set()
    session = _session(opener)
    with pytest.raises(StoreError, match="unreachable"):
        session.store()
    store = session.store()
    assert store is session.store()
    assert opener.calls == 2
    assert list(store.events()) == []  # a working store: a fresh, empty audit log
    session.close()
    session.close()
    [opened] = opener.opened
    assert opened.closes == 1
