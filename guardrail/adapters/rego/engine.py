"""The Rego policy engine (regorus), evaluating in a forked child while the caller parses the plan.

Why a child process: for an 11,000-change plan regorus spends ~0.4 s reading the JSON input and a few
tenths more evaluating, all while holding the GIL, and its engine may only be used by the thread that
made it (pyo3 `unsendable`), so a thread cannot overlap that work with guardrail's own parsing. A forked
child can: the parent has already parsed every policy (so a broken policy fails before any work), the
child sets the input, evaluates one query and sends the raw JSON back through a pipe.

A child is also what bounds the evaluation in time: regorus cannot be interrupted, so a policy that loops
over a large range is stopped by ending its process once `timeout` has passed. A process that runs other
threads must not fork; there the policies run in a fresh interpreter (child.py) under the same limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import selectors
import signal
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from guardrail.adapters.rego.inputs import input_keys, prune
from guardrail.adapters.rego.lazy import LazyRun
from guardrail.adapters.rego.loading import (
    PolicyFile,
    add_policy,
    describe_error,
    discover,
    error_file,
    inspect_modules,
    new_engine,
    read_policy,
    replay,
    syntax_trees,
)
from guardrail.adapters.rego.results import Selection, select, to_findings
from guardrail.adapters.rego.spawned import SpawnedRun
from guardrail.core.errors import PolicyError
from guardrail.core.ports import PolicyRun
from guardrail.core.verdict import Finding

Mode = Literal["auto", "fork", "spawn", "inline"]
_OK, _FAILED = b"R", b"E"
_CHILD_CRASHED = 70  # the child's exit status when even reporting its error failed


def load_policies(
    paths: Sequence[Path],
    namespaces: Sequence[str] = ("main",),
    all_namespaces: bool = False,
    *,
    mode: Mode = "auto",
    timeout: float | None = None,
) -> RegoPolicyEngine:
    """Load and parse every policy under `paths` (files or folders, see `discover`).

    `mode` says where `submit` evaluates: `fork` in a forked child, `spawn` in a fresh interpreter when
    `findings()` is called, `inline` in this process when `findings()` is called (no time limit: tests and
    benchmarks), `auto` forks on Linux when this process runs no other thread (forking a threaded process
    is unsafe) and spawns otherwise. `timeout` (seconds) bounds an evaluation in a child: past it the
    child is stopped and `findings()` raises PolicyError naming the policies. Raises PolicyError naming
    the file (and line) of a policy that does not parse, or an unknown namespace.
    """
    engine = new_engine()
    files = [add_policy(engine, str(path), read_policy(path)) for path in discover(paths)]
    trees = syntax_trees(engine)
    selection = select(inspect_modules(trees), namespaces, all_namespaces)
    return RegoPolicyEngine(tuple(files), selection, mode, engine, input_keys(trees), timeout=timeout)


class RegoPolicyEngine:
    """Policies parsed once; each `submit` evaluates them against one plan document."""

    def __init__(
        self,
        files: tuple[PolicyFile, ...],
        selection: Selection,
        mode: Mode,
        engine: Any,
        input_keys: frozenset[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        self.files = files
        self.selection = selection
        self.mode = mode
        self.input_keys = input_keys  # the top-level plan keys the policies read; None: any
        self.timeout = timeout  # seconds an evaluation in a child may take; None: no limit
        self._query = selection.query()
        self._engines = threading.local()  # regorus engines must stay in the thread that made them
        self._engines.engine = engine

    def submit(self, document: bytes) -> PolicyRun:
        """Start evaluating; a plan checked against no decision rule costs nothing."""
        return self.submit_each([(None, document)])

    def submit_each(self, documents: Sequence[tuple[str | None, bytes]]) -> PolicyRun:
        """Start evaluating every policy against each document on its own, as conftest evaluates each
        document of a multi-document YAML file; a finding that names no address gets its document's."""
        if not self.selection.rules or not documents:
            return _Done([])
        if self._forks():
            try:
                return _ForkedRun(self, list(documents))
            except OSError:  # no memory or process slot for a child: slower, but the same answer
                pass
        elif self.mode in ("spawn", "auto"):
            return SpawnedRun(self, list(documents))
        return _InlineRun(self, list(documents))

    def evaluate(self, document: bytes) -> list[Finding]:
        """Evaluate in this process and thread, now."""
        return self.findings_from(self.raw_results(document))

    def raw_results_each(self, documents: Sequence[tuple[str | None, bytes]]) -> str:
        """The query's JSON result text for each document, as one JSON array, in order."""
        return "[" + ",".join(self.raw_results(document) for _, document in documents) + "]"

    def findings_from_each(self, raw: str, documents: Sequence[tuple[str | None, bytes]]) -> list[Finding]:
        """Findings from `raw_results_each` text, each on its document's address unless it names one."""
        findings: list[Finding] = []
        for (address, _), result in zip(documents, json.loads(raw), strict=True):
            found = self._findings_of(result)
            if address is not None:
                found = [f if f.address is not None else dataclasses.replace(f, address=address) for f in found]
            findings.extend(found)
        return findings

    def raw_results(self, document: bytes) -> str:
        """The query's JSON result text. Raises PolicyError naming the namespace of a failing rule."""
        engine = self._engine_here()
        try:
            text = prune(document, self.input_keys).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy input is not UTF-8 (byte {exc.start})") from None
        try:
            engine.set_input_json(text)
        except Exception as exc:
            raise PolicyError(f"policy input is not valid JSON: {describe_error(str(exc))}") from None
        try:
            return str(engine.eval_query_as_json(self._query))
        except Exception as exc:
            raise self._evaluation_error(str(exc)) from None

    def findings_from(self, raw: str) -> list[Finding]:
        """Findings from `raw_results` text."""
        return self._findings_of(json.loads(raw))

    def _findings_of(self, parsed: Any) -> list[Finding]:
        results = parsed.get("result", [])
        values = results[0]["expressions"][0]["value"] if results else []
        return to_findings(self.selection.rules, values)

    def _forks(self) -> bool:
        if self.mode == "inline" or not hasattr(os, "fork"):
            return False
        if self.mode == "fork":
            return True
        return sys.platform.startswith("linux") and threading.active_count() == 1

    def _engine_here(self) -> Any:
        engine = getattr(self._engines, "engine", None)
        if engine is None:
            engine = new_engine()
            replay(engine, self.files)
            self._engines.engine = engine
        return engine

    def _evaluation_error(self, message: str) -> PolicyError:
        where = self.selection.namespace_of_file(error_file(message))
        named = self._named([where] if where is not None else None)
        return PolicyError(f"Rego evaluation failed in namespace {named}: {describe_error(message)}")

    def timed_out(self) -> PolicyError:
        """The error of an evaluation stopped at the time limit, naming every policy that was running."""
        return PolicyError(
            f"Rego evaluation ran past policies.timeout ({self.timeout:g} s) and was stopped, in namespace "
            f"{self._named(None)}: a policy loops or iterates over too much"
        )

    def _named(self, namespaces: list[tuple[str, ...]] | None) -> str:
        chosen = namespaces or sorted({rule.namespace for rule in self.selection.rules})
        return "; ".join(f"{'.'.join(ns)} ({', '.join(self.selection.files_of.get(ns, ()))})" for ns in chosen)


class _Done:
    def __init__(self, findings: list[Finding]) -> None:
        self._findings = findings

    def findings(self) -> list[Finding]:
        return list(self._findings)


class _InlineRun(LazyRun):
    """Evaluates when asked: in-process there is nothing to overlap with."""

    def _evaluate(self, documents: list[tuple[str | None, bytes]]) -> str:
        return self._engine.raw_results_each(documents)


class _ForkedRun:
    """A child process evaluating the policies; `findings()` waits for it."""

    def __init__(self, engine: RegoPolicyEngine, documents: list[tuple[str | None, bytes]]) -> None:
        self._engine = engine
        self._documents = documents
        self._findings: list[Finding] | None = None
        engine._engine_here()  # made before the fork, so the child's copy is ready to use
        for stream in (sys.stdout, sys.stderr):  # or the child's copy of a buffer would be written twice
            stream.flush()
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about forking a threaded process; `auto` never does, `fork` asked for it.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # pragma: no cover - the child; coverage cannot see it
            _child(engine, documents, read_end, write_end)
        os.close(write_end)
        self._pid = pid
        self._read_end = read_end
        # The child started evaluating now: its time runs from here, while the caller parses the plan.
        self._deadline = None if engine.timeout is None else time.monotonic() + engine.timeout
        # A run that is dropped unread (the caller failed first) must not leave a child or a zombie behind.
        self._reaper = weakref.finalize(self, _reap, pid, read_end)

    def findings(self) -> list[Finding]:
        if self._findings is None:
            self._findings = self._collect()
        return list(self._findings)

    def _collect(self) -> list[Finding]:
        payload = self._read_until_deadline()
        if payload is None:
            self._reaper()  # kills the child, reaps it and closes the pipe: nothing is left running
            raise self._engine.timed_out()
        self._reaper.detach()
        os.close(self._read_end)
        _, status = os.waitpid(self._pid, 0)
        if payload[:1] == _FAILED:
            raise PolicyError(payload[1:].decode("utf-8", errors="replace"))
        if payload[:1] != _OK or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            raise PolicyError(f"Rego evaluation process failed ({_describe_status(status)}): no result")
        return self._engine.findings_from_each(payload[1:].decode("utf-8"), self._documents)

    def _read_until_deadline(self) -> bytes | None:
        """Everything the child writes, or None when the deadline passes first."""
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(self._read_end, selectors.EVENT_READ)
            while True:
                remaining = None if self._deadline is None else self._deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                if not selector.select(remaining):
                    continue
                chunk = os.read(self._read_end, 1 << 20)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)


def _child(engine: RegoPolicyEngine, documents: list[tuple[str | None, bytes]], read_end: int, write_end: int) -> None:
    """Runs in the forked child and never returns: no atexit handler, test teardown or buffer flush of
    the parent may run twice."""
    status = _CHILD_CRASHED
    try:
        os.close(read_end)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a parent that stops reading ends the child
        try:
            payload = _OK + engine.raw_results_each(documents).encode("utf-8")
        except PolicyError as exc:
            payload = _FAILED + str(exc).encode("utf-8")
        except BaseException as exc:  # a regorus panic too: the parent must hear of it, not see silence
            payload = _FAILED + f"Rego evaluation crashed: {type(exc).__name__}: {exc}".encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view) :]
        status = 0
    finally:
        os._exit(status)


def _reap(pid: int, read_end: int) -> None:
    with contextlib.suppress(OSError):
        os.close(read_end)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else f"status {status}"
