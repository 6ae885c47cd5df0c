"""Store fixtures: every store test runs against SQLite and against a real PostgreSQL server.

`store_url` (both dialects) and `postgres_server` are shared with the CLI tests: see tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from guardrail.adapters.store import SqlStore, open_store


class FakeClock:
    """A clock the test moves by hand: lock expiry and break-glass time limits without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(store_url, cwd=tmp_path, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def reopen(store_url: str, tmp_path: Path) -> Iterator[Callable[[], SqlStore]]:
    """Open another connection to the same store, as a second guardrail process would."""
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        opened.append(open_store(store_url, cwd=tmp_path))
        return opened[-1]

    yield make
    for item in opened:
        item.close()
