"""`guardrail apply` shows terraform's output as terraform writes it, each line scrubbed of the plan's
secrets, not once terraform has ended. Real terraform: a provisioner prints, then waits on a FIFO that the
test opens only once it has read that line from guardrail's output."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from tests.cli.conftest import Result
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


def test_apply_shows_terraform_output_while_terraform_runs(
    cli: Callable[..., Result], terraform_bin: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF % gate)
    plan = infra / "plan.bin"
    planned = cli("plan", infra, "--var", f"token={SECRET}", "--out", plan)
    assert planned.code == 0, planned.stdout + planned.stderr

    applying = subprocess.Popen(
        [*GUARDRAIL, "apply", str(plan)],
        cwd=tmp_path,
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
    before: list[str] = []
    try:
        while not any("started" in line for line in before):
            line = stdout.get(timeout=WAIT)
            assert line is not None, f"guardrail apply ended first: {''.join(before)}"
            before.append(line)
        still_running = applying.poll() is None
        with gate.open("w") as opened:  # lets the provisioner go on
            opened.write("go\n")
    except BaseException:
        os.killpg(applying.pid, signal.SIGKILL)
        raise
    assert still_running, "the first line was shown only once terraform had ended"
    assert applying.wait(timeout=WAIT) == 0
    for reader in readers:
        reader.join(timeout=WAIT)
    after = list(iter(stdout.get_nowait, None))
    shown = "".join(before + after)
    errors = "".join(line for line in iter(stderr.get_nowait, None))

    assert f"started token={MASKED}" in before[-1]
    assert SECRET not in shown + errors
    assert shown.index("started") < shown.index("finished") < shown.index("Apply complete!")
    assert shown.index("Apply complete!") < shown.index("applied sha256:")
    assert shown.count("Apply complete!") == 1, "terraform's output is shown once"
