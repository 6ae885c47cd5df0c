"""Quitting while the store is still being opened: the app exits at once, and no store is left open."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

import pytest

from guardrail.config import Settings
from guardrail.core.errors import StoreError
from guardrail.core.runs import RunsStore
from guardrail.services.session import OperatorSession
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


class FakeStore:
    """Stands in for a store: only closing it matters here."""

    description = "fake"

    def __init__(self) -> None:
        self.closes = 0
        self.closed = threading.Event()

    def close(self) -> None:
        self.closes += 1
        self.closed.set()


@dataclass
class SlowOpener:
    """Opens a FakeStore once `release` is set (or raises `failures` first); `entered`: it has been called."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    failures: list[StoreError] = field(default_factory=list)
    calls: int = 0
    opened: list[FakeStore] = field(default_factory=list)

    def __call__(self, _explicit: str | None, _settings: Settings) -> RunsStore:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(timeout=5), "never released"
        if self.failures:
            raise self.failures.pop(0)
        store = FakeStore()
        self.opened.append(store)
        return cast("RunsStore", store)


def _session(opener: SlowOpener) -> OperatorSession:
    return OperatorSession(Settings(), open_store=opener)


def _in_thread(call: Callable[[], RunsStore]) -> tuple[threading.Thread, list[BaseException | RunsStore]]:
    outcome: list[BaseException | RunsStore] = []

    def run() -> None:
        try:
            outcome.append(call())
        except StoreError as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_closing_while_the_store_is_being_opened_frees_every_caller_and_the_opener_closes_it() -> None:
    opener = SlowOpener()
    session = _session(opener)
    first, first_outcome = _in_thread(session.store)
    assert opener.entered.wait(timeout=5)
    second, second_outcome = _in_thread(session.store)  # waits for the same opening

    started = time.monotonic()
    session.close()
    first.join(timeout=5)
    second.join(timeout=5)
    assert time.monotonic() - started < 1.0, "the callers waited for the opening to finish"
    for outcome in (first_outcome, second_outcome):
        assert len(outcome) == 1
        assert isinstance(outcome[0], StoreError)
        assert "closed" in str(outcome[0])

    opener.release.set()  # the opening finishes after the close
    deadline = time.monotonic() + 5
    while not opener.opened and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(opener.opened) == 1
    assert opener.opened[0].closed.wait(timeout=5), "the store opened after the close is left open"
    assert opener.calls == 1
    assert opener.opened[0].closes == 1


def test_a_closed_session_opens_no_store() -> None:
    opener = SlowOpener()
    opener.release.set()
    session = _session(opener)
    session.close()
    with pytest.raises(StoreError, match="closed"):
        session.store()
    assert opener.calls == 0


def test_a_failed_opening_is_retried_on_the_next_call_and_closing_closes_the_store_once() -> None:
    opener = SlowOpener(failures=[StoreError("store unreachable")])
    opener.release.set()
    session = _session(opener)
    with pytest.raises(StoreError, match="unreachable"):
        session.store()
    store = session.store()
    assert store is session.store()
    assert opener.calls == 2
    session.close()
    session.close()
    assert opener.opened[0].closes == 1
