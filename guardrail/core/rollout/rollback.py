"""Stopping a rollout: halt or fail, roll every touched cluster back (largest first, three tries each),
then verify: a rolled-back cluster counts as recovered when every health gate passes again and the API
server's load and the Ready nodes are back where they were before the rollout, twice in a row."""

from __future__ import annotations

from datetime import datetime, timedelta

from guardrail.core.rollout.gates import Baseline, GateStatus, judge
from guardrail.core.rollout.plan import ClusterPlan
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.readings import ClusterReading
from guardrail.core.rollout.state import Acted, Note, Observed, Outcome, Phase, RolloutState

ROLLBACK_TRIES = 3
SETTLED_READINGS = 2  # readings in a row back at baseline before a rollback counts as verified


def back_at_baseline(
    reading: ClusterReading, previous: ClusterReading | None, baseline: Baseline, policy: RolloutPolicy
) -> str | None:
    """None when `reading` is back at the cluster's pre-rollout baseline, else what is not."""
    results = judge(reading, previous, baseline, policy.gates)
    problems = [f"{r.gate}: {r.detail}" for r in results if r.status is not GateStatus.PASS]
    if reading.apiserver is not None:
        limit = baseline.utilisation + policy.baseline_tolerance
        if reading.apiserver.utilisation > limit:
            problems.append(
                f"seats in use {reading.apiserver.utilisation:.2f} above the baseline {baseline.utilisation:.2f} "
                f"+ {policy.baseline_tolerance:.2f}"
            )
    return "; ".join(problems) or None


def current(s: RolloutState) -> ClusterPlan:
    return s.plan[s.position[0]]


def stop(s: RolloutState, at: datetime, outcome: Outcome, reason: str, notes: list[Note], *, note: bool = True) -> None:
    """Halt or fail: remember why and where, then roll back every touched cluster, largest first."""
    s.outcome, s.reason = outcome, reason
    here = current(s)
    step = here.steps[s.position[1]].label if s.position[1] >= 0 and here.steps else "before the canary"
    s.stopped_at = {"cluster": here.name, "step": step, "phase": s.phase.value}
    if note:
        decision = "halt" if outcome is Outcome.HALTED else "roll-back"
        notes.append(Note("decision", {"decision": decision, "reason": reason, **s.stopped_at}))
    s.soak_until = None
    s.rollback_pending = list(reversed(s.touched))
    if s.rollback_pending:
        s.phase, s.next_observation_at = Phase.ROLLING_BACK, None
    else:
        s.rollback = "verified (nothing was changed)"
        finish(s, "nothing to roll back", notes)


def finish(s: RolloutState, what: str, notes: list[Note]) -> None:
    s.phase = Phase.FINISHED
    outcome = s.outcome.value if s.outcome else ""
    notes.append(Note("decision", {"decision": "done", "what": what, "outcome": outcome, "reason": s.reason}))


def rolled_back(s: RolloutState, event: Acted, policy: RolloutPolicy) -> None:
    name = str(event.action.cluster)
    if event.ok or s.rollback_attempts + 1 >= ROLLBACK_TRIES:
        if not event.ok:
            s.rollback_failures.append(f"{name}: {event.detail}")
        s.rollback_pending.remove(name)
        s.rollback_attempts = 0
        s.next_observation_at = None
        return
    s.rollback_attempts += 1
    s.next_observation_at = event.at + timedelta(seconds=policy.observe_every_seconds)


def observed_verifying(s: RolloutState, event: Observed, policy: RolloutPolicy, notes: list[Note]) -> None:
    assert s.verify_started_at is not None
    why: list[str] = []
    for reading in event.readings:
        baseline = s.baselines[reading.cluster]
        problem = back_at_baseline(reading, s.previous.get(reading.cluster), baseline, policy)
        s.verified[reading.cluster] = 0 if problem else s.verified.get(reading.cluster, 0) + 1
        if problem:
            why.append(f"{reading.cluster}: {problem}")
    done = all(s.verified.get(name, 0) >= SETTLED_READINGS for name in s.touched)
    if done and not s.rollback_failures:
        s.rollback = "verified"
    elif done or (event.at - s.verify_started_at).total_seconds() >= policy.rollback_verify_timeout_seconds:
        # Every cluster back at its baseline leaves the failed rollbacks as the only reason.
        off_baseline = [] if done else (why or ["gates not back at baseline"])
        s.rollback = "not verified: " + "; ".join(
            [f"rollback failed on {f}" for f in s.rollback_failures] + off_baseline
        )
    else:
        return
    notes.append(Note("measurement", {"rollback": s.rollback}))
    finish(s, "rolled back", notes)
