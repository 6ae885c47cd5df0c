"""The one place in guardrail that runs external commands.

Every failure leaves here as a guardrail error that carries what ran, its exit code and its output, so
the CLI can print one line and `--debug` can show the rest:

- the executable cannot be found or run: BadInputError (the user must fix a path or a setting);
- it exits with a code outside `ok_codes`: CommandError;
- it runs past `timeout`: CommandTimeoutError, which is both a CommandError (it failed, here is its
  partial output) and a TransientError (running it again may well succeed), after the child is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from guardrail.core.errors import BadInputError, CommandError, TransientError
from guardrail.core.ports import OutputLine
from guardrail.core.secrets import Scrubber, literal_secrets


@dataclass(frozen=True, slots=True)
class Completed:
    """A command that finished with an accepted exit code. Output is kept as bytes: plan JSON can be
    hundreds of megabytes and is parsed as bytes, so it is never decoded here."""

    command: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


class CommandTimeoutError(CommandError, TransientError):
    """A command ran past its time limit and was killed; retrying may succeed (a lock held, a slow API)."""

    def __init__(self, command: list[str], timeout: float, stdout: str, stderr: str) -> None:
        super().__init__(command, -1, stdout, stderr)
        self.timeout = timeout
        self.args = (f"{' '.join(command[:2])} timed out after {timeout:g} s and was stopped",)


def run_command(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    input: bytes | None = None,
    ok_codes: Collection[int] = (0,),
    shown_as: Sequence[str] | None = None,
    secrets: Iterable[str] = (),
    missing_hint: str = "",
    finish_on_interrupt: bool = False,
    on_line: Callable[[OutputLine], None] | None = None,
) -> Completed:
    """Run `argv` to completion and return its output, or raise (see the module docstring).

    `env` replaces the environment, as in subprocess. `shown_as` is the command as errors record it
    (pass it with secret arguments masked); `secrets` are literal values to mask in the output an error
    carries (those of at least 4 characters: shorter ones would garble ordinary words). `missing_hint`
    ends the "not found" message, e.g. with the setting that chooses the binary.

    `finish_on_interrupt` is for commands that must never be cut short (terraform apply): on Ctrl-C the
    child is sent SIGINT (once per interrupt; terraform stops gracefully on the first, at once on the
    second) and waited for, and the KeyboardInterrupt is raised only after it has exited and saved what it
    did. Without it, the child is killed a moment after the interrupt, as subprocess does.

    `on_line` sees each line of output as the command writes it, from a reader thread (one line at a time,
    stdout and stderr in the order they arrive), while the whole output is still collected. Should it raise
    (a bug), it is called no more, the output is still read to the end (a child whose pipe fills up would
    block), and the error is raised once the command has finished.
    """
    args = [os.fspath(a) for a in argv]
    if not args:
        raise ValueError("run_command needs a command")  # a bug in the caller, not bad input
    shown = list(shown_as) if shown_as is not None else args
    if cwd is not None and not cwd.is_dir():
        # Checked first: subprocess reports a missing cwd as a missing executable.
        raise BadInputError(f"{cwd}: not a directory (needed to run {shown[0]})")
    try:
        if on_line is not None or finish_on_interrupt:
            result = _run_watched(
                args, cwd, env, input, timeout=timeout, on_line=on_line, finish_on_interrupt=finish_on_interrupt
            )
        else:
            result = subprocess.run(  # an argv list, never a shell: arguments are never interpreted
                args,
                cwd=cwd,
                env=None if env is None else dict(env),
                input=input,
                stdin=subprocess.DEVNULL if input is None else None,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
    except FileNotFoundError:
        where = "" if os.sep in args[0] else " on PATH"
        hint = f"; {missing_hint}" if missing_hint else ""
        raise BadInputError(f"{shown[0]} not found{where}{hint}") from None
    except PermissionError:
        raise BadInputError(f"{shown[0]}: not executable (permission denied)") from None
    except OSError as exc:  # e.g. a file that is not a program (exec format error)
        raise BadInputError(f"{shown[0]}: cannot run it ({exc.strerror or exc})") from None
    except ValueError:  # an argument or variable with a NUL byte; the message must not echo the value
        raise BadInputError(f"{shown[0]}: an argument or environment value contains a NUL byte") from None
    except subprocess.TimeoutExpired as exc:
        # subprocess.run has already killed the child and collected what it wrote.
        scrub = Scrubber(literal_secrets(secrets))
        raise CommandTimeoutError(shown, timeout or 0.0, scrub(_text(exc.stdout)), scrub(_text(exc.stderr))) from None
    if result.returncode not in ok_codes:
        scrub = Scrubber(literal_secrets(secrets))
        raise CommandError(shown, result.returncode, scrub(_text(result.stdout)), scrub(_text(result.stderr)))
    return Completed(tuple(shown), result.returncode, result.stdout, result.stderr)


class _Lines:
    """Reads a child's stdout and stderr in two threads, line by line, keeping every byte and passing each
    line on as it comes (to `on_line`, when there is one)."""

    def __init__(self, child: subprocess.Popen[bytes], on_line: Callable[[OutputLine], None] | None) -> None:
        self._on_line: Callable[[OutputLine], None] | None = on_line
        self._lock = threading.Lock()  # one line at a time reaches on_line
        self.failure: BaseException | None = None
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        assert child.stdout is not None  # both are pipes
        assert child.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(child.stdout, self.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(child.stderr, self.stderr, True), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, pipe: IO[bytes], kept: list[bytes], stderr: bool) -> None:
        for raw in iter(pipe.readline, b""):
            kept.append(raw)
            with self._lock:
                if self._on_line is None:
                    continue
                try:
                    self._on_line(OutputLine(raw.rstrip(b"\r\n").decode("utf-8", errors="replace"), stderr))
                except BaseException as exc:  # kept for the caller; the pipe must still be drained
                    self.failure, self._on_line = exc, None

    def finish(self) -> tuple[bytes, bytes]:
        """Wait for both pipes to close; everything the child wrote."""
        for reader in self._readers:
            reader.join()
        return b"".join(self.stdout), b"".join(self.stderr)


def _run_watched(
    args: list[str],
    cwd: Path | None,
    env: Mapping[str, str] | None,
    input: bytes | None,
    *,
    timeout: float | None,
    on_line: Callable[[OutputLine], None] | None,
    finish_on_interrupt: bool,
) -> subprocess.CompletedProcess[bytes]:
    """Run the child with its output read line by line (shown to `on_line` as it comes, when given) and, with
    `finish_on_interrupt`, waited for after Ctrl-C (see run_command)."""
    with subprocess.Popen(
        args,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        lines = _Lines(child, on_line)
        if input is not None:
            _feed(child, input)
        interrupted = False
        while True:
            try:
                child.wait(timeout=timeout)
                stdout, stderr = lines.finish()
                break
            except KeyboardInterrupt:
                if not finish_on_interrupt:
                    child.kill()
                    child.wait()
                    lines.finish()
                    raise
                interrupted = True
                # From a terminal the child got the same SIGINT; from `kill -INT` only we did.
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGINT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                stdout, stderr = lines.finish()
                raise subprocess.TimeoutExpired(args, timeout or 0.0, stdout, stderr) from None
        if interrupted:
            raise KeyboardInterrupt
        if lines.failure is not None:
            raise lines.failure
        return subprocess.CompletedProcess(args, child.returncode, stdout, stderr)


def _feed(child: subprocess.Popen[bytes], data: bytes) -> None:
    """Write `data` to the child's stdin from a thread of its own, so that a child that writes before it
    has read everything cannot block on a full pipe while we block on its stdin."""

    def write() -> None:
        assert child.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            child.stdin.write(data)
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()

    threading.Thread(target=write, daemon=True).start()


def _text(output: bytes | str | None) -> str:
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    return output.decode("utf-8", errors="replace")
