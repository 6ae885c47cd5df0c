"""How a cycle stops: the first failure halts it; a halt or an abort hands back the nodes not yet replaced
(an abort leaves the others as they are, for a person); when nothing is in hand it ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from guardrail.core.audit import EventKind
from guardrail.core.nodes.actions import CycleEvent
from guardrail.core.nodes.records import NodeProgress, NodeStatus, Outcome
from guardrail.core.nodes.report import cycle_report
from guardrail.core.nodes.settings import Phase
from guardrail.core.nodes.state import CycleState


def halt_on_failure(state: CycleState, changed: Sequence[NodeProgress]) -> tuple[CycleState, list[CycleEvent]]:
    """The first failure halts the cycle and names why (failures of one step: by stratum, then node)."""
    if state.halt is not None:
        return state, []
    failures = sorted((p.failure for p in changed if p.failure is not None), key=lambda f: (f.stratum, f.node))
    if not failures:
        return state, []
    first = failures[0]
    reason = first.describe(state.strata[first.stratum].key.label)
    event = CycleEvent(EventKind.NODE_DECISION, {"decision": "halt", "reason": reason, "node": first.node})
    return replace(state, halt=reason, halt_failure=first), [event]


def hand_back(
    state: CycleState, stepped: Sequence[NodeProgress], now: float
) -> tuple[CycleState, list[NodeProgress], list[CycleEvent]]:
    """After a halt or an abort: nodes in hand not yet replaced go back into service (uncordoned); after an
    abort, nodes past their replace are left as they are. Returns the state, the nodes in hand as they now
    are, and the events."""
    if state.halt is None and not state.aborting:
        return state, list(stepped), []
    events: list[CycleEvent] = []
    why = "aborted" if state.aborting else "halted"
    result: list[NodeProgress] = []
    for p in stepped:
        now_p = p
        if p.status is NodeStatus.ACTIVE and p.phase is not Phase.UNCORDON:
            if not p.past_replace:
                now_p = replace(p, phase=Phase.UNCORDON, phase_started=now, ending=NodeStatus.RELEASED)
                payload = {"decision": "release", "node": p.name, "reason": why}
                events.append(CycleEvent(EventKind.NODE_DECISION, payload))
            elif state.aborting:
                now_p = replace(p, status=NodeStatus.LEFT)
                payload = {"decision": "leave", "node": p.name, "current": p.current, "phase": p.phase.value}
                events.append(CycleEvent(EventKind.NODE_DECISION, {**payload, "reason": why}))
        result.append(now_p)
    return state.with_progress(result), result, events


def end_when_idle(state: CycleState, available: int) -> tuple[CycleState, list[CycleEvent]]:
    """When nothing is in hand: the outcome (unless paused with nodes still waiting)."""
    if state.nodes.in_hand:
        return state, []
    waiting = any(cursor < len(plan.nodes) for cursor, plan in zip(state.cursor, state.strata, strict=True))
    if state.aborting:
        outcome = Outcome.ABORTED
    elif state.halt is not None:
        outcome = Outcome.HALTED
    elif not waiting:
        outcome = Outcome.COMPLETED
    elif state.paused:
        return state, []
    else:  # nothing in hand, nodes waiting, and none of them may start: the floor leaves no room
        headroom = max(0, available - state.minimum_gpus)
        reason = (
            f"capacity: {available} of {state.total_gpus} GPUs serve and the floor keeps {state.minimum_gpus}; "
            f"no waiting node fits the {headroom} GPUs of headroom"
        )
        state = replace(state, halt=reason)
        outcome = Outcome.HALTED
    failed = sorted(p.name for p in state.nodes.values() if p.status is NodeStatus.FAILED)
    ended = replace(state, outcome=outcome)
    payload = {
        "outcome": outcome.value,
        "reason": state.halt or "every node cycled",
        "failed": failed,
        # How each stratum ended, by index: the next cycle's pre-flight reads which ones passed.
        "strata": [stratum.state.value for stratum in cycle_report(ended).strata],
    }
    return ended, [CycleEvent(EventKind.NODE_CYCLE_END, payload)]


def close_idle(state: CycleState) -> tuple[CycleState, list[CycleEvent]] | None:
    """An abort of a cycle with nothing in hand (paused between nodes, or halted and waiting for a person)
    ends it at once: nothing is handed back, nothing is asked of the cluster. None while nodes are in hand:
    the process driving the cycle acts on the abort between its actions."""
    if state.nodes.in_hand:
        return None
    if state.outcome is not None:
        reason = f"closed by an abort after the cycle {state.outcome.value}: {state.halt or 'nothing in hand'}"
        return state, [CycleEvent(EventKind.NODE_DECISION, {"decision": "close", "reason": reason})]
    return end_when_idle(replace(state, aborting=True), state.lowest_available)
