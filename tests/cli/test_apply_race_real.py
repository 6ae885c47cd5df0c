"""`guardrail apply` as separate processes, on SQLite and PostgreSQL: one apply per workspace at a time,
and a killed apply leaves a verifiable log and a lock that can be recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result
from tests.cli.real import GUARDRAIL, init

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
Cli = Callable[..., Result]
APPLIERS = 20
DEADLINE = 240.0

# The provisioner holds the apply open until the test creates `release` (bounded, should the test die),
# so the winner still holds the apply lock when every other process reaches it.
SLOW_TF = """
resource "terraform_data" "slow" {
  input = "v1"
  provisioner "local-exec" {
    command = "touch started; i=0; while [ ! -f release ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done"
  }
}
"""


class Appliers:
    """`guardrail apply` processes, each in its own session, all stopped and reaped at the end."""

    def __init__(self, folder: Path, store_url: str) -> None:
        self.folder = folder
        self.store_url = store_url
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, plan: Path, actor: str) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        env = {**os.environ, "GUARDRAIL_STORE": self.store_url, "GUARDRAIL_ACTOR": actor, "NO_COLOR": "1"}
        with (self.folder / f"out-{n}").open("wb") as out, (self.folder / f"err-{n}").open("wb") as err:
            proc = subprocess.Popen(
                [*GUARDRAIL, "apply", str(plan)],
                cwd=self.folder,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def stderr(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.folder / f"err-{self.procs.index(proc)}").read_text()

    def wait_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.05)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            _wait_for_group_exit(proc.pid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_group_exit(pgid: int) -> None:
    # terraform outlives a killed guardrail: it must finish before the test's folder goes away.
    deadline = time.monotonic() + DEADLINE
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def slow_plan(cli: Cli, store_url: str, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An allowed binary plan whose apply waits for `release` in its configuration directory."""
    infra = init(terraform_bin, tmp_path / "infra", SLOW_TF)
    monkeypatch.setenv("GUARDRAIL_STORE", store_url)
    plan = infra / "plan.bin"
    planned = cli("plan", infra, "--out", plan)
    assert planned.code == 0, planned.stdout + planned.stderr
    return plan


@pytest.fixture
def appliers(store_url: str, tmp_path: Path, slow_plan: Path) -> Iterator[Appliers]:
    group = Appliers(tmp_path, store_url)
    try:
        yield group
    finally:
        (slow_plan.parent / "release").touch()
        group.close()


def exported(cli: Cli) -> list[dict[str, Any]]:
    return [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]


def test_simultaneous_applies_exactly_one_proceeds(cli: Cli, slow_plan: Path, appliers: Appliers) -> None:
    procs = [appliers.start(slow_plan, f"runner-{n}") for n in range(APPLIERS)]
    appliers.wait_until(lambda: sum(p.poll() is not None for p in procs) >= APPLIERS - 1, "the losers to exit")
    [winner] = [p for p in procs if p.poll() is None]
    losers = [p for p in procs if p is not winner]
    for loser in losers:
        assert loser.returncode == 1, appliers.stderr(loser)
        assert "is locked by runner-" in appliers.stderr(loser)
        assert "Traceback" not in appliers.stderr(loser)
    assert (slow_plan.parent / "started").exists()  # the winner is inside terraform apply meanwhile

    (slow_plan.parent / "release").touch()
    assert winner.wait(timeout=DEADLINE) == 0, appliers.stderr(winner)

    assert cli("audit", "verify").code == 0
    events = exported(cli)
    starts = [e for e in events if e["kind"] == "apply-start"]
    ends = [e for e in events if e["kind"] == "apply-end"]
    assert len(starts) == len(ends) == 1  # the losers never took the lock nor reached terraform
    assert ends[0]["payload"]["status"] == "succeeded"
    assert sum(e["kind"] == "check" for e in events) == APPLIERS + 1  # every apply re-checked the plan


def test_a_killed_apply_leaves_a_verifiable_log_and_a_recoverable_lock(
    cli: Cli, slow_plan: Path, appliers: Appliers
) -> None:
    infra = slow_plan.parent
    proc = appliers.start(slow_plan, "runner-killed")
    appliers.wait_until(lambda: (infra / "started").exists() or proc.poll() is not None, "terraform apply to start")
    assert proc.poll() is None, appliers.stderr(proc)
    # kill -9 of the whole apply, as a cancelled CI job or the OOM killer does: guardrail and its terraform.
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()  # reaped: a zombie would still look alive
    _wait_for_group_exit(proc.pid)
    (infra / "release").touch()

    assert cli("audit", "verify").code == 0
    blocked = cli("apply", slow_plan)
    assert blocked.code == 1
    assert "is locked by runner-killed" in blocked.stderr
    assert f"process {proc.pid} no longer runs" in blocked.stderr
    assert f"guardrail lock recover-apply {infra}" in blocked.stderr

    recovered = cli("lock", "recover-apply", infra, "--reason", "the apply was killed")
    assert recovered.code == 0, recovered.stderr
    assert "runner-killed" in recovered.stdout

    # The lock is free again, and the plan that the killed apply never finished now applies.
    again = cli("apply", slow_plan)
    assert again.code == 0, again.stderr
    assert cli("audit", "verify").code == 0
    events = exported(cli)
    kinds = [e["kind"] for e in events]
    assert kinds.count("apply-start") == 2
    assert kinds.count("apply-end") == 1  # the killed apply never recorded its end
    [recovery] = [e for e in events if e["kind"] == "apply-lock-recovered"]
    assert recovery["payload"]["holder"] == "runner-killed"
    assert "no longer runs" in recovery["payload"]["stale_because"]
