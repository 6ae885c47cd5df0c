"""Runs on the SQL store, on SQLite and PostgreSQL: every write with its audit event in one transaction,
compare-and-set on the step, one active run per subject, requests from another process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from guardrail.adapters.store import SqlStore
from guardrail.adapters.store.schema import runs as runs_table
from guardrail.core.audit import EventDraft, EventKind, verify_chain
from guardrail.core.errors import BadInputError, StoreError
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus
from tests.store.conftest import FakeClock

SUBJECT = "daemonset.apps/telemetry/agent"


def _record(clock: FakeClock, run_id: str = "r1", subject: str = SUBJECT) -> RunRecord:
    now = clock.now
    state = {"engine": {"phase": "baseline", "plan": [{"name": "dev", "steps": [1, 2.5, None]}]}, "before": {}}
    return RunRecord(run_id, RunKind.ROLLOUT, subject, RunStatus.RUNNING, 0, state, "alice", now, now)


def _event(kind: EventKind, **payload: object) -> EventDraft:
    return EventDraft("alice", kind.value, {"run": "r1", **payload})


def _kinds(store: SqlStore) -> list[str]:
    return [e.kind for e in store.events()]


def test_a_run_is_kept_with_its_start_event(store: SqlStore, clock: FakeClock) -> None:
    record = _record(clock)
    event = store.start_run(record, _event(EventKind.ROLLOUT_START, plan=["dev"]))
    assert (event.seq, event.kind) == (1, "rollout-start")
    assert store.run("r1") == record
    assert store.run("nope") is None
    assert store.runs(RunKind.ROLLOUT) == [record]
    assert store.runs(RunKind.NODE_CYCLE) == []


def test_saving_a_step_is_a_compare_and_set_with_its_event(
    store: SqlStore, clock: FakeClock, reopen: Callable[[], SqlStore]
) -> None:
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    other = reopen()  # a second process that read the run at step 0 too
    assert (other.run("r1") or pytest.fail("not shared")).step == 0
    clock.advance(timedelta(minutes=1))
    saved = store.save_step(
        "r1",
        expected_step=0,
        step=1,
        status=RunStatus.RUNNING,
        state={"engine": {"phase": "prepare"}, "before": {"x": None}},
        event=_event(EventKind.ROLLOUT_STEP, action="prepare"),
    )
    assert (saved.step, saved.state["engine"]["phase"], saved.updated_at) == (1, "prepare", clock.now)
    with pytest.raises(RunConflictError, match="is at step 1, not 0: another process moved it"):
        other.save_step(
            "r1",
            expected_step=0,
            step=1,
            status=RunStatus.RUNNING,
            state={"engine": {"phase": "rolling"}},
            event=_event(EventKind.ROLLOUT_STEP, action="label-nodes"),
        )
    assert (store.run("r1") or pytest.fail("gone")).state["engine"]["phase"] == "prepare"
    assert _kinds(store) == ["rollout-start", "rollout-step"]  # the refused save left no event
    assert verify_chain(store.events()).ok


def test_one_active_run_per_subject(store: SqlStore, clock: FakeClock, reopen: Callable[[], SqlStore]) -> None:
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    with pytest.raises(RunConflictError, match=f"{SUBJECT} is held by run r1 \\(running\\)"):
        reopen().start_run(_record(clock, "r2"), _event(EventKind.ROLLOUT_START))
    with pytest.raises(RunConflictError, match="run r1 exists"):
        store.start_run(_record(clock, "r1", "another/subject"), _event(EventKind.ROLLOUT_START))
    clock.advance(timedelta(minutes=1))
    store.start_run(_record(clock, "r3", "daemonset.apps/telemetry/other"), _event(EventKind.ROLLOUT_START))
    for status in (RunStatus.PAUSED, RunStatus.HALTED, RunStatus.AWAITING_APPROVAL):  # still holding it
        current = store.run("r1") or pytest.fail("gone")
        store.save_step(
            "r1",
            expected_step=current.step,
            step=current.step + 1,
            status=status,
            state={},
            event=_event(EventKind.ROLLOUT_DECISION),
        )
        with pytest.raises(RunConflictError):
            store.start_run(_record(clock, "r2"), _event(EventKind.ROLLOUT_START))
    store.save_step(
        "r1", expected_step=3, step=4, status=RunStatus.ROLLED_BACK, state={}, event=_event(EventKind.ROLLOUT_DECISION)
    )
    clock.advance(timedelta(minutes=1))
    store.start_run(_record(clock, "r2"), _event(EventKind.ROLLOUT_START))  # r1 has ended: the subject is free
    assert [r.id for r in store.runs()] == ["r1", "r3", "r2"]  # oldest first
    assert _kinds(store).count("rollout-start") == 3


def test_the_database_itself_refuses_a_second_active_run_of_a_subject(store: SqlStore, clock: FakeClock) -> None:
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    row = {
        "id": "sneaked",
        "kind": "rollout",
        "subject": SUBJECT,
        "active_subject": SUBJECT,
        "status": "running",
        "step": 0,
        "state": "{}",
        "actor": "mallory",
        "created_at": "2030-01-01T00:00:00.000000Z",
        "updated_at": "2030-01-01T00:00:00.000000Z",
    }
    with pytest.raises(exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(runs_table.insert().values(row))
    ended = {**row, "id": "old", "active_subject": None, "status": "completed"}
    with store.engine.begin() as conn:  # ended runs of the same subject are many
        conn.execute(runs_table.insert().values(ended))
        conn.execute(runs_table.insert().values({**ended, "id": "older"}))


def test_requests_from_another_terminal(store: SqlStore, clock: FakeClock, reopen: Callable[[], SqlStore]) -> None:
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    asked = reopen().request("r1", RunRequest.PAUSE, EventDraft("bob", "rollout-request", {"request": "pause"}))
    assert asked.requested is RunRequest.PAUSE
    assert (store.run("r1") or pytest.fail("gone")).requested is RunRequest.PAUSE
    kept = store.save_step(
        "r1", expected_step=0, step=1, status=RunStatus.RUNNING, state={}, event=_event(EventKind.ROLLOUT_STEP)
    )
    assert kept.requested is RunRequest.PAUSE  # not acted on yet: still asked
    paused = store.save_step(
        "r1",
        expected_step=1,
        step=2,
        status=RunStatus.PAUSED,
        state={},
        event=_event(EventKind.ROLLOUT_DECISION, decision="pause"),
        clear_request=True,
    )
    assert (paused.status, paused.requested) == (RunStatus.PAUSED, None)
    with pytest.raises(BadInputError, match="no run nope"):
        store.request("nope", RunRequest.ABORT, EventDraft("bob", "rollout-request", {}))
    store.save_step(
        "r1", expected_step=2, step=3, status=RunStatus.ABORTED, state={}, event=_event(EventKind.ROLLOUT_DECISION)
    )
    events = len(_kinds(store))
    with pytest.raises(BadInputError, match=r"run r1 has ended \(aborted\)"):
        store.request("r1", RunRequest.RESUME, EventDraft("bob", "rollout-request", {}))
    assert len(_kinds(store)) == events
    assert [e.actor for e in store.events() if e.kind == "rollout-request"] == ["bob"]


def test_saving_an_unknown_run_or_state_that_is_not_json_writes_nothing(store: SqlStore, clock: FakeClock) -> None:
    with pytest.raises(BadInputError, match="no run r1"):
        store.save_step(
            "r1", expected_step=0, step=1, status=RunStatus.RUNNING, state={}, event=_event(EventKind.ROLLOUT_STEP)
        )
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    with pytest.raises(ValueError, match="not plain JSON"):
        store.save_step(
            "r1",
            expected_step=0,
            step=1,
            status=RunStatus.RUNNING,
            state={"x": float("nan")},
            event=_event(EventKind.ROLLOUT_STEP),
        )
    assert (store.run("r1") or pytest.fail("gone")).step == 0
    assert _kinds(store) == ["rollout-start"]


def test_an_unreadable_run_is_a_store_error(store: SqlStore, clock: FakeClock) -> None:
    store.start_run(_record(clock), _event(EventKind.ROLLOUT_START))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET state = 'not json'"))
    with pytest.raises(StoreError, match="run r1: unreadable record"):
        store.run("r1")
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET state = '{}', status = 'sleeping'"))
    with pytest.raises(StoreError, match="run r1: unreadable record"):
        store.runs()
