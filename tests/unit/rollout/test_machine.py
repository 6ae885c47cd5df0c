"""The rollout state machine, transition by transition, against a fake fleet in simulated time."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from guardrail.core.rollout.machine import advance, new_state
from guardrail.core.rollout.plan import ClusterTarget, plan_fleet
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.readings import unreachable
from guardrail.core.rollout.state import (
    Acted,
    Action,
    ActionKind,
    Approved,
    Event,
    Mode,
    Observed,
    Outcome,
    Phase,
    Requested,
    RolloutState,
    Tick,
)
from guardrail.core.runs import RunRequest
from tests.unit.rollout.readings import FLOW, T0, FakeCluster, FakeFleet

POLICY = RolloutPolicy(
    batches=(0.5, 1.0),
    soak_seconds=300,
    dns_cache_ttl_seconds=600,
    observe_every_seconds=60,
    watch_every_seconds=120,
    rollback_verify_timeout_seconds=600,
)


def _fleet(b_objects: float = 2000.0, b_seats: float = 200.0, **a_options: object) -> tuple[RolloutState, FakeFleet]:
    a = FakeCluster("a", nodes=10, cost_per_pod=0.0001, objects=1000.0)
    for key, value in a_options.items():
        setattr(a, key, value)
    b = FakeCluster("b", nodes=100, cost_per_pod=0.0002, objects=b_objects, seats=b_seats)
    plan = plan_fleet([ClusterTarget("b", 100), ClusterTarget("a", 10)], POLICY)
    state = new_state("daemonset.apps/telemetry/telemetry-agent", FLOW, Mode.NEW, plan)
    return state, FakeFleet({"a": a, "b": b}, POLICY)


def _changes(fleet: FakeFleet) -> list[tuple[ActionKind, str | None, int]]:
    return [(kind, cluster, nodes) for kind, cluster, nodes, _ in fleet.actions]


def test_a_healthy_rollout_prepares_every_cluster_then_widens_smallest_first() -> None:
    state, fleet = _fleet()
    final, transitions = fleet.run(state)
    assert final.outcome is Outcome.COMPLETED
    assert final.phase is Phase.FINISHED
    assert _changes(fleet) == [
        (ActionKind.PREPARE, "a", 0),
        (ActionKind.PREPARE, "b", 0),
        (ActionKind.LABEL_NODES, "a", 1),
        (ActionKind.LABEL_NODES, "a", 5),
        (ActionKind.LABEL_NODES, "a", 10),
        (ActionKind.LABEL_NODES, "b", 1),
        (ActionKind.LABEL_NODES, "b", 50),
        (ActionKind.LABEL_NODES, "b", 100),
    ]
    measured = [n.payload["cost"] for t in transitions for n in t.notes if "cost" in n.payload]
    assert [(m["cluster"], m["pods"], m["method"]) for m in measured] == [
        ("a", 1, "flow"),
        ("a", 5, "flow"),
        ("a", 10, "flow"),
        ("b", 1, "flow"),
        ("b", 50, "flow"),
        ("b", 100, "flow"),
    ]
    assert measured[0]["seats_per_pod"] == pytest.approx(0.0001)
    assert measured[3]["seats_per_pod"] == pytest.approx(0.0002)


def test_soaks_last_the_configured_time_and_the_dns_cache_lifetime_after_a_cluster_wide_step() -> None:
    state, fleet = _fleet()
    fleet.run(state)
    labels = [at for kind, _, _, at in fleet.actions if kind is ActionKind.LABEL_NODES]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(labels)]
    # a: canary -> 50% -> 100% (cluster-wide: the DNS cache's 600 s) -> b's canary -> ...
    assert gaps[0] >= 300
    assert gaps[1] >= 300
    assert gaps[2] >= 600
    assert all(gap < 600 for gap in (gaps[0], gaps[1], gaps[3], gaps[4]))


def test_the_load_gate_halts_when_the_full_fleet_would_pass_the_limit_and_rolls_back() -> None:
    state, fleet = _fleet(b_objects=1_000_000.0, b_seats=20.0)
    final, transitions = fleet.run(state)
    assert final.outcome is Outcome.HALTED
    assert final.stopped_at is not None
    assert (final.stopped_at["cluster"], final.stopped_at["step"]) == ("a", "canary")
    # Hand-computed: a's canary costs 0.0001 seats at 1,001 objects; proportional growth to b's
    # 1,000,100 objects after its 100 new pods; 0.2 + 100 x cost / 20 seats.
    cost = 0.0001 / 1001 * 1_000_100
    assert 0.2 + 100 * cost / 20 == pytest.approx(0.69955, abs=1e-4)
    assert "load gate: the full fleet would pass 0.60 on b" in final.reason
    assert "= 0.700 > 0.60" in final.reason
    halt = next(n.payload for t in transitions for n in t.notes if n.payload.get("decision") == "halt")
    fleet_projection = {p["cluster"]: p for p in halt["fleet"]}
    assert fleet_projection["b"]["utilisation"] == pytest.approx(0.2 + 100 * cost / 20)
    assert fleet_projection["b"]["over"] is True
    assert fleet_projection["a"]["over"] is False
    assert _changes(fleet)[-2:] == [(ActionKind.ROLL_BACK, "b", 0), (ActionKind.ROLL_BACK, "a", 0)]
    assert final.rollback == "verified"


def test_a_failing_health_gate_rolls_back_and_says_which_gate_and_by_how_much() -> None:
    state, fleet = _fleet(broken_after=5)
    final, _ = fleet.run(state)
    assert final.outcome is Outcome.ROLLED_BACK
    assert final.stopped_at is not None
    assert final.stopped_at["step"] == "50%"
    assert "health gate failed: nodes-ready on a: 10 fewer Ready nodes > 0 (by 10)" in final.reason
    assert final.rollback == "verified"
    assert (ActionKind.LABEL_NODES, "a", 10) not in _changes(fleet)


def test_a_rollback_that_does_not_bring_the_gates_back_is_recorded_as_not_verified() -> None:
    state, fleet = _fleet(broken_after=5, latched=True)
    final, _ = fleet.run(state)
    assert final.outcome is Outcome.ROLLED_BACK
    assert final.rollback is not None
    assert final.rollback.startswith("not verified: a: nodes-ready: 10 fewer Ready nodes")
    assert fleet.now - T0 >= timedelta(seconds=POLICY.rollback_verify_timeout_seconds)


def test_a_refused_prepare_halts_before_any_node_is_labelled() -> None:
    state, fleet = _fleet()
    fleet.refuse.add(ActionKind.PREPARE)
    final, _ = fleet.run(state)
    assert final.outcome is Outcome.HALTED
    assert final.reason == "rollback path not verified on a: refused"
    assert [kind for kind, *_ in fleet.actions] == [ActionKind.PREPARE, ActionKind.ROLL_BACK]


def test_a_refused_rollback_is_tried_three_times_then_reported() -> None:
    state, fleet = _fleet(broken_after=1)
    fleet.refuse.add(ActionKind.ROLL_BACK)
    final, _ = fleet.run(state)
    assert [kind for kind, *_ in fleet.actions].count(ActionKind.ROLL_BACK) == 2 * 3  # b and a, three tries each
    assert final.rollback is not None
    assert "rollback failed on b: refused" in final.rollback


def test_no_baseline_halts_with_nothing_changed() -> None:
    state, _ = _fleet()
    first = advance(state, Tick(T0), POLICY)
    assert first.action == Action(ActionKind.OBSERVE, clusters=("a", "b"))
    down = (unreachable("a", T0, "connection refused"), unreachable("b", T0, "connection refused"))
    second = advance(first.state, Observed(T0, down), POLICY)
    third = advance(second.state, Observed(T0 + timedelta(minutes=1), down), POLICY)
    assert third.state.outcome is Outcome.HALTED
    assert third.state.reason == "no baseline for a: API server not reachable: connection refused"
    assert third.state.rollback == "verified (nothing was changed)"
    assert third.action.kind is ActionKind.DONE


def _rolling(state: RolloutState, fleet: FakeFleet) -> RolloutState:
    """The state just after the first canary was labelled (no change pending)."""
    event = advance(state, Tick(fleet.now), POLICY)
    current = event.state
    while not current.prepared or current.position[1] < 0 or current.pending is not None:
        answered = fleet.answer(event.action)
        event = advance(current, answered, POLICY)
        current = event.state
    return current


def test_pause_is_honoured_between_steps_and_waits_for_a_change_in_flight() -> None:
    state, fleet = _fleet()
    rolling = _rolling(state, fleet)
    paused = advance(rolling, Requested(fleet.now, RunRequest.PAUSE, "bob"), POLICY)
    assert paused.action.kind is ActionKind.PAUSE
    assert paused.handled_request
    pending = Action(ActionKind.LABEL_NODES, "a", rolling.plan[0].steps[1])
    busy = RolloutState.from_json({**rolling.to_json(), "pending": pending.to_json()})
    waiting = advance(busy, Requested(fleet.now, RunRequest.PAUSE, "bob"), POLICY)
    assert waiting.action == pending
    assert not waiting.handled_request


def test_abort_rolls_back_every_touched_cluster() -> None:
    state, fleet = _fleet()
    rolling = _rolling(state, fleet)
    aborted = advance(rolling, Requested(fleet.now, RunRequest.ABORT, "bob"), POLICY)
    assert aborted.state.aborted
    assert aborted.state.outcome is Outcome.ROLLED_BACK
    assert aborted.state.reason == "aborted by bob"
    assert aborted.action == Action(ActionKind.ROLL_BACK, "b")
    assert aborted.state.rollback_pending == ["b", "a"]


def test_a_resumed_run_finishes_the_change_in_flight_and_never_repeats_a_completed_one() -> None:
    state, fleet = _fleet()
    rolling = _rolling(state, fleet)
    step = rolling.plan[0].steps[1]
    decided = RolloutState.from_json(
        {**rolling.to_json(), "pending": Action(ActionKind.LABEL_NODES, "a", step).to_json()}
    )
    # The process died after deciding: resumed, the same change comes back, with nothing new recorded.
    resumed = advance(decided, Tick(fleet.now + timedelta(hours=1)), POLICY)
    assert resumed.action == Action(ActionKind.LABEL_NODES, "a", step)
    assert resumed.notes == ()
    done = advance(resumed.state, Acted(fleet.now, resumed.action), POLICY)
    assert done.state.position == (0, 1)
    assert done.state.pending is None
    # Resumed again after the change was recorded: the next action soaks, it does not label again.
    again = advance(RolloutState.from_json(done.state.to_json()), Tick(fleet.now), POLICY)
    assert again.action.kind is ActionKind.SOAK


def test_the_state_is_plain_json_and_survives_a_round_trip() -> None:
    import json

    state, fleet = _fleet(b_objects=1_000_000.0, b_seats=20.0)
    final, transitions = fleet.run(state)
    for transition in transitions:
        text = json.dumps(transition.state.to_json(), allow_nan=False)
        assert RolloutState.from_json(json.loads(text)).to_json() == transition.state.to_json()
    assert final.to_json()["outcome"] == "halted"


def test_clusters_not_being_widened_are_watched_less_often() -> None:
    state, fleet = _fleet()
    _, transitions = fleet.run(state)
    rolling_a = [
        t.action.clusters
        for t in transitions
        if t.action.kind is ActionKind.OBSERVE and t.state.phase is Phase.ROLLING and t.state.position[0] == 0
    ]
    # a (being widened) every 60 s; b (prepared, waiting) every 120 s: every other observation.
    assert set(rolling_a) == {("a",), ("a", "b")}
    assert rolling_a.count(("a",)) >= rolling_a.count(("a", "b")) - 1


def _until_awaiting(state: RolloutState, fleet: FakeFleet, policy: RolloutPolicy) -> tuple[RolloutState, Action]:
    event: Event = Tick(fleet.now)
    for _ in range(1000):
        transition = advance(state, event, policy)
        state = transition.state
        if state.phase is Phase.AWAITING_APPROVAL:
            return state, transition.action
        event = fleet.answer(transition.action)
    raise AssertionError("never waited for approval")


def test_widening_past_the_canary_waits_for_approval_while_the_gates_are_judged() -> None:
    policy = replace(POLICY, approve_after_canary=True)
    state, fleet = _fleet()
    fleet.policy = policy
    state, action = _until_awaiting(state, fleet, policy)
    assert state.awaiting == {"cluster": "a", "step": "50%", "nodes": 5}
    assert _changes(fleet)[-1] == (ActionKind.LABEL_NODES, "a", 1)  # the canary, nothing more
    observed = 0
    for _ in range(40):  # an hour of waiting: observing and soaking, never widening
        assert action.kind in (ActionKind.OBSERVE, ActionKind.SOAK)
        observed += action.kind is ActionKind.OBSERVE
        transition = advance(state, fleet.answer(action), policy)
        state, action = transition.state, transition.action
        assert state.phase is Phase.AWAITING_APPROVAL
    assert observed >= 15
    approved = advance(state, Approved(fleet.now, ("bob",)), policy)
    decisions = [n.payload["decision"] for n in approved.notes]
    assert decisions == ["approved", "widen"]
    assert (
        approved.action.kind,
        approved.action.cluster,
        approved.action.step.nodes if approved.action.step else 0,
    ) == (
        ActionKind.LABEL_NODES,
        "a",
        5,
    )
    assert approved.state.approved_by == ["bob"]
    final, _ = fleet.run(approved.state)
    assert final.outcome is Outcome.COMPLETED  # asked once: the later steps widen without asking again


def test_a_failing_gate_while_waiting_for_approval_rolls_back() -> None:
    policy = replace(POLICY, approve_after_canary=True)
    state, fleet = _fleet()
    fleet.policy = policy
    state, action = _until_awaiting(state, fleet, policy)
    fleet.clusters["a"].broken_after = 1  # the canary's node goes NotReady
    fleet.clusters["a"].latched = True
    final, _ = fleet.run(advance(state, fleet.answer(action), policy).state)
    assert final.outcome is Outcome.ROLLED_BACK
    assert final.reason.startswith("health gate failed: nodes-ready on a")
    assert final.stopped_at == {"cluster": "a", "step": "canary", "phase": "awaiting-approval"}
