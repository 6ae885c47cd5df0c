"""What a rollback that was refused says once the clusters are healthy again: that it failed, and not
that the gates are off their baseline when they are back at it."""

from __future__ import annotations

from guardrail.core.rollout.machine import advance
from guardrail.core.rollout.state import ActionKind, Outcome, Requested
from guardrail.core.runs import RunRequest
from tests.unit.rollout.test_machine import POLICY, _fleet, _rolling


def test_a_refused_rollback_with_the_gates_back_at_baseline_names_only_the_failure() -> None:
    state, fleet = _fleet()
    rolling = _rolling(state, fleet)
    aborted = advance(rolling, Requested(fleet.now, RunRequest.ABORT, "bob"), POLICY).state
    fleet.refuse.add(ActionKind.ROLL_BACK)
    final, _ = fleet.run(aborted)
    assert final.outcome is Outcome.ROLLED_BACK
    assert final.verified == {"a": 2, "b": 2}  # every gate back at baseline, twice in a row
    assert final.rollback == "not verified: rollback failed on b: refused; rollback failed on a: refused"
