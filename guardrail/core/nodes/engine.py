"""The node-cycle state machine: given the state and an observation, the next state, the actions and the
events; given the actions' results, the state again. No clock, no I/O: the services loop.

Per step: every node in hand moves as far as the observation confirms (progress.advance); the first
failure halts the cycle; a halt or an abort hands back the nodes not yet replaced; new nodes start while
the capacity floor allows (a stratum's canary first, the rest only after it passed); the lowest capacity
and slow phases are recorded; and when nothing is in hand any more the cycle ends: completed, halted
(the first failure says why) or aborted.

A step costs time in proportion to the nodes in hand, plus one pass over the pool for the capacity: a
rehearsal of a thousand nodes takes about a thousand steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from guardrail.core.audit import EventKind
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.nodes.actions import (
    Action,
    ActionResult,
    Cordon,
    CreatePod,
    CycleEvent,
    DeletePod,
    Evict,
    Observation,
    Replace,
    Uncordon,
)
from guardrail.core.nodes.admission import admit
from guardrail.core.nodes.capacity import share
from guardrail.core.nodes.ending import end_when_idle, halt_on_failure, hand_back
from guardrail.core.nodes.progress import NodeView, advance, fail, finish_phase
from guardrail.core.nodes.records import NodeProgress, NodeStatus
from guardrail.core.nodes.settings import Phase
from guardrail.core.nodes.state import CycleState
from guardrail.core.nodes.strata import placement_of
from guardrail.core.nodes.timings import new_warnings

_MIN_WAIT = 1.0  # seconds: never poll in a tight loop when nothing moved
_ACTION_NAMES: dict[type, str] = {
    Cordon: "cordon",
    Uncordon: "uncordon",
    Evict: "eviction",
    Replace: "replace",
    CreatePod: "validation pod creation",
    DeletePod: "validation pod deletion",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The next state, the actions to take now, what to record, how long to wait before observing again
    (0: at once, something moved), and whether the state changed (it must then be saved before acting)."""

    state: CycleState
    actions: tuple[Action, ...]
    events: tuple[CycleEvent, ...]
    wait: float
    changed: bool
    watch: tuple[str, ...]  # the nodes in hand by their current names: whose pods the next observation lists


def watched(state: CycleState) -> tuple[str, ...]:
    """The nodes whose pods the next observation must list: every node in hand, by its current name."""
    return tuple(p.current for p in state.nodes.values() if p.status is NodeStatus.ACTIVE)


@dataclass
class _Work:
    """What a step gathers as it goes."""

    wake: float
    actions: list[Action] = field(default_factory=list)
    events: list[CycleEvent] = field(default_factory=list)
    moved: bool = False


def decide(state: CycleState, observation: Observation) -> Decision:
    """One step of the cycle (see the module docstring)."""
    if state.outcome is not None:
        return Decision(state, (), (), 0.0, False, ())
    work = _Work(state.settings.poll_interval)
    state, stepped = _advance_in_hand(state, observation, work)
    state, halted = halt_on_failure(state, stepped)
    work.events.extend(halted)
    state, stepped, handed_back = hand_back(state, stepped, observation.now)
    work.events.extend(handed_back)
    available = observation.available_gpus(state.nodes.out_of_service())
    if state.halt is None and not state.paused and not state.aborting and _waiting(state):
        state, available = _start_nodes(state, observation, available, work)
    if available < state.lowest_available:
        state = replace(state, lowest_available=available)
        low = {"decision": "capacity-low", "available_gpus": available, "total_gpus": state.total_gpus}
        work.events.append(CycleEvent(EventKind.NODE_DECISION, {**low, "share": share(available, state.total_gpus)}))
    state, warnings = new_warnings(state, work.events)
    work.events.extend(warnings)
    state, ended = end_when_idle(state, available)
    work.events.extend(ended)
    moved = work.moved or bool(handed_back) or bool(ended) or bool(work.events)
    wait = 0.0 if work.wake == 0.0 or handed_back else max(_MIN_WAIT, work.wake)
    watch = tuple(p.current for p in state.nodes.in_hand)
    return Decision(state, tuple(work.actions), tuple(work.events), wait, moved, watch)


def _advance_in_hand(state: CycleState, observation: Observation, work: _Work) -> tuple[CycleState, list[NodeProgress]]:
    """Every node in hand moves as far as the observation confirms; the node replaced first claims the
    first newcomer of its placement."""
    in_hand = sorted(state.nodes.in_hand, key=_replace_order)
    newcomers = _newcomers(observation.nodes, state.known) if _awaiting_replacement(in_hand) else {}
    claimed: set[str] = set()
    stepped: list[NodeProgress] = []
    for p in in_hand:
        plan = state.strata[p.stratum]
        mine = newcomers.get(plan.key.placement, [])
        view = NodeView(observation.now, observation.nodes.get(p.current), observation.pods.get(p.current), mine)
        step = advance(p, plan, state.settings, view)
        if step.claimed is not None:
            claimed.add(step.claimed)
            mine.remove(next(n for n in mine if n.name == step.claimed))
        work.moved = work.moved or step.progress is not p
        stepped.append(step.progress)
        work.actions.extend(step.actions)
        work.events.extend(step.events)
        work.wake = _sooner(work.wake, step.wake)
    state = state.with_progress(stepped)
    return (replace(state, known=state.known | claimed) if claimed else state), stepped


def _start_nodes(state: CycleState, observation: Observation, available: int, work: _Work) -> tuple[CycleState, int]:
    """Nodes start while the floor allows, and take their first step (their cordon) at once: their pods
    are listed from the next observation on, so nothing that needs them happens yet."""
    state, available, started, admitted = admit(state, observation, available, observation.now)
    work.events.extend(admitted)
    fresh: list[NodeProgress] = []
    for name in started:
        p = state.nodes[name]
        view = NodeView(observation.now, observation.nodes.get(p.current), None, ())
        step = advance(p, state.strata[p.stratum], state.settings, view)
        fresh.append(step.progress)
        work.actions.extend(step.actions)
        work.events.extend(step.events)
    return state.with_progress(fresh), available


def settle(state: CycleState, results: Iterable[ActionResult]) -> tuple[CycleState, list[CycleEvent]]:
    """The state after the actions of a step returned: a replace, cordon or uncordon that the provider or
    the API server accepted ends its phase; a refused action fails its node (evictions a
    PodDisruptionBudget refused are not refusals: the drain retries)."""
    events: list[CycleEvent] = []
    progress: dict[str, NodeProgress] = {}
    for result in results:
        name = result.action.planned
        p = progress.get(name) or state.nodes.get(name)
        if p is None or p.status is not NodeStatus.ACTIVE:
            continue
        plan = state.strata[p.stratum]
        action, at = result.action, result.finished
        if result.error is not None and isinstance(action, DeletePod):
            # Only a clean-up: the node passed already. The pod stays for a person to remove.
            payload = {"decision": "keep-pod", "node": p.name, "pod": action.name, "reason": result.error}
            events.append(CycleEvent(EventKind.NODE_DECISION, payload))
            continue
        if result.error is not None:
            message = f"{_ACTION_NAMES[type(action)]} refused: {result.error}"
            progress[name], event = fail(p, plan, max(0.0, at - p.phase_started), None, message)
        elif isinstance(action, Replace) and p.phase is Phase.REPLACE and at - p.phase_started > plan.budgets.replace:
            # The command ran to its end within one step: its time is held against the stratum's budget here.
            took = at - p.phase_started
            message = "the replace took longer than its budget"
            progress[name], event = fail(p, plan, took, plan.budgets.replace, message)
        elif isinstance(action, Replace) and p.phase is Phase.REPLACE:
            done, event = finish_phase(p, plan, at, Phase.REGISTER)
            progress[name] = replace(done, replaced_at=at)
        elif isinstance(action, Cordon) and p.phase is Phase.CORDON:
            # The API server answered the patch with the node cordoned: that is the confirmation.
            progress[name], event = finish_phase(p, plan, at, Phase.DRAIN)
        elif isinstance(action, Uncordon) and p.phase is Phase.UNCORDON:
            done, event = finish_phase(p, plan, at, Phase.UNCORDON)
            progress[name] = replace(done, status=p.ending)
        else:
            continue
        events.append(event)
    if not progress:
        return state, events
    settled = list(progress.values())
    state, halted = halt_on_failure(state.with_progress(settled), settled)
    return state, events + halted


def pause(state: CycleState) -> CycleState:
    """No node starts any more; the nodes in hand finish (their budgets still run)."""
    return replace(state, paused=True)


def resume(state: CycleState) -> CycleState:
    return replace(state, paused=False)


def abort(state: CycleState) -> CycleState:
    """Stop: nodes not yet replaced are handed back (uncordoned); the others are left as they are, for a
    person (an abort is someone taking over)."""
    return replace(state, aborting=True)


def _sooner(wake: float, wanted: float | None) -> float:
    return wake if wanted is None else min(wake, wanted)


def _replace_order(p: NodeProgress) -> tuple[bool, float, float, str]:
    return (p.replaced_at is None, p.replaced_at or 0.0, p.started, p.name)


def _waiting(state: CycleState) -> bool:
    return any(cursor < len(plan.nodes) for cursor, plan in zip(state.cursor, state.strata, strict=True))


def _newcomers(nodes: Mapping[str, NodeInfo], known: frozenset[str]) -> dict[tuple[str, str, str], list[NodeInfo]]:
    """Nodes the cycle has not seen before, by placement, oldest first: replacements to be claimed."""
    fresh = sorted(
        (nodes[name] for name in nodes.keys() - known),
        key=lambda n: (n.created_at.timestamp() if n.created_at else 0.0, n.name),
    )
    by_placement: dict[tuple[str, str, str], list[NodeInfo]] = {}
    for node in fresh:
        by_placement.setdefault(placement_of(node), []).append(node)
    return by_placement


def _awaiting_replacement(in_hand: Iterable[NodeProgress]) -> bool:
    return any(p.phase is Phase.REGISTER for p in in_hand)
