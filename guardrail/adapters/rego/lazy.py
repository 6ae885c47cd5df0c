"""A policy run that evaluates when its findings are first asked for, once: in this process, or in a
spawned interpreter (spawned.py); each says only how it gets the raw results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrail.core.verdict import Finding

if TYPE_CHECKING:
    from guardrail.adapters.rego.engine import RegoPolicyEngine


class LazyRun:
    """The PolicyRun port: `findings()` evaluates the documents the first time and remembers the answer."""

    def __init__(self, engine: RegoPolicyEngine, documents: list[tuple[str | None, bytes]]) -> None:
        self._engine = engine
        self._documents = documents
        self._findings: list[Finding] | None = None

    def findings(self) -> list[Finding]:
        if self._findings is None:
            raw = self._evaluate(self._documents)
            self._findings = self._engine.findings_from_each(raw, self._documents)
            self._documents = []
        return list(self._findings)

    def _evaluate(self, documents: list[tuple[str | None, bytes]]) -> str:
        """The raw results of every document (see RegoPolicyEngine.raw_results_each). Raises PolicyError."""
        raise NotImplementedError
