"""Before a real cycle starts: the batches its admission would make, the cycle as a ChangeSet with the
fingerprint approvals are bound to (locks match its Nodes), and an abort of a cycle with nothing in hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from guardrail.core.audit import EventKind
from guardrail.core.change import Action
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.locks import Lock, LockTarget, kube_pattern
from guardrail.core.matching import KubeCriteria
from guardrail.core.nodes.batches import plan_batches
from guardrail.core.nodes.ending import close_idle
from guardrail.core.nodes.gate import NODE_CYCLE_APPROVAL, NODE_PREFLIGHT, cycle_changeset, cycle_findings
from guardrail.core.nodes.planner import plan_cycle
from guardrail.core.nodes.preflight import PreflightFinding
from guardrail.core.nodes.records import NodeProgress, Outcome
from guardrail.core.nodes.settings import Budgets
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.verdict import Decision, Enforcement, Verdict
from tests.unit.nodes.helpers import T0, node, settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _pool() -> list[NodeInfo]:
    big = [node(f"a{i}") for i in range(4)]  # 4 x 8 GPUs, eastus-1
    small = [node(f"b{i}", instance_type="Standard_NC24ads_A100_v4", zone="westus2-1", gpus=1) for i in range(4)]
    return big + small


def test_batches_are_the_engine_s_own_admission_on_the_pool_as_it_is() -> None:
    nodes = _pool()  # 36 GPUs; floor 0.6 keeps 22 (ceil 21.6): 14 GPUs of headroom
    state = plan_cycle("gpu", nodes, settings(capacity_floor=0.6), T0)
    batches = plan_batches(state, nodes)
    assert (batches.available, batches.headroom) == (36, 14)
    assert batches.canaries == ("b0", "a0")  # one per stratum, strata in key order
    # Once both canaries passed, strata take turns within the 14 GPUs: 8 + 1 + 1 + 1 + 1 + 1 ...
    assert batches.widened == (3, 1)
    assert batches.widest == 4
    none_fit = plan_batches(plan_cycle("gpu", nodes, settings(capacity_floor=0.97), T0), nodes)
    assert none_fit.canaries == ("b0",)  # 1 GPU of headroom (35 of 36 kept): only a one-GPU canary fits
    assert none_fit.widened == (1, 0)


def test_the_fingerprint_is_exactly_this_plan() -> None:
    nodes = _pool()
    state = plan_cycle("gpu", nodes, settings(), T0)
    first = cycle_changeset("prod", state, nodes, "delete-node")
    assert (
        first.fingerprint
        == cycle_changeset("prod", plan_cycle("gpu", nodes, settings(), T0 + 60), nodes, "delete-node").fingerprint
    )
    others = {
        cycle_changeset("staging", state, nodes, "delete-node").fingerprint,
        cycle_changeset("prod", state, nodes, "command: az vmss reimage {{ name }}").fingerprint,
        cycle_changeset("prod", plan_cycle("gpu", nodes[:-1], settings(), T0), nodes, "delete-node").fingerprint,
        cycle_changeset(
            "prod", plan_cycle("gpu", nodes, settings(budgets=replace(Budgets(), boot=1200)), T0), nodes, "delete-node"
        ).fingerprint,
    }
    assert first.fingerprint not in others
    assert len(others) == 4
    assert [c.address for c in first.changes] == [f"node/{n}" for n in ("a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3")]
    assert {c.action for c in first.changes} == {Action.REPLACE}


def test_a_lock_on_the_pool_s_nodes_or_its_cluster_denies_the_cycle() -> None:
    nodes = _pool()
    changeset = cycle_changeset("prod-eastus", plan_cycle("gpu", nodes, settings(), T0), nodes, "delete-node")

    def decision(criteria: KubeCriteria | None, target: LockTarget = LockTarget.KUBE, pattern: str = "") -> Decision:
        text = kube_pattern(criteria) if criteria is not None else pattern
        lock = Lock("lk-1", target, text, "bob", "training run", NOW)
        return Verdict.of(ActiveLocksRule([lock], NOW).evaluate(changeset)).decision

    assert decision(KubeCriteria.of(kinds=["Node"], labels={"agentpool": "gpu"})) is Decision.DENY
    assert decision(KubeCriteria.of(clusters=["prod-*"])) is Decision.DENY
    assert decision(None, LockTarget.ADDRESS, "node/b*") is Decision.DENY
    assert decision(KubeCriteria.of(kinds=["Node"], labels={"agentpool": "cpu"})) is Decision.ALLOW
    assert decision(KubeCriteria.of(clusters=["staging-*"])) is Decision.ALLOW


def test_approval_and_pre_flight_findings_weigh_as_the_gate_needs() -> None:
    blocking = PreflightFinding("ND96 westus2-1", "boot-history", "boot p95 ...", blocking=True)
    note = PreflightFinding("ND96 eastus-1", "never-passed", "this stratum has never passed a cycle")
    findings = cycle_findings([blocking, note], approval_required=True)
    assert [(f.rule, f.enforcement) for f in findings] == [
        (NODE_CYCLE_APPROVAL, Enforcement.SOFT),
        (NODE_PREFLIGHT, Enforcement.SOFT),
        (NODE_PREFLIGHT, Enforcement.ADVISORY),
    ]
    assert Verdict.of(cycle_findings([note], approval_required=False)).decision is Decision.ALLOW


def test_an_abort_ends_a_cycle_with_nothing_in_hand_at_once_and_waits_otherwise() -> None:
    nodes = _pool()
    state = plan_cycle("gpu", nodes, settings(), T0)
    paused = replace(state, paused=True)
    closed = close_idle(paused)
    assert closed is not None
    ended, events = closed
    assert ended.outcome is Outcome.ABORTED
    assert [e.kind for e in events] == [EventKind.NODE_CYCLE_END]
    assert events[0].payload["outcome"] == "aborted"

    halted = replace(state, outcome=Outcome.HALTED, halt="stratum X: node a0 failed")
    closed = close_idle(halted)
    assert closed is not None
    assert closed[0] is halted  # what happened stays as it was: the run is closed
    assert closed[1][0].payload == {
        "decision": "close",
        "reason": "closed by an abort after the cycle halted: stratum X: node a0 failed",
    }

    in_hand = state.with_progress([NodeProgress("a0", 1, 8, T0, T0, current="a0")])
    assert close_idle(in_hand) is None
