"""A RunStore kept in this process: rehearsals, and tests of the loops that drive runs.

It keeps the contract of the durable store: one active run per subject, compare-and-set steps, every
write with its audit events sealed into a hash chain. Unlike a database it keeps the state mapping it is
given rather than a JSON copy (a rehearsal of a thousand nodes saves its state a thousand times): the
caller hands the mapping over and never changes it afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, seal
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus


class MemoryRunStore:
    """The RunStore port in memory. `clock` stamps the audit events (the simulated clock in a rehearsal)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._runs: dict[str, RunRecord] = {}
        self._events: list[AuditEvent] = []

    def start_run(self, record: RunRecord, event: EventDraft) -> AuditEvent:
        if record.id in self._runs:
            raise RunConflictError(f"run {record.id} already exists")
        holder = next((r for r in self._runs.values() if r.subject == record.subject and r.status.active), None)
        if holder is not None:
            raise RunConflictError(f"{record.subject} is held by run {holder.id} ({holder.status.value})")
        self._runs[record.id] = record
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
        more_events: Sequence[EventDraft] = (),
    ) -> RunRecord:
        current = self._runs.get(run_id)
        if current is None:
            raise BadInputError(f"no run {run_id}")
        if current.step != expected_step:
            moved = f"run {run_id} is at step {current.step}, not {expected_step}: another process moved it"
            raise RunConflictError(moved)
        saved = replace(
            current,
            step=step,
            status=status,
            state=state,
            updated_at=self._clock.now(),
            requested=None if clear_request else current.requested,
        )
        self._runs[run_id] = saved
        for draft in (event, *more_events):
            self._append(draft)
        return saved

    def request(self, run_id: str, request: RunRequest, event: EventDraft) -> RunRecord:
        current = self._runs.get(run_id)
        if current is None:
            raise BadInputError(f"no run {run_id}")
        if not current.status.active:
            raise BadInputError(f"run {run_id} has ended ({current.status.value})")
        asked = replace(current, requested=request)
        self._runs[run_id] = asked
        self._append(event)
        return asked

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        """Every audit event with seq > `after_seq`, in seq order."""
        return iter(self._events[after_seq:])

    def run_events(self, kinds: Collection[str], after_seq: int = 0) -> Iterator[AuditEvent]:
        wanted = frozenset(kinds)
        return (event for event in self._events[after_seq:] if event.kind in wanted)

    def _append(self, draft: EventDraft) -> AuditEvent:
        previous = self._events[-1].hash if self._events else GENESIS_HASH
        sealed = seal(draft, len(self._events) + 1, self._clock.now(), previous)
        self._events.append(sealed)
        return sealed
