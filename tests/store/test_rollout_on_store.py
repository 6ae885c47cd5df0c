"""The rollout loop on the SQL store (SQLite and PostgreSQL): killed mid-run, resumed by a new process
from the store without repeating a step, with the audit chain intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.store import SqlStore, open_store
from guardrail.core.audit import verify_chain
from guardrail.core.runs import RunRecord, RunStatus
from guardrail.services.rollout import drive, start
from tests.services.test_rollout_loop import _changes, _fleet, _rollout, _uninterrupted


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
