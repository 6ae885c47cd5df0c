"""The rollout loop on the SQL store (SQLite and PostgreSQL): killed mid-run, resumed by a new process
from the store without repeating a step, with the audit chain intact."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.store import SqlStore, open_store
from guardrail.core.approvals import ApprovalPolicy, ApprovalRefusedError
from guardrail.core.audit import verify_chain
from guardrail.core.rollout.state import RolloutState
from guardrail.core.runs import RunRecord, RunStatus
from guardrail.services.approvals import approve
from guardrail.services.rollout import drive, start
from guardrail.services.rollout_approvals import StoredApprovals
from tests.services.test_rollout_loop import POLICY, _changes, _fleet, _rollout, _uninterrupted


class KilledAfter(SqlStore):
    """The store as seen by a process that is killed (kill -9) right after its `saves`-th save."""

    def __init__(self, store: SqlStore, saves: int) -> None:
        super().__init__(store.engine, store.description, store._clock)
        self.left = saves

    def save_step(self, run_id: str, **kwargs: Any) -> RunRecord:
        record = super().save_step(run_id, **kwargs)
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt("killed")
        return record


@pytest.mark.parametrize("saves", [9, 21])
def test_a_killed_rollout_resumes_from_the_sql_store(store_url: str, tmp_path: Path, saves: int) -> None:
    expected, _ = _uninterrupted()
    fleet = _fleet()
    first = open_store(store_url, cwd=tmp_path, clock=fleet.clock.now)
    start(_rollout(fleet, first), "r1")
    with pytest.raises(KeyboardInterrupt):
        drive(_rollout(fleet, KilledAfter(first, saves)), "r1")
    first.close()
    second = open_store(store_url, cwd=tmp_path, clock=fleet.clock.now)  # the process that resumes
    try:
        assert (second.run("r1") or pytest.fail("lost")).status is RunStatus.RUNNING
        record = drive(_rollout(fleet, second), "r1")
        assert record.status is RunStatus.COMPLETED
        assert _changes(second) == expected
        assert verify_chain(second.events()).ok
        assert second.run("r1") == record
    finally:
        second.close()


def test_widening_past_the_canary_waits_for_another_persons_approval(store_url: str, tmp_path: Path) -> None:
    fleet = _fleet()
    store = open_store(store_url, cwd=tmp_path, clock=fleet.clock.now)
    people = ApprovalPolicy(required=1)
    rollout = replace(
        _rollout(fleet, store),
        policy=replace(POLICY, approve_after_canary=True),
        approvals=StoredApprovals(store, people),
    )
    try:
        start(rollout, "r1")
        waiting = drive(rollout, "r1", until=fleet.clock.now() + timedelta(hours=2))
        assert waiting.status is RunStatus.AWAITING_APPROVAL
        state = RolloutState.from_json(waiting.state["engine"])
        assert state.awaiting == {"cluster": "small", "step": "10%", "nodes": 2}
        (asked,) = [e for e in store.events() if e.payload.get("decision") == "await-approval"]
        fingerprint = asked.payload["fingerprint"]
        assert asked.payload["widen_to"] == state.awaiting
        assert [c for c in _changes(store) if c[0] == "label-nodes"] == [("label-nodes", "small", "canary")]
        assert store.plan_author(fingerprint) == "alice"  # made approvable once, by the rollout's actor
        with pytest.raises(ApprovalRefusedError, match="alice is the author"):
            approve(store, people, fingerprint, "alice", fleet.clock.now())
        approve(store, people, fingerprint, "bob", fleet.clock.now(), comment="canary looks fine")
        record = drive(rollout, "r1")
        assert record.status is RunStatus.COMPLETED
        assert RolloutState.from_json(record.state["engine"]).approved_by == ["bob"]
        decisions = [e.payload.get("decision") for e in store.events() if e.kind == "rollout-decision"]
        assert decisions.count("await-approval") == 1
        assert decisions[decisions.index("await-approval") + 1 : decisions.index("await-approval") + 3] == [
            "approved",
            "widen",
        ]
        kinds = [(e.kind, e.fingerprint) for e in store.events() if e.fingerprint == fingerprint]
        assert kinds == [("check", fingerprint), ("approval", fingerprint)]
        assert verify_chain(store.events()).ok
    finally:
        store.close()
