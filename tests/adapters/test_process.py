"""guardrail.adapters.process with a real child process (this Python interpreter)."""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from guardrail.adapters.process import CommandTimeoutError, Completed, run_command
from guardrail.core.errors import BadInputError, CommandError, TransientError
from guardrail.core.ports import OutputLine

PY = sys.executable


def python(code: str) -> list[str]:
    return [PY, "-c", code]


def test_returns_output_as_bytes() -> None:
    done = run_command(python("import sys; sys.stdout.buffer.write(b'{\\xc3\\xa9}'); print('warn', file=sys.stderr)"))
    assert done.returncode == 0
    assert done.stdout == "{é}".encode()
    assert done.stderr_text.strip() == "warn"


def test_failure_carries_command_code_and_output() -> None:
    code = "import sys; print('partial'); print('first\\nError: it broke', file=sys.stderr); sys.exit(3)"
    with pytest.raises(CommandError) as raised:
        run_command(python(code))
    failed = raised.value
    assert failed.command == python(code)
    assert failed.returncode == 3
    assert failed.stdout.strip() == "partial"
    assert "first" in failed.stderr
    assert str(failed).endswith("exited 3: Error: it broke")


def test_ok_codes_accept_other_exit_codes() -> None:
    assert run_command(python("raise SystemExit(2)"), ok_codes=(0, 2)).returncode == 2
    with pytest.raises(CommandError):
        run_command(python("raise SystemExit(0)"), ok_codes=(2,))


def test_missing_executable_on_path_is_bad_input() -> None:
    with pytest.raises(BadInputError, match=r"^guardrail-missing-tool not found on PATH; set X$"):
        run_command(["guardrail-missing-tool", "version"], missing_hint="set X")


def test_missing_executable_by_path_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "tool"
    with pytest.raises(BadInputError, match=r"tool not found$"):
        run_command([missing])


def test_file_that_is_not_executable_is_bad_input(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    if os.access(script, os.X_OK):
        pytest.skip("running as a user who may execute any file")
    with pytest.raises(BadInputError, match="not executable"):
        run_command([script])


def test_missing_working_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a directory"):
        run_command(python("pass"), cwd=tmp_path / "absent")


def test_runs_in_cwd_with_the_given_environment_and_input(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd(), os.environ['GUARDRAIL_TEST'], sys.stdin.read())"
    done = run_command(python(code), cwd=tmp_path, env={**os.environ, "GUARDRAIL_TEST": "on"}, input=b"fed")
    assert done.stdout_text.split() == [str(tmp_path.resolve()), "on", "fed"]


def test_timeout_kills_and_is_both_command_and_transient_error() -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError) as raised:
        run_command(python("import sys, time; print('started', flush=True); time.sleep(30)"), timeout=0.5)
    assert time.monotonic() - started < 10
    assert isinstance(raised.value, CommandError)
    assert isinstance(raised.value, TransientError)
    assert "timed out after 0.5 s" in str(raised.value)
    assert raised.value.stdout.strip() == "started"


def test_errors_show_the_masked_command_and_scrub_secrets() -> None:
    secret = "hunter2-secret"
    code = f"import sys; print('value {secret}'); print('bad {secret}', file=sys.stderr); sys.exit(1)"
    with pytest.raises(CommandError) as raised:
        run_command(python(code), shown_as=["tool", "run", "-var=pw=***"], secrets=[secret])
    failed = raised.value
    assert failed.command == ["tool", "run", "-var=pw=***"]
    for text in (str(failed), failed.stdout, failed.stderr, " ".join(failed.command)):
        assert secret not in text
    assert "(sensitive value)" in failed.stderr


def test_nul_byte_in_an_argument_is_bad_input_without_echoing_it() -> None:
    with pytest.raises(BadInputError) as raised:
        run_command([PY, "-c", "pass", "secret\x00value"], shown_as=[PY, "-c", "pass", "***"])
    assert "secret" not in str(raised.value)


def test_process_is_the_only_module_that_runs_commands(repo_root: Path) -> None:
    # House style: one place runs subprocesses, so every failure carries the same evidence.
    runners = {"import subprocess", "from subprocess", "os.system(", "os.popen(", "os.exec", "os.spawn"}
    offenders = [
        str(path.relative_to(repo_root))
        for path in sorted((repo_root / "guardrail").rglob("*.py"))
        if path != repo_root / "guardrail" / "adapters" / "process.py"
        and any(marker in path.read_text() for marker in runners)
    ]
    assert offenders == []


def test_a_command_that_must_finish_is_interrupted_gracefully_and_waited_for(tmp_path: Path) -> None:
    # Like terraform apply: on SIGINT it needs a moment to save what it did; it must get that moment.
    saved = tmp_path / "saved"
    script = f'trap "sleep 0.5; touch {saved}; exit 130" INT; while :; do sleep 0.05; done'

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            run_command(["sh", "-c", script], finish_on_interrupt=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert saved.exists()  # the child ran its interrupt handler to the end before we gave up


# -- output as it comes -------------------------------------------------------------------------------


def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _release(fifo: Path) -> None:
    with fifo.open("w") as writer:  # blocks until the child opens its end
        writer.write("go\n")


@pytest.mark.parametrize("finish_on_interrupt", [False, True])
def test_lines_are_seen_as_the_command_writes_them(tmp_path: Path, finish_on_interrupt: bool) -> None:
    gate = _fifo(tmp_path, "gate")
    code = (
        "import sys\n"
        "print('first', flush=True)\n"
        "print('warned', file=sys.stderr, flush=True)\n"
        f"open({str(gate)!r}).read()\n"  # blocks until the test has seen both lines
        "print('last')\n"
    )
    seen: queue.Queue[OutputLine] = queue.Queue()
    done: list[Completed] = []
    runner = threading.Thread(
        target=lambda: done.append(
            run_command(python(code), on_line=seen.put, finish_on_interrupt=finish_on_interrupt)
        ),
        daemon=True,
    )
    runner.start()
    early = {seen.get(timeout=60), seen.get(timeout=60)}
    assert early == {OutputLine("first", stderr=False), OutputLine("warned", stderr=True)}
    assert runner.is_alive(), "the lines came before the command ended"
    assert not done
    _release(gate)
    runner.join(timeout=60)
    assert seen.get(timeout=60) == OutputLine("last", stderr=False)
    [completed] = done
    assert completed.stdout == b"first\nlast\n"  # everything is still collected
    assert completed.stderr == b"warned\n"


def test_a_failing_line_handler_neither_blocks_the_command_nor_loses_its_output(tmp_path: Path) -> None:
    # 200 kB: more than a pipe holds, so a reader that stopped reading would leave the child blocked.
    code = "import sys\nfor i in range(20000): print(f'line {i:05}')\n"
    calls: list[str] = []

    def handler(line: OutputLine) -> None:
        calls.append(line.text)
        raise RuntimeError("display broke")

    with pytest.raises(RuntimeError, match="display broke"):
        run_command(python(code), on_line=handler)
    assert calls == ["line 00000"]


def test_failures_while_streaming_carry_the_whole_output() -> None:
    code = "import sys; print('partial', flush=True); print('Error: it broke', file=sys.stderr); sys.exit(3)"
    seen: list[OutputLine] = []
    with pytest.raises(CommandError) as raised:
        run_command(python(code), on_line=seen.append)
    assert raised.value.stdout == "partial\n"
    assert str(raised.value).endswith("exited 3: Error: it broke")
    assert OutputLine("partial", stderr=False) in seen


def test_a_streamed_command_that_must_finish_is_waited_for_after_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C while terraform apply streams: the child is interrupted, not killed, and waited for while it
    saves what it did; its output keeps coming meanwhile. The test decides when the child may finish."""
    blocked, release, saved = _fifo(tmp_path, "blocked"), _fifo(tmp_path, "release"), tmp_path / "saved"
    code = (
        "import signal, sys\n"
        "def stop(*_):\n"
        "    print('saving state', flush=True)\n"
        f"    open({str(release)!r}).read()\n"
        f"    open({str(saved)!r}, 'w').close()\n"
        "    sys.exit(130)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('applying', flush=True)\n"
        f"open({str(blocked)!r}).read()\n"  # nobody writes here: only SIGINT moves it on
    )
    seen: queue.Queue[str] = queue.Queue()

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    observed: list[object] = []

    def operator() -> None:
        observed.append(seen.get(timeout=60))
        os.kill(os.getpid(), signal.SIGALRM)  # Ctrl-C, delivered to the main thread as KeyboardInterrupt
        observed.append(seen.get(timeout=60))
        observed.append(saved.exists())  # not yet: the child waits for us
        _release(release)

    previous = signal.signal(signal.SIGALRM, interrupt)
    helper = threading.Thread(target=operator, daemon=True)
    try:
        helper.start()
        with pytest.raises(KeyboardInterrupt):
            run_command(python(code), finish_on_interrupt=True, on_line=lambda line: seen.put(line.text))
    finally:
        signal.signal(signal.SIGALRM, previous)
    helper.join(timeout=60)
    assert observed == ["applying", "saving state", False]
    assert saved.exists(), "the child saved what it did before guardrail gave up"
