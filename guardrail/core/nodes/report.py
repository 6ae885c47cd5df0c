"""A cycle's outcome as people and machines read it: per stratum its state, nodes cycled and failed, and
its phase timings against budgets; for the cycle, the outcome, why, nodes cycled and lost, and the
lowest share of the pool's GPUs that served at any time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guardrail.core.nodes.capacity import share
from guardrail.core.nodes.records import Failure, NodeStatus, Outcome
from guardrail.core.nodes.state import CycleState
from guardrail.core.nodes.strata import StratumKey
from guardrail.core.nodes.timings import SpanTiming, stratum_timings


class StratumState(StrEnum):
    PENDING = "pending"  # no node started
    CANARY = "canary"  # its canary is in hand, no node back yet
    CYCLING = "cycling"  # the canary passed; widening
    COMPLETED = "completed"  # every node back (or gone from the pool)
    FAILED = "failed"  # a node of this stratum failed: it halted the cycle
    STOPPED = "stopped"  # the cycle ended (another stratum failed, an abort) before this one was done


@dataclass(frozen=True, slots=True)
class StratumReport:
    key: StratumKey
    state: StratumState
    nodes: int
    cycled: int
    failed: int
    in_hand: int
    timings: tuple[SpanTiming, ...]

    def to_json(self) -> dict[str, Any]:
        """The stratum as `rehearse --format json` writes it."""
        return {
            "instance_type": self.key.instance_type,
            "zone": self.key.zone,
            "cycled": self.cycled,
            "failed": self.failed,
            "state": self.state.value,
        }


@dataclass(frozen=True, slots=True)
class CycleReport:
    pool: str
    outcome: Outcome | None  # None: still running (or paused)
    reason: str
    nodes_cycled: int
    nodes_lost: int
    min_capacity: float
    strata: tuple[StratumReport, ...]
    failures: tuple[str, ...]  # every failure, described (the first is the halt's reason)
    released: tuple[str, ...]  # nodes handed back unreplaced when the cycle stopped
    floor: float

    def to_json(self) -> dict[str, Any]:
        """Exactly the keys of the `rehearse --format json` contract."""
        return {
            "outcome": self.outcome.value if self.outcome is not None else "running",
            "reason": self.reason,
            "nodes_cycled": self.nodes_cycled,
            "nodes_lost": self.nodes_lost,
            "min_capacity": round(self.min_capacity, 6),
            "strata": [s.to_json() for s in self.strata],
        }


def stratum_state(state: CycleState, index: int, counts: Counter[NodeStatus]) -> StratumState:
    """Where a stratum stands, from its nodes' statuses and whether the cycle has ended."""
    plan = state.strata[index]
    if counts[NodeStatus.FAILED]:
        return StratumState.FAILED
    finished = counts[NodeStatus.DONE] + counts[NodeStatus.SKIPPED]
    if finished == len(plan.nodes):
        return StratumState.COMPLETED
    if state.outcome is not None:
        return StratumState.STOPPED
    if counts[NodeStatus.DONE]:
        return StratumState.CYCLING
    return StratumState.CANARY if counts[NodeStatus.ACTIVE] else StratumState.PENDING


def cycle_report(state: CycleState) -> CycleReport:
    """The report of a cycle, finished or not."""
    by_stratum: list[Counter[NodeStatus]] = [Counter() for _ in state.strata]
    for p in state.nodes.values():
        by_stratum[p.stratum][p.status] += 1
    strata = tuple(
        StratumReport(
            plan.key,
            stratum_state(state, index, counts),
            len(plan.nodes),
            counts[NodeStatus.DONE],
            counts[NodeStatus.FAILED],
            counts[NodeStatus.ACTIVE],
            tuple(stratum_timings(state, index)),
        )
        for index, (plan, counts) in enumerate(zip(state.strata, by_stratum, strict=True))
    )
    failures = sorted((p.failure for p in state.nodes.values() if p.failure is not None), key=_failure_order(state))
    cycled = sum(s.cycled for s in strata)
    lost = sum(1 for p in state.nodes.values() if p.status in (NodeStatus.FAILED, NodeStatus.LEFT))
    return CycleReport(
        pool=state.pool,
        outcome=state.outcome,
        reason=state.halt or _reason(state, cycled),
        nodes_cycled=cycled,
        nodes_lost=lost,
        min_capacity=share(state.lowest_available, state.total_gpus),
        strata=strata,
        failures=tuple(f.describe(state.strata[f.stratum].key.label) for f in failures),
        released=tuple(p.name for p in state.nodes.values() if p.status is NodeStatus.RELEASED),
        floor=state.settings.capacity_floor,
    )


def _reason(state: CycleState, cycled: int) -> str:
    if state.outcome is Outcome.ABORTED:
        return f"aborted after {cycled} node(s) cycled"
    if state.outcome is Outcome.COMPLETED:
        return f"every node cycled: {cycled} node(s) in {len(state.strata)} strata"
    if state.paused:
        return f"paused after {cycled} node(s) cycled"
    return f"running: {cycled} node(s) cycled so far"


def _failure_order(state: CycleState) -> Callable[[Failure], tuple[bool, int, str]]:
    first = state.halt_failure

    def order(failure: Failure) -> tuple[bool, int, str]:
        return (failure != first, failure.stratum, failure.node)

    return order
