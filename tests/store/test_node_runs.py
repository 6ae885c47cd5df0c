"""Node-cycle runs in the SQL store, on SQLite and PostgreSQL (the port's contract is in test_runs.py): a step
with several events in one transaction, a state handed over as read-only mappings, the wiring's store, and
the events of runs read by kind."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.store import SqlStore, rows
from guardrail.adapters.store.schema import audit_events
from guardrail.config import Settings
from guardrail.core.audit import EventDraft, EventKind, seal, verify_chain
from guardrail.core.runs import RunKind, RunRecord, RunStatus
from guardrail.services.wiring import run_store
from tests.store.conftest import FakeClock

SUBJECT = "node-pool/prod-eu/agentpool=gpu"


class LazyState(Mapping[str, Any]):
    """A read-only mapping, as an engine hands over its state (built when first read)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _record(
    clock: FakeClock, run_id: str = "r1", subject: str = SUBJECT, kind: RunKind = RunKind.NODE_CYCLE
) -> RunRecord:
    return RunRecord(run_id, kind, subject, RunStatus.RUNNING, 0, {"cursor": [0, 0]}, "alice", clock.now, clock.now)


def _event(kind: str = "node-decision", **payload: Any) -> EventDraft:
    return EventDraft("alice", kind, {"run": "r1", **payload})


def test_a_run_is_kept_step_by_step_with_its_events_in_one_chain(store: SqlStore, clock: FakeClock) -> None:
    runs_store = store
    started = runs_store.start_run(_record(clock), _event("node-cycle-start"))
    assert started.kind == "node-cycle-start"
    clock.advance(timedelta(minutes=5))
    nested = LazyState({"cursor": [1, 0], "nodes": [LazyState({"name": "gpu-1", "durations": {"drain": 12.5}})]})
    saved = runs_store.save_step(
        "r1",
        expected_step=0,
        step=1,
        status=RunStatus.PAUSED,
        state=nested,
        event=_event("node-phase", phase="drain"),
        more_events=[_event("node-phase", phase="replace"), _event("node-decision", decision="pause")],
    )
    assert (saved.step, saved.status, saved.updated_at) == (1, RunStatus.PAUSED, clock.now)
    assert saved.state == {"cursor": [1, 0], "nodes": [{"name": "gpu-1", "durations": {"drain": 12.5}}]}
    again = runs_store.run("r1")
    assert again == saved
    assert again is not None
    assert again.created_at == clock.now - timedelta(minutes=5)
    kinds = [(e.kind, e.payload.get("phase")) for e in store.events()]
    assert kinds == [
        ("node-cycle-start", None),
        ("node-phase", "drain"),
        ("node-phase", "replace"),
        ("node-decision", None),
    ]
    assert verify_chain(store.events()).ok


def test_a_step_whose_event_cannot_be_kept_leaves_the_run_as_it_was(store: SqlStore, clock: FakeClock) -> None:
    runs_store = store
    runs_store.start_run(_record(clock), _event())
    with pytest.raises(ValueError, match="not plain JSON"):
        runs_store.save_step(
            "r1",
            expected_step=0,
            step=1,
            status=RunStatus.COMPLETED,
            state={"n": 1},
            event=_event(),
            more_events=[_event(bad=object())],
        )
    kept = runs_store.run("r1")
    assert kept is not None
    assert (kept.step, kept.status, kept.state) == (0, RunStatus.RUNNING, {"cursor": [0, 0]})
    assert len(list(store.events())) == 1  # the step's first event went with it
    with pytest.raises(ValueError, match="run state is not plain JSON"):
        runs_store.save_step(
            "r1", expected_step=0, step=1, status=RunStatus.RUNNING, state={"x": float("nan")}, event=_event()
        )


def test_the_wiring_opens_the_configured_store_with_its_runs(store_url: str, tmp_path: Path) -> None:
    opened = run_store(Settings(base_dir=tmp_path), store_url)
    try:
        clock = FakeClock()
        opened.start_run(_record(clock), _event("node-cycle-start"))
        assert [r.id for r in opened.runs()] == ["r1"]
        assert [e.kind for e in opened.events()] == ["node-cycle-start"]
    finally:
        opened.close()


def test_the_events_of_runs_are_read_by_kind_without_the_rest_of_the_log(store: SqlStore, clock: FakeClock) -> None:
    runs_store = store
    runs_store.start_run(_record(clock), _event(EventKind.NODE_CYCLE_START.value))
    head = store.head()
    assert head is not None
    sealed, previous = [], head.hash
    for index in range(1, 2500):  # more than a page of each kind, written at once
        kind = EventKind.NODE_PHASE if index % 2 else EventKind.CHECK
        event = seal(EventDraft("alice", kind.value, {"run": "r1", "i": index}), index + 1, clock.now, previous)
        sealed.append(rows.event_row(event))
        previous = event.hash
    with store.engine.begin() as conn:
        conn.execute(audit_events.insert(), sealed)
    wanted = [EventKind.NODE_CYCLE_START, EventKind.NODE_PHASE]
    found = list(runs_store.run_events(wanted))
    assert [e.kind for e in found[:2]] == ["node-cycle-start", "node-phase"]
    assert len(found) == 1 + 1250
    assert [e.seq for e in found] == sorted(e.seq for e in found)
    assert found == [e for e in store.events() if e.kind in ("node-cycle-start", "node-phase")]
    assert [e.payload["i"] for e in runs_store.run_events(wanted, after_seq=2495)] == [2495, 2497, 2499]
