"""`guardrail apply` shows terraform's output as terraform writes it, each line scrubbed of the plan's
secrets, not once terraform has ended. Real terraform: a provisioner prints, then waits on a FIFO that the
test opens only once it has read that line from guardrail's output."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tests.cli.conftest import Result
from tests.cli.gitrepo import commit_files, new_repo
from tests.cli.real import GUARDRAIL, init

MASKED = "(sensitive value)"  # what every output shows in place of a value marked sensitive

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

SECRET = "tok-5ecret-streamed-42"
# nonsensitive(): terraform prints the value in the provisioner's output, as a careless module would.
MAIN_TF = """
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "slow" {
  input = "x"
  provisioner "local-exec" {
    command = "echo started token=${nonsensitive(var.token)}; cat '%s' > /dev/null; echo finished"
  }
}
"""
WAIT = 120  # seconds before a test that went wrong gives up, never a pause on the way when it goes right


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> threading.Thread:
    def read() -> None:
        for line in stream:
            into.put(line)
        into.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


@dataclass
class Shown:
    """What a guardrail process showed on the stream watched: up to the line that proved terraform still ran,
    and the rest; the other stream; and whether terraform was still running when that first line came."""

    before: list[str]
    after: list[str]
    other: str
    still_running: bool

    @property
    def watched(self) -> str:
        return "".join(self.before + self.after)


def shown_while_terraform_runs(argv: list[str], cwd: Path, gate: Path, *, watch_stderr: bool = False) -> Shown:
    """Run guardrail with `argv`: read its stdout (or stderr) until a line says "started" (printed by a
    provisioner that then waits on the FIFO `gate`), note that it still runs, open the gate, read the rest."""
    applying = subprocess.Popen(
        [*GUARDRAIL, *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: terraform and the provisioner go with it on failure
    )
    assert applying.stdout is not None
    assert applying.stderr is not None
    stdout: queue.Queue[str | None] = queue.Queue()
    stderr: queue.Queue[str | None] = queue.Queue()
    readers = [_lines(applying.stdout, stdout), _lines(applying.stderr, stderr)]
    watched, other = (stderr, stdout) if watch_stderr else (stdout, stderr)
    before: list[str] = []
    try:
        while not any("started" in line for line in before):
            line = watched.get(timeout=WAIT)
            assert line is not None, f"guardrail ended first: {''.join(before)}"
            before.append(line)
        still_running = applying.poll() is None
        with gate.open("w") as opened:  # lets the provisioner go on
            opened.write("go\n")
    except BaseException:
        os.killpg(applying.pid, signal.SIGKILL)
        raise
    code = applying.wait(timeout=WAIT)
    for reader in readers:
        reader.join(timeout=WAIT)
    rest = "".join(line for line in iter(other.get_nowait, None))
    assert code == 0, "".join(before) + rest
    return Shown(before, list(iter(watched.get_nowait, None)), rest, still_running)


def test_apply_shows_terraform_output_while_terraform_runs(
    cli: Callable[..., Result], terraform_bin: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF % gate)
    plan = infra / "plan.bin"
    planned = cli("plan", infra, "--var", f"token={SECRET}", "--out", plan)
    assert planned.code == 0, planned.stdout + planned.stderr

    shown = shown_while_terraform_runs(["apply", str(plan)], tmp_path, gate)
    assert shown.still_running, "the first line was shown only once terraform had ended"
    assert f"started token={MASKED}" in shown.before[-1]
    assert SECRET not in shown.watched + shown.other
    out = shown.watched
    assert out.index("started") < out.index("finished") < out.index("Apply complete!")
    assert out.index("Apply complete!") < out.index("applied sha256:")
    assert out.count("Apply complete!") == 1, "terraform's output is shown once"


# The rollback re-creates the resource the forward apply deleted: its provisioner runs during the rollback.
WAITING_TF = """
resource "terraform_data" "kept" { input = "kept" }
resource "terraform_data" "recreated" {
  input = "x"
  provisioner "local-exec" {
    command = "echo started; if [ -p '%s' ]; then cat '%s' > /dev/null; fi; echo finished"
  }
}
"""


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_rollback_apply_shows_terraform_output_while_terraform_runs(
    cli: Callable[..., Result], tmp_path: Path, output_format: str
) -> None:
    gate = tmp_path / "gate"
    repo = new_repo(tmp_path / "repo")
    commit_files(repo, {"main.tf": WAITING_TF % (gate, gate)}, "with the resource")
    plan = repo / "plan.tfplan"
    assert cli("plan", repo, "--out", plan).code == 0
    assert cli("apply", plan).code == 0
    commit_files(repo, {"main.tf": 'resource "terraform_data" "kept" { input = "kept" }\n'}, "without it")
    assert cli("plan", repo, "--out", plan).code == 0
    assert cli("apply", plan).code == 0
    os.mkfifo(gate)  # only the rollback's provisioner waits on it

    as_json = output_format == "json"  # stdout is then one JSON document: terraform's lines go to stderr
    argv = ["rollback", "apply", str(repo), "--format", output_format]
    shown = shown_while_terraform_runs(argv, tmp_path, gate, watch_stderr=as_json)
    assert shown.still_running, "the first line was shown only once terraform had ended"
    terraform_said = shown.watched
    assert terraform_said.index("started") < terraform_said.index("finished") < terraform_said.index("Apply complete!")
    if as_json:
        assert json.loads(shown.other)["rollback"]["verified"] is True
    else:
        assert terraform_said.index("Apply complete!") < terraform_said.index("rollback verified")
