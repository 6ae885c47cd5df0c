"""The rollout state machine: given the state and an event, the next action. No clock, no I/O: time
arrives with the events.

  baseline     observe every cluster twice, one interval apart; no baseline -> halt (nothing changed)
  prepare      per cluster: containment, the DaemonSet installed with no reach, rollback dry-run;
               refused -> halt and roll back what was prepared
  rolling      widen (release held nodes | replace pods) -> soak, observing the cluster (the others less
               often); a failing gate -> roll back; soak over and every gate settled -> measure the cost,
               project the next step and the full fleet -> widen, halt (over the limit) or done
  awaiting-approval  past the canary, when approvals are required: observe and judge as while rolling
               until Approved -> decide again (widen or halt)
  rolling-back roll back every touched cluster, largest first
  verifying    observe until the gates are back at their baseline (twice in a row) -> "rollback
               verified", or the timeout -> why not
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from guardrail.core.rollout.approval import approved, await_approval, needs_approval
from guardrail.core.rollout.gates import baseline_of, failures, judge, settled
from guardrail.core.rollout.plan import ClusterPlan, Step
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.projection import fit, measure
from guardrail.core.rollout.rollback import current, finish, observed_verifying, rolled_back, stop
from guardrail.core.rollout.state import (
    Acted,
    Action,
    ActionKind,
    Approved,
    Event,
    Mode,
    Note,
    Observed,
    Outcome,
    Phase,
    Requested,
    RolloutState,
)
from guardrail.core.rollout.widen import load_gate
from guardrail.core.runs import RunRequest

# The phases a person may pause or abort (later ones are already rolling back or done).
_GOING = (Phase.BASELINE, Phase.PREPARE, Phase.ROLLING, Phase.AWAITING_APPROVAL)


@dataclass(frozen=True, slots=True)
class Transition:
    state: RolloutState
    action: Action
    notes: tuple[Note, ...] = ()
    handled_request: bool = False  # the Requested event was acted on (the store may clear it)


def new_state(workload: str, flow_schema: str, mode: Mode, plan: tuple[ClusterPlan, ...]) -> RolloutState:
    return RolloutState(workload=workload, flow_schema=flow_schema, mode=mode, plan=plan)


def advance(state: RolloutState, event: Event, policy: RolloutPolicy) -> Transition:
    """The state after `event`, and the action to take next."""
    s = state.copy()
    notes: list[Note] = []
    if isinstance(event, Requested):
        return _requested(s, event, policy, notes)
    if isinstance(event, Approved):
        if s.phase is Phase.AWAITING_APPROVAL and s.pending is None:
            approved(s, event, notes)
            _decide(s, event.at, policy, notes)
        return Transition(s, _next(s, event.at, policy, notes), tuple(notes))
    if s.phase is Phase.FINISHED:
        return Transition(s, Action(ActionKind.DONE))
    if s.pending is not None:
        if isinstance(event, Acted):
            s.pending = None
            _acted(s, event, policy, notes)
        else:  # resumed with a change in flight: finish it (it is idempotent), never skip or repeat it
            return Transition(s, s.pending)
    elif isinstance(event, Observed):
        _observed(s, event, policy, notes)
    return Transition(s, _next(s, event.at, policy, notes), tuple(notes))


def _next(s: RolloutState, at: datetime, policy: RolloutPolicy, notes: list[Note]) -> Action:
    if s.pending is not None:
        return s.pending
    if s.phase is Phase.FINISHED:
        return Action(ActionKind.DONE)
    if s.phase is Phase.PREPARE:
        waiting = [c.name for c in s.plan if c.steps and c.name not in s.prepared]
        if waiting:
            if waiting[0] not in s.touched:
                s.touched.append(waiting[0])
            return _pending(s, Action(ActionKind.PREPARE, waiting[0]))
        s.phase = Phase.ROLLING
        _decide(s, at, policy, notes)
        return _next(s, at, policy, notes)
    if s.phase is Phase.ROLLING_BACK:
        if s.next_observation_at is not None and at < s.next_observation_at:
            return _soak(s, at)
        if s.rollback_pending:
            return _pending(s, Action(ActionKind.ROLL_BACK, s.rollback_pending[0]))
        s.phase, s.verify_started_at, s.verified = Phase.VERIFYING, at, {}
        s.next_observation_at = at
    if s.next_observation_at is None or at >= s.next_observation_at:
        return Action(ActionKind.OBSERVE, clusters=tuple(_watched(s, at, policy)))
    return _soak(s, at)


def _watched(s: RolloutState, at: datetime, policy: RolloutPolicy) -> list[str]:
    """Which clusters to observe: all of them before the rollout and after a rollback; while rolling,
    the cluster being widened every time and the others touched every `watch_every_seconds`."""
    if s.phase is Phase.BASELINE:
        return [c.name for c in s.plan]
    if s.phase not in (Phase.ROLLING, Phase.AWAITING_APPROVAL):
        return list(s.touched)
    here = current(s).name
    due = [
        name
        for name in s.touched
        if name != here
        and (name not in s.previous or (at - s.previous[name].at).total_seconds() >= policy.watch_every_seconds)
    ]
    return [here, *due]


def _soak(s: RolloutState, at: datetime) -> Action:
    assert s.next_observation_at is not None
    return Action(ActionKind.SOAK, seconds=(s.next_observation_at - at).total_seconds())


def _pending(s: RolloutState, action: Action) -> Action:
    s.pending = action
    return action


def _observed(s: RolloutState, event: Observed, policy: RolloutPolicy, notes: list[Note]) -> None:
    s.next_observation_at = event.at + timedelta(seconds=policy.observe_every_seconds)
    notes.append(Note("measurement", {"observed": [reading.summary() for reading in event.readings]}))
    if s.phase is Phase.BASELINE:
        _observed_baseline(s, event, notes)
    elif s.phase in (Phase.ROLLING, Phase.AWAITING_APPROVAL):  # awaiting: the step is measured, gates judged
        _observed_rolling(s, event, policy, notes)
    elif s.phase is Phase.VERIFYING:
        observed_verifying(s, event, policy, notes)
    for reading in event.readings:
        s.previous[reading.cluster] = reading


def _observed_baseline(s: RolloutState, event: Observed, notes: list[Note]) -> None:
    for reading in event.readings:
        first = s.first_readings.get(reading.cluster)
        if first is None:
            s.first_readings[reading.cluster] = reading
            continue
        baseline = baseline_of(first, reading)
        if isinstance(baseline, str):
            stop(s, event.at, Outcome.HALTED, f"no baseline for {reading.cluster}: {baseline}", notes)
            return
        s.baselines[reading.cluster] = baseline
        notes.append(Note("measurement", {"cluster": reading.cluster, "baseline": baseline.to_json()}))
    if all(c.name in s.baselines for c in s.plan):
        s.phase = Phase.PREPARE


def _observed_rolling(s: RolloutState, event: Observed, policy: RolloutPolicy, notes: list[Note]) -> None:
    here = current(s).name
    failed, all_settled, own = [], True, None
    for reading in event.readings:
        results = judge(
            reading,
            s.previous.get(reading.cluster),
            s.baselines[reading.cluster],
            policy.gates,
            step_started_at=s.step_started_at if _deployed(s, reading.cluster) else None,
            restarts_at_step_start=s.restarts_at_step_start if reading.cluster == here else 0,
        )
        s.gates[reading.cluster] = tuple(results)
        failed += [f"{f.gate} on {reading.cluster}: {f.detail}" for f in failures(results)]
        all_settled = all_settled and settled(results)
        own = reading if reading.cluster == here else own
    if failed:
        notes.append(Note("measurement", {"cluster": here, "gates_failed": failed}))
        stop(s, event.at, Outcome.ROLLED_BACK, "health gate failed: " + "; ".join(failed), notes)
        return
    if own is None or not all_settled or s.soak_until is None:
        return
    if s.measure_from is None:
        s.measure_from = own
        return
    window = (event.at - s.measure_from.at).total_seconds()
    if event.at < s.soak_until or window < policy.observe_every_seconds:
        return
    pods = own.workload.ready if own.workload else 0
    point = measure(here, s.measure_from, own, s.baselines[here], flow_schema=s.flow_schema, pods=pods)
    if isinstance(point, str):
        stop(s, event.at, Outcome.HALTED, f"cannot measure the new pods' cost on {here}: {point}", notes)
        return
    s.points.append(point)
    notes.append(Note("measurement", {"cluster": here, "step": current_step(s).label, "cost": point.to_json()}))
    s.soak_until = None  # the step is done
    _decide(s, event.at, policy, notes)


def _decide(s: RolloutState, at: datetime, policy: RolloutPolicy, notes: list[Note]) -> None:
    """After a step (or before the first): widen (the change becomes pending), halt, or done."""
    target = _next_position(s)
    if target is None:
        s.outcome, s.reason = Outcome.COMPLETED, "every cluster at 100%"
        finish(s, "completed", notes)
        return
    cluster, step = s.plan[target[0]], s.plan[target[0]].steps[target[1]]
    model = fit(s.points)
    payload: dict[str, Any] = {
        "widen_to": {"cluster": cluster.name, "step": step.label, "nodes": step.nodes},
        "projection": "none yet",
    }
    if model is not None:
        refusal, payload = load_gate(s, cluster, step, model, policy)
        if refusal:
            decision_notes: list[Note] = []
            stop(s, at, Outcome.HALTED, refusal, decision_notes, note=False)
            notes.append(Note("decision", {"decision": "halt", "reason": refusal, **(s.stopped_at or {}), **payload}))
            notes.extend(decision_notes)
            return
    if needs_approval(s, policy):
        await_approval(s, payload, notes)
        return
    notes.append(Note("decision", {"decision": "widen", **payload}))
    kind = ActionKind.LABEL_NODES if s.mode is Mode.NEW else ActionKind.REPLACE_PODS
    _pending(s, Action(kind, cluster.name, step))


def _next_position(s: RolloutState) -> tuple[int, int] | None:
    index, done = s.position
    if done + 1 < len(s.plan[index].steps):
        return index, done + 1
    later = [i for i in range(index + 1, len(s.plan)) if s.plan[i].steps]
    return (later[0], 0) if later else None


def current_step(s: RolloutState) -> Step:
    return current(s).steps[s.position[1]]


def _deployed(s: RolloutState, cluster: str) -> bool:
    """Whether the cluster runs new pods (a step of it was taken)."""
    index = next(i for i, c in enumerate(s.plan) if c.name == cluster)
    return index < s.position[0] or (index == s.position[0] and s.position[1] >= 0)


def _acted(s: RolloutState, event: Acted, policy: RolloutPolicy, notes: list[Note]) -> None:
    action = event.action
    payload: dict[str, Any] = {
        "action": action.kind.value,
        "cluster": action.cluster,
        "ok": event.ok,
        "detail": event.detail,
    }
    if action.step is not None:
        payload["step"] = action.step.label
        payload["nodes"] = action.step.nodes
    notes.append(Note("step", payload))
    if action.kind is ActionKind.PREPARE:
        if event.ok:
            s.prepared.append(str(action.cluster))
        else:
            reason = f"rollback path not verified on {action.cluster}: {event.detail}"
            stop(s, event.at, Outcome.HALTED, reason, notes)
    elif action.kind in (ActionKind.LABEL_NODES, ActionKind.REPLACE_PODS):
        _widened(s, event, policy, notes)
    elif action.kind is ActionKind.ROLL_BACK:
        rolled_back(s, event, policy)


def _widened(s: RolloutState, event: Acted, policy: RolloutPolicy, notes: list[Note]) -> None:
    step, name = event.action.step, event.action.cluster
    assert step is not None
    if not event.ok:
        stop(s, event.at, Outcome.ROLLED_BACK, f"{event.action.kind.value} failed on {name}: {event.detail}", notes)
        return
    index = next(i for i, c in enumerate(s.plan) if c.name == name)
    earlier = s.previous.get(str(name))
    same_cluster = index == s.position[0]
    s.position = (index, step.index)
    s.step_started_at = event.at
    s.soak_until = event.at + timedelta(seconds=step.soak_seconds)
    s.restarts_at_step_start = earlier.workload.restarts if same_cluster and earlier and earlier.workload else 0
    s.measure_from = None
    s.next_observation_at = event.at + timedelta(seconds=policy.observe_every_seconds)


def _requested(s: RolloutState, event: Requested, policy: RolloutPolicy, notes: list[Note]) -> Transition:
    if s.pending is not None:  # a change is in flight: the request waits until it is done
        return Transition(s, s.pending)
    if event.request is RunRequest.PAUSE and s.phase in _GOING:
        notes.append(Note("decision", {"decision": "pause", "by": event.actor}))
        return Transition(s, Action(ActionKind.PAUSE), tuple(notes), handled_request=True)
    if event.request is RunRequest.ABORT and s.phase in _GOING:
        s.aborted = True
        stop(s, event.at, Outcome.ROLLED_BACK, f"aborted by {event.actor or 'request'}", notes)
    elif event.request is not RunRequest.RESUME:
        notes.append(Note("decision", {"decision": "ignored", "request": event.request.value, "phase": s.phase.value}))
    return Transition(s, _next(s, event.at, policy, notes), tuple(notes), handled_request=True)
