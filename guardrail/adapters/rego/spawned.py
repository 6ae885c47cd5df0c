"""Policies evaluated in a fresh interpreter (child.py), for a process that must not fork.

A process that runs other threads (the TUI) may not fork, yet a runaway policy must still be stopped at the
time limit: regorus cannot be interrupted, so the evaluation runs in a process of its own, started through
the one place that runs commands, and ended when the limit passes.
"""

from __future__ import annotations

import pickle
import sys

from guardrail.adapters.process import CommandTimeoutError, run_command
from guardrail.adapters.rego.lazy import LazyRun
from guardrail.core.errors import CommandError, PolicyError

# The spawned child's exit status for a PolicyError, whose message it writes on stderr.
CHILD_POLICY_ERROR = 3


class SpawnedRun(LazyRun):
    """Evaluates in a fresh interpreter (see child.py) when asked: for a process that must not fork because
    it runs other threads (the TUI), and still needs a runaway policy stopped at the time limit."""

    def _evaluate(self, documents: list[tuple[str | None, bytes]]) -> str:
        engine = self._engine
        request = pickle.dumps((engine.files, engine.selection, engine.input_keys, documents))
        # -P: the working directory must not shadow guardrail's own modules in the child.
        argv = [sys.executable, "-P", "-m", "guardrail.adapters.rego.child"]
        try:
            done = run_command(argv, input=request, timeout=engine.timeout, ok_codes=(0, CHILD_POLICY_ERROR))
        except CommandTimeoutError:
            raise engine.timed_out() from None
        except CommandError as failed:
            raise PolicyError(f"Rego evaluation process failed (exit status {failed.returncode}): no result") from None
        if done.returncode == CHILD_POLICY_ERROR:
            raise PolicyError(done.stderr_text.strip() or "Rego evaluation failed")
        return done.stdout_text
