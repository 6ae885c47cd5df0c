"""Runs kept in memory, with their audit events sealed in a hash chain: the RunStore of a rehearsal
(nothing outlives it) and of the engine's tests. The SQL store keeps the same contract on disk.

Times come from the store's clock, so a rehearsal's events carry simulated time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, seal
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus


class MemoryRunStore:
    """A RunStore (guardrail.core.runs) and the audit log of its events, in memory."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._runs: dict[str, RunRecord] = {}
        self._events: list[AuditEvent] = []

    # -- RunStore ---------------------------------------------------------------------------------------

    def start_run(self, record: RunRecord, event: EventDraft) -> AuditEvent:
        holder = next((r for r in self._runs.values() if r.subject == record.subject and r.status.active), None)
        if holder is not None:
            raise RunConflictError(f"run {holder.id} ({holder.status.value}) already holds {record.subject}")
        if record.id in self._runs:
            raise RunConflictError(f"run {record.id} exists")
        self._runs[record.id] = replace(record, state=_plain(record.state))
        return self._append(event)

    def run(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def runs(self, kind: RunKind | None = None) -> list[RunRecord]:
        return [r for r in self._runs.values() if kind is None or r.kind is kind]

    def save_step(
        self,
        run_id: str,
        *,
        expected_step: int,
        step: int,
        status: RunStatus,
        state: Mapping[str, Any],
        event: EventDraft,
        clear_request: bool = False,
    ) -> RunRecord:
        record = self._runs.get(run_id)
        if record is None:
            raise BadInputError(f"no run {run_id}")
        if record.step != expected_step:
            raise RunConflictError(
                f"run {run_id} is at step {record.step}, not {expected_step}: another process moved it"
            )
        updated = replace(
            record,
            step=step,
            status=status,
            state=_plain(state),
            updated_at=self._clock.now(),
            requested=None if clear_request else record.requested,
        )
        self._runs[run_id] = updated
        self._append(event)
        return updated

    def request(self, run_id: str, request: RunRequest, event: EventDraft) -> RunRecord:
        record = self._runs.get(run_id)
        if record is None:
            raise BadInputError(f"no run {run_id}")
        if not record.status.active:
            raise BadInputError(f"run {run_id} has ended ({record.status.value})")
        updated = replace(record, requested=request)
        self._runs[run_id] = updated
        self._append(event)
        return updated

    # -- the audit log ----------------------------------------------------------------------------------

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        return iter([e for e in self._events if e.seq > after_seq])

    def _append(self, draft: EventDraft) -> AuditEvent:
        prev = self._events[-1].hash if self._events else GENESIS_HASH
        event = seal(draft, len(self._events) + 1, self._clock.now(), prev)
        self._events.append(event)
        return event


def _plain(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The state as the SQL store would give it back: through JSON, so nothing but plain data survives."""
    loaded: Mapping[str, Any] = json.loads(json.dumps(state, allow_nan=False))
    return loaded
