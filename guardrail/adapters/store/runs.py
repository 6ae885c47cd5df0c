"""The RunStore port (guardrail.core.runs) on the SQL store, for fleet rollouts and node-pool cycles alike:
one row per run, written in serialised transactions that append the write's audit events, so the log never
misses a step nor records one that was not kept.

Two guarantees hold inside the transaction: a save is a compare-and-set on the run's step (another
process that moved the run meanwhile makes it fail), and a new run is refused while another active run
holds its subject (checked under the write lock, and backed by the unique `active_subject` index).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine, Row

from guardrail.adapters.store import engine as db
from guardrail.adapters.store import rows
from guardrail.adapters.store.schema import audit_events
from guardrail.adapters.store.schema import runs as runs_table
from guardrail.core.audit import AuditEvent, EventDraft, iso_utc, parse_iso
from guardrail.core.errors import BadInputError, StoreError
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus

_PAGE = 1000


class SqlRuns:
    """The run methods of SqlStore (a mixin: SqlStore provides the engine, the clock and the audit chain)."""

    _engine: Engine
    _where: str
    _clock: Callable[[], datetime]

    def _append(self, conn: Connection, draft: EventDraft) -> AuditEvent:
        raise NotImplementedError  # SqlStore's

    def start_run(self, record: RunRecord, event: EventDraft) -> AuditEvent:
        row = _row(record)
        with db.translated(self._where), db.writing(self._engine) as conn:
            holder = conn.execute(
                sa.select(runs_table.c.id, runs_table.c.status).where(runs_table.c.active_subject == record.subject)
            ).first()
            if holder is not None:
                raise RunConflictError(f"{record.subject} is held by run {holder.id} ({holder.status})")
            if conn.execute(sa.select(runs_table.c.id).where(runs_table.c.id == record.id)).first() is not None:
                raise RunConflictError(f"run {record.id} exists")
            try:
                conn.execute(runs_table.insert().values(row))
            except exc.IntegrityError:
                # Unreachable while writes are serialised; kept so that a lost race is still a conflict.
                raise RunConflictError(f"{record.subject} is held by another run") from None
            return self._append(conn, event)

    def run(self, run_id: str) -> RunRecord | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).first()
        return _record(row) if row is not None else None

    def runs(self, kind: RunKind | None = None) -> list[RunRecord]:
        query = sa.select(runs_table).order_by(runs_table.c.created_at, runs_table.c.id)
        if kind is not None:
            query = query.where(runs_table.c.kind == kind.value)
        with db.translated(self._where), db.reading(self._engine) as conn:
            found = conn.execute(query).all()
        return [_record(row) for row in found]

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
        # `more_events`: further audit events of the same step, appended after `event` in this transaction.
        values: dict[str, Any] = {
            "step": step,
            "status": status.value,
            "state": _state_text(state),
            "updated_at": iso_utc(self._clock()),
        }
        if clear_request:
            values["requested"] = None
        with db.translated(self._where), db.writing(self._engine) as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).first()
            if row is None:
                raise BadInputError(f"no run {run_id}")
            values["active_subject"] = row.subject if status.active else None
            moved = conn.execute(
                runs_table.update().where(runs_table.c.id == run_id, runs_table.c.step == expected_step).values(values)
            )
            if moved.rowcount != 1:
                raise RunConflictError(
                    f"run {run_id} is at step {row.step}, not {expected_step}: another process moved it"
                )
            for draft in (event, *more_events):
                self._append(conn, draft)
            saved = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).one()
        return _record(saved)

    def run_events(self, kinds: Collection[str], after_seq: int = 0) -> Iterator[AuditEvent]:
        # Paged like events(), in seq order. The kind is wrapped in an expression so that no dialect answers
        # from the index on kind: that would gather every event of the kinds and sort them again for each
        # page. Walking seq and leaving the other kinds in the database is what saves the time.
        wanted = sorted(str(kind) for kind in kinds)  # plain text: a driver may write an enum by its name
        cursor = after_seq
        while True:
            with db.translated(self._where), db.reading(self._engine) as conn:
                page = conn.execute(
                    sa.select(audit_events)
                    .where(audit_events.c.seq > cursor, sa.func.coalesce(audit_events.c.kind, "").in_(wanted))
                    .order_by(audit_events.c.seq)
                    .limit(_PAGE)
                ).all()
            yield from (rows.event_of(row) for row in page)
            if len(page) < _PAGE:
                return
            cursor = int(page[-1].seq)

    def request(self, run_id: str, request: RunRequest, event: EventDraft) -> RunRecord:
        with db.translated(self._where), db.writing(self._engine) as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).first()
            if row is None:
                raise BadInputError(f"no run {run_id}")
            if not _record(row).status.active:
                raise BadInputError(f"run {run_id} has ended ({row.status})")
            conn.execute(runs_table.update().where(runs_table.c.id == run_id).values(requested=request.value))
            self._append(conn, event)
            asked = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).one()
        return _record(asked)


def _state_text(state: Mapping[str, Any]) -> str:
    try:
        return json.dumps(state, default=_plain, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"run state is not plain JSON data: {error}") from None


def _plain(value: Any) -> Any:
    # An engine's state may hand over read-only mappings (built lazily): they are written as objects.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _row(record: RunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind.value,
        "subject": record.subject,
        "active_subject": record.subject if record.status.active else None,
        "status": record.status.value,
        "step": record.step,
        "state": _state_text(record.state),
        "actor": record.actor,
        "created_at": iso_utc(record.created_at),
        "updated_at": iso_utc(record.updated_at),
        "requested": record.requested.value if record.requested else None,
    }


def _record(row: Row[Any]) -> RunRecord:
    try:
        state = json.loads(row.state)
        if not isinstance(state, dict):
            raise ValueError("its state is not a JSON object")
        return RunRecord(
            id=row.id,
            kind=RunKind(row.kind),
            subject=row.subject,
            status=RunStatus(row.status),
            step=int(row.step),
            state=state,
            actor=row.actor,
            created_at=parse_iso(row.created_at),
            updated_at=parse_iso(row.updated_at),
            requested=RunRequest(row.requested) if row.requested else None,
        )
    except ValueError as error:
        # A run that cannot be read must not be driven on a guess: stop and say which one.
        raise StoreError(f"run {row.id}: unreadable record ({error})") from None
