"""PromQL gates: queries against a cluster's Prometheus, each compared with its threshold at every
observation (`rollout.promql_gates`). A query that cannot be read fails its gate: an unreadable
Prometheus is never "healthy". A query that returns several series passes only when every one does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from guardrail.core.errors import GuardrailError

# How a value must compare with the threshold for the gate to pass.
COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
GATE_PREFIX = "promql:"  # a PromQL gate's id in gate results: promql:NAME


class PromqlError(GuardrailError):
    """A query could not be answered: no answer in time, an error status, or no number in the answer."""


class PromqlSource(Protocol):
    """A Prometheus (or compatible) HTTP API."""

    def query(self, promql: str) -> tuple[float, ...]:
        """The instant values of `promql` now, one per series (a scalar is one value). Raises PromqlError
        when the server does not answer within its timeout, answers with an error, or with no numbers."""
        ...


@dataclass(frozen=True, slots=True)
class PromqlGate:
    """One gate: `query`'s value must be `comparison` `threshold` (`error_rate < 0.01`)."""

    name: str
    query: str
    threshold: float
    comparison: str

    @property
    def gate(self) -> str:
        return GATE_PREFIX + self.name

    def passes(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold)


@dataclass(frozen=True, slots=True)
class PromqlValue:
    """What one query gave at one observation: its values, or why it gave none."""

    values: tuple[float, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"values": list(self.values), "error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PromqlValue:
        return cls(tuple(float(v) for v in data["values"]), data["error"])


def evaluate(source: PromqlSource, gates: tuple[PromqlGate, ...]) -> dict[str, PromqlValue]:
    """Every gate's query, asked once; a failure is kept as the gate's value, never raised."""
    results: dict[str, PromqlValue] = {}
    for gate in gates:
        try:
            results[gate.name] = PromqlValue(source.query(gate.query))
        except PromqlError as exc:
            results[gate.name] = PromqlValue(error=str(exc))
    return results


def worst(gate: PromqlGate, values: tuple[float, ...]) -> float:
    """The value furthest on the failing side of the threshold."""
    return max(values) if gate.comparison in ("<", "<=") else min(values)
