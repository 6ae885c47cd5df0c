"""Phase timings per stratum against their budgets: a phase whose p95 passes 70% of its budget is a
warning before it becomes an outage.

Register and Ready share the boot budget, so they are judged together as `boot` (their sum). p95 is the
nearest-rank percentile: the smallest sample at or above 95% of the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from guardrail.core.audit import EventKind
from guardrail.core.nodes.actions import CycleEvent
from guardrail.core.nodes.records import NodeProgress
from guardrail.core.nodes.settings import Budgets, Phase
from guardrail.core.nodes.state import CycleState

BOOT_SPAN = "boot"
# What is judged against a budget, in the order of a node's cycle.
SPANS = ("cordon", "drain", "replace", BOOT_SPAN, Phase.GPU.value, Phase.VALIDATION.value, "uncordon")
_BOOT_PARTS = (Phase.REGISTER.value, Phase.READY.value)


def p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile. Raises ValueError for no samples."""
    if not samples:
        raise ValueError("p95 of no samples")
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def span_budget(budgets: Budgets, span: str) -> float:
    return budgets.boot if span == BOOT_SPAN else budgets.of(Phase(span))


def span_sample(progress: NodeProgress, span: str) -> float | None:
    """The node's time in `span`, or None when it has not been through it."""
    durations = progress.durations
    if span == BOOT_SPAN:
        parts = [durations[p] for p in _BOOT_PARTS if p in durations]
        return sum(parts) if parts else None
    return durations.get(span)


@dataclass(frozen=True, slots=True)
class SpanTiming:
    """One span of one stratum: how many nodes went through it, their median, p95 and longest time."""

    span: str
    count: int
    median: float
    p95: float
    longest: float
    budget: float
    warn_ratio: float

    @property
    def warning(self) -> bool:
        return self.p95 > self.warn_ratio * self.budget

    @property
    def share(self) -> float:
        """p95 as a share of the budget."""
        return self.p95 / self.budget if self.budget else 0.0


def stratum_timings(state: CycleState, stratum: int, spans: Iterable[str] = SPANS) -> list[SpanTiming]:
    """The spans (all by default) that at least one node of the stratum went through."""
    members = [p for p in state.nodes.values() if p.stratum == stratum]
    return _timings(members, state.strata[stratum].budgets, state.settings.warn_ratio, spans)


def _timings(
    members: Sequence[NodeProgress], budgets: Budgets, warn_ratio: float, spans: Iterable[str]
) -> list[SpanTiming]:
    timings = []
    for span in spans:
        samples = sorted(s for s in (span_sample(p, span) for p in members) if s is not None)
        if samples:
            middle = samples[(len(samples) - 1) // 2]
            timings.append(
                SpanTiming(
                    span, len(samples), middle, p95(samples), samples[-1], span_budget(budgets, span), warn_ratio
                )
            )
    return timings


def new_warnings(state: CycleState, events: Iterable[CycleEvent]) -> tuple[CycleState, list[CycleEvent]]:
    """Warnings for the spans that nodes finished or failed in `events`, each (stratum, span) given once.

    Only a new sample above the warning line can lift a p95 above it (the samples above the line would
    have to outnumber the 5% the percentile leaves out), so only those spans are looked at again."""
    ratio = state.settings.warn_ratio
    touched: dict[int, set[str]] = {}
    for event in events:
        if event.kind not in (EventKind.NODE_PHASE, EventKind.NODE_FAILURE):
            continue
        progress = state.nodes.get(event.payload.get("node", ""))
        if progress is None:
            continue
        phase = str(event.payload["phase"])
        span = BOOT_SPAN if phase in _BOOT_PARTS else phase
        sample = span_sample(progress, span)
        budget = span_budget(state.strata[progress.stratum].budgets, span)
        if sample is not None and sample > ratio * budget and f"{progress.stratum}/{span}" not in state.warned:
            touched.setdefault(progress.stratum, set()).add(span)
    if not touched:
        return state, []
    warned = set(state.warned)
    found: list[CycleEvent] = []
    for stratum in sorted(touched):
        plan = state.strata[stratum]
        spans = [span for span in SPANS if span in touched[stratum]]
        for timing in stratum_timings(state, stratum, spans):
            if timing.warning:
                warned.add(f"{stratum}/{timing.span}")
                payload = {
                    "decision": "warn",
                    "stratum": plan.key.label,
                    "span": timing.span,
                    "p95": timing.p95,
                    "budget": timing.budget,
                    "share": timing.share,
                }
                found.append(CycleEvent(EventKind.NODE_DECISION, payload))
    if not found:
        return state, []
    return replace(state, warned=frozenset(warned)), found
