"""The capacity floor, computed by hand: how many GPUs must serve, and how big a batch may be."""

from __future__ import annotations

from dataclasses import replace

import pytest

from guardrail.core.nodes.actions import Cordon
from guardrail.core.nodes.capacity import fits, floor_gpus, share
from guardrail.core.nodes.engine import decide
from guardrail.core.nodes.planner import plan_cycle
from guardrail.core.nodes.records import NodeStatus, Outcome
from guardrail.core.nodes.state import CycleState
from tests.unit.nodes.helpers import T0, node, observe, settings


@pytest.mark.parametrize(
    ("total", "floor", "minimum"),
    [
        (660, 0.9, 594),  # the pool: 40x8 + 40x8 + 20x1 GPUs
        (10, 0.9, 9),  # 0.9 x 10 in binary floats is 9.000000000000002: the floor is the decimal 9/10
        (7, 0.95, 7),  # 6.65 rounds up: never below the floor
        (160, 0.9, 144),
        (0, 0.9, 0),
        (8, 1.0, 8),
    ],
)
def test_the_floor_in_gpus_rounds_up_the_decimal_share(total: int, floor: float, minimum: int) -> None:
    assert floor_gpus(total, floor) == minimum


def test_a_node_fits_when_what_stays_is_at_or_above_the_floor() -> None:
    assert fits(160, 16, 144)
    assert not fits(159, 16, 144)
    assert fits(100, 0, 144)  # a node that serves nothing costs nothing
    assert share(594, 660) == pytest.approx(0.9)
    assert share(0, 0) == 1.0


def test_available_gpus_count_serving_nodes_only_and_leave_out_those_in_hand() -> None:
    observation = observe(
        0, [node("a"), node("b", cordoned=True), node("c", ready=False), node("d", gpus=1), node("e", gpus=8)]
    )
    assert observation.serving_gpus == 8 + 1 + 8
    assert observation.available_gpus({"a"}) == 9
    assert observation.available_gpus({"a", "b", "c", "gone"}) == 9  # out of service already: nothing more to take


def _passed_canary(state: CycleState) -> CycleState:
    canary = next(iter(state.nodes.values()))
    return state.with_progress([replace(canary, status=NodeStatus.DONE)])


def test_the_canary_goes_alone_then_the_batch_is_what_the_headroom_allows() -> None:
    nodes = [node(f"n{i:02d}") for i in range(20)]  # 160 GPUs, floor 0.9: 144 must serve, 16 may be out
    state = plan_cycle("gpu", nodes, settings(), T0)
    assert (state.total_gpus, state.minimum_gpus) == (160, 144)
    first = decide(state, observe(0, nodes))
    assert [a.node for a in first.actions if isinstance(a, Cordon)] == ["n00"]  # the canary, alone
    again = decide(first.state, observe(30, nodes))
    assert not [a for a in again.actions if isinstance(a, Cordon) and a.node != "n00"]  # no widening yet
    widened = decide(_passed_canary(first.state), observe(60, nodes))
    started = [a.node for a in widened.actions if isinstance(a, Cordon)]
    assert started == ["n01", "n02"]  # 16 GPUs of headroom: two 8-GPU nodes
    assert widened.state.lowest_available == 144
    assert len(widened.state.nodes.in_hand) == 2


def test_a_higher_floor_makes_smaller_batches() -> None:
    nodes = [node(f"n{i:02d}") for i in range(20)]  # floor 0.95: 152 must serve, 8 may be out
    state = plan_cycle("gpu", nodes, settings(capacity_floor=0.95), T0)
    decision = decide(_passed_canary(decide(state, observe(0, nodes)).state), observe(30, nodes))
    assert [a.node for a in decision.actions if isinstance(a, Cordon)] == ["n01"]


def test_every_stratum_starts_its_canary_within_the_headroom() -> None:
    # The pool in small: 8-GPU nodes in two zones and 1-GPU nodes; 4x8 + 4x8 + 2x1 = 66 GPUs,
    # floor 0.9: 60 must serve, 6 may be out: only the 1-GPU canary fits.
    nodes = [node(f"e{i}") for i in range(4)] + [node(f"w{i}", zone="westus2-1") for i in range(4)]
    nodes += [node(f"s{i}", instance_type="Standard_NC24ads_A100_v4", zone="westus2-1", gpus=1) for i in range(2)]
    state = plan_cycle("gpu", nodes, settings(), T0)
    assert (state.total_gpus, state.minimum_gpus) == (66, 60)
    decision = decide(state, observe(0, nodes))
    assert [a.node for a in decision.actions if isinstance(a, Cordon)] == ["s0"]
    assert decision.state.lowest_available == 65


def test_a_node_that_does_not_serve_costs_no_headroom_even_under_the_floor() -> None:
    # 40 allocatable GPUs, 36 must serve, but the NotReady canary leaves 32: only it may go, for free.
    nodes = [node("n00", ready=False)] + [node(f"n{i:02d}") for i in range(1, 5)]
    state = plan_cycle("gpu", nodes, settings(), T0)
    decision = decide(state, observe(0, nodes))
    assert [a.node for a in decision.actions if isinstance(a, Cordon)] == ["n00"]
    assert decision.state.nodes["n00"].gpus == 0
    assert decision.state.lowest_available == 32
    widened = decide(_passed_canary(decision.state), observe(30, nodes))
    assert not [a for a in widened.actions if isinstance(a, Cordon)]  # 8-GPU nodes would go under the floor


def test_a_node_larger_than_the_headroom_can_never_start_and_the_cycle_halts() -> None:
    nodes = [node(f"n{i}") for i in range(5)]  # 40 GPUs, floor 0.9: 36 must serve, 4 may be out: no 8-GPU node
    decision = decide(plan_cycle("gpu", nodes, settings(), T0), observe(0, nodes))
    assert decision.actions == ()
    assert decision.state.outcome is Outcome.HALTED
    assert decision.state.halt is not None
    assert "capacity: 40 of 40 GPUs serve and the floor keeps 36" in decision.state.halt
    assert "4 GPUs of headroom" in decision.state.halt
