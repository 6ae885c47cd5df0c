"""The workspace apply lock: one holder among many processes, stale holders detected and recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from guardrail.adapters.store import SqlStore, open_store
from guardrail.core.errors import BadInputError, DeniedError
from guardrail.core.locks import ApplyLockHeldError
from guardrail.services import apply_lock, audit
from guardrail.services.apply_lock import HostInfo
from tests.conftest import REPO_ROOT
from tests.store.conftest import FakeClock

HERE = HostInfo(name="this-host", pid=4242, pid_alive=lambda pid: pid == 4242)


class Workers:
    """Guardrail processes started by a test, each killed and reaped at the end whatever happens."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, mode: str, url: str, n: int, count: int = 0) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        for _ in range(n):
            argv = [sys.executable, "-m", "tests.store.apply_worker", mode, url, str(self.folder), str(count)]
            self.procs.append(subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE))

    def wait_files(self, prefix: str, n: int, timeout: float = 120.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted(self.folder.glob(f"{prefix}-*"))
            if len(found) >= n:
                return found
            failed = [p for p in self.procs if p.poll() not in (None, 0)]
            if failed:
                pytest.fail(f"a worker failed: {failed[0].stderr.read().decode() if failed[0].stderr else ''}")
            time.sleep(0.02)
        pytest.fail(f"only {len(list(self.folder.glob(prefix + '-*')))} of {n} workers wrote {prefix}")

    def results(self, n: int) -> list[dict[str, object]]:
        return [json.loads(p.read_text()) for p in self.wait_files("result", n)]

    def go(self, n: int) -> None:
        self.wait_files("ready", n)
        (self.folder / "go").touch()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            if proc.stderr:
                proc.stderr.close()


@pytest.fixture
def workers(tmp_path: Path):  # type: ignore[no-untyped-def]
    started = Workers(tmp_path)
    yield started
    started.close()


@pytest.mark.slow
def test_twenty_processes_one_apply_lock(store: SqlStore, store_url: str, workers: Workers) -> None:
    workers.start("acquire", store_url, 20)
    workers.go(20)
    results = workers.results(20)
    winners = [r for r in results if r["acquired"]]
    losers = [r for r in results if not r["acquired"]]
    assert len(winners) == 1
    assert len(losers) == 19
    for loser in losers:
        assert f"locked by worker-{winners[0]['pid']}" in str(loser["error"])
    (workers.folder / "release").touch()
    for proc in workers.procs:
        assert proc.wait(timeout=60) == 0
    assert store.apply_lock("prod") is None
    assert [e.kind for e in store.events()] == ["apply-start", "apply-end"]
    assert audit.verify(store).ok


@pytest.mark.slow
def test_concurrent_appenders_never_fork_the_chain(store: SqlStore, store_url: str, workers: Workers) -> None:
    workers.start("append", store_url, 6, count=15)
    workers.go(6)
    workers.results(6)
    report = audit.verify(store)
    assert report.ok, report.broken
    assert report.count == 90
    assert {e.actor for e in store.events()} == {f"writer-{p.pid}" for p in workers.procs}


@pytest.mark.slow
def test_many_processes_creating_the_store_at_once(store_url: str, workers: Workers) -> None:
    workers.start("append", store_url, 6, count=2)  # nobody opened this store before: all six migrate it
    workers.go(6)
    workers.results(6)
    store = open_store(store_url)
    try:
        report = audit.verify(store)
        assert report.ok
        assert report.count == 12
    finally:
        store.close()


@pytest.mark.slow
def test_a_killed_holder_leaves_a_verifiable_log_and_a_recoverable_lock(
    store: SqlStore, store_url: str, workers: Workers
) -> None:
    workers.start("hold", store_url, 1)
    workers.go(1)
    assert workers.results(1)[0]["acquired"]
    victim = workers.procs[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    assert audit.verify(store).ok
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    holder, stale = apply_lock.status(store, "prod", now)
    assert holder is not None
    assert holder.pid == victim.pid
    assert stale == f"process {victim.pid} no longer runs on {holder.hostname}"
    with pytest.raises(ApplyLockHeldError, match="looks stale") as held:
        apply_lock.acquire(store, "prod", "next", now)
    assert held.value.stale_reason == stale

    removed = apply_lock.recover(store, "prod", "oncall", "holder was killed", now)
    assert removed.token == holder.token
    with apply_lock.holding(store, "prod", "next", now) as outcome:
        outcome["changes"] = 3
    assert [e.kind for e in store.events()] == ["apply-start", "apply-lock-recovered", "apply-start", "apply-end"]
    assert store.head() is not None
    assert store.head().payload == {"workspace": "prod", "changes": 3, "status": "succeeded"}  # type: ignore[union-attr]
    assert audit.verify(store).ok


def test_an_expired_lease_is_stale_and_a_live_holder_is_not(store: SqlStore, clock: FakeClock) -> None:
    holder = apply_lock.acquire(store, "ws", "alice", clock.now, lease=timedelta(minutes=10), host=HERE)
    assert apply_lock.status(store, "ws", clock.now, host=HERE) == (holder, None)
    elsewhere = HostInfo(name="other-host", pid=1, pid_alive=lambda pid: False)
    assert apply_lock.status(store, "ws", clock.now, host=elsewhere) == (holder, None)  # only the lease counts there
    with pytest.raises(DeniedError, match="still looks alive"):
        apply_lock.recover(store, "ws", "bob", "impatient", clock.now, host=HERE)
    clock.advance(timedelta(minutes=10))
    _, stale = apply_lock.status(store, "ws", clock.now, host=elsewhere)
    assert stale is not None
    assert "lease expired" in stale
    apply_lock.recover(store, "ws", "bob", "lease ran out", clock.now, host=elsewhere)
    with pytest.raises(DeniedError, match="recovered by someone else"):
        apply_lock.release(store, holder, {"status": "succeeded"})
    assert [e.kind for e in store.events()] == ["apply-start", "apply-lock-recovered", "apply-end"]
    assert store.head().payload["lock_lost"] is True  # type: ignore[union-attr]
    with pytest.raises(BadInputError, match="no apply lock"):
        apply_lock.recover(store, "ws", "bob", "again", clock.now, host=HERE)


def test_a_failed_apply_is_recorded_and_releases_the_lock(store: SqlStore, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), apply_lock.holding(store, "ws", "alice", clock.now, fingerprint="sha256:f"):
        raise RuntimeError("terraform crashed")
    assert store.apply_lock("ws") is None
    end = store.head()
    assert end is not None
    assert (end.kind, end.fingerprint, end.payload["status"], end.payload["error"]) == (
        "apply-end",
        "sha256:f",
        "failed",
        "RuntimeError",
    )
