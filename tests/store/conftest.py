"""Store fixtures: every store test runs against SQLite and against a real PostgreSQL server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from guardrail.adapters.store import SqlStore, open_store
from tests.store.postgres import PostgresServer, find_pg_bin, start_server

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server per xdist worker (session scope is per worker), stopped at the end."""
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql")
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(params=DIALECTS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each dialect."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / '.guardrail' / 'guardrail.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


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
