"""Runs in the SQL store (the RunStore port of guardrail.core.runs): fleet rollouts and node-pool cycles.

Every write appends its audit events in the same serialised transaction as the run's row, so the log
never misses a step nor records one that did not happen. A step is saved only while the stored step is
still the one the caller read (compare-and-set), and one active run per subject is held both by a check in
the transaction and by the unique index on `active_subject`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Row

from guardrail.adapters.store import engine as db
from guardrail.adapters.store import rows
from guardrail.adapters.store.schema import audit_events, runs
from guardrail.adapters.store.sql_store import SqlStore
from guardrail.core.audit import AuditEvent, EventDraft, iso_utc, parse_iso
from guardrail.core.errors import BadInputError, StoreError
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus

_PAGE = 1000


class SqlRunStore(SqlStore):
    """The store with its runs: everything SqlStore keeps, and the RunStore port. Every method raises
    StoreError when the database fails."""

    def start_run(self, record: RunRecord, event: EventDraft) -> AuditEvent:
        row = _run_row(record)
        with db.translated(self.description), db.writing(self.engine) as conn:
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == record.id)).first() is not None:
                raise RunConflictError(f"run {record.id} already exists")
            if record.status.active:
                _refuse_held(conn, record.subject)
            try:
                conn.execute(runs.insert().values(row))
            except exc.IntegrityError:
                # Unreachable while writes are serialised; kept so that the index's refusal reads as one.
                raise RunConflictError(f"{record.subject} is held by another run") from None
            return self._append(conn, event)

    def run(self, run_id: str) -> RunRecord | None:
        with db.translated(self.description), db.reading(self.engine) as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        return _run_of(row) if row is not None else None

    def runs(self, kind: RunKind | None = None) -> list[RunRecord]:
        query = sa.select(runs).order_by(runs.c.created_at, runs.c.id)
        if kind is not None:
            query = query.where(runs.c.kind == kind.value)
        with db.translated(self.description), db.reading(self.engine) as conn:
            found = conn.execute(query).all()
        return [_run_of(row) for row in found]

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
        values: dict[str, Any] = {
            "step": step,
            "status": status.value,
            "state": _state_text(state),
            "updated_at": iso_utc(self._clock()),
        }
        if clear_request:
            values["requested"] = None
        with db.translated(self.description), db.writing(self.engine) as conn:
            current = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if current is None:
                raise BadInputError(f"no run {run_id}")
            values["active_subject"] = current.subject if status.active else None
            moved = conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.step == expected_step).values(**values)
            )
            if moved.rowcount != 1:
                raise RunConflictError(
                    f"run {run_id} is at step {current.step}, not {expected_step}: another process moved it"
                )
            for draft in (event, *more_events):
                self._append(conn, draft)
            saved = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
        return _run_of(saved)

    def run_events(self, kinds: Collection[str], after_seq: int = 0) -> Iterator[AuditEvent]:
        # Paged like events(), in seq order. The kind is wrapped in an expression so that no dialect answers
        # from the index on kind: that would gather every event of the kinds and sort them again for each
        # page. Walking seq and leaving the other kinds in the database is what saves the time.
        wanted = sorted(str(kind) for kind in kinds)  # plain text: a driver may write an enum by its name
        cursor = after_seq
        while True:
            with db.translated(self.description), db.reading(self.engine) as conn:
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
        with db.translated(self.description), db.writing(self.engine) as conn:
            current = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if current is None:
                raise BadInputError(f"no run {run_id}")
            if not _status(current).active:
                raise BadInputError(f"run {run_id} has ended ({current.status})")
            conn.execute(runs.update().where(runs.c.id == run_id).values(requested=request.value))
            self._append(conn, event)
            asked = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
        return _run_of(asked)


def _refuse_held(conn: Connection, subject: str) -> None:
    holder = conn.execute(sa.select(runs.c.id, runs.c.status).where(runs.c.active_subject == subject)).first()
    if holder is not None:
        raise RunConflictError(f"{subject} is held by run {holder.id} ({holder.status})")


def _state_text(state: Mapping[str, Any]) -> str:
    try:
        return json.dumps(state, default=_plain, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"run state is not plain JSON data: {error}") from None


def _plain(value: Any) -> Any:
    # An engine's state may hand over read-only mappings (built lazily): they are written as objects.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _run_row(record: RunRecord) -> dict[str, Any]:
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
        "requested": record.requested.value if record.requested is not None else None,
    }


def _status(row: Row[Any]) -> RunStatus:
    try:
        return RunStatus(row.status)
    except ValueError:
        raise StoreError(f"run {row.id}: unknown status {row.status!r}") from None


def _run_of(row: Row[Any]) -> RunRecord:
    try:
        state = json.loads(row.state)
        if not isinstance(state, dict):
            raise ValueError("its state is not a JSON object")
        return RunRecord(
            id=row.id,
            kind=RunKind(row.kind),
            subject=row.subject,
            status=_status(row),
            step=int(row.step),
            state=state,
            actor=row.actor,
            created_at=parse_iso(row.created_at),
            updated_at=parse_iso(row.updated_at),
            requested=RunRequest(row.requested) if row.requested is not None else None,
        )
    except ValueError as error:
        # A run that cannot be read must not be resumed on a guess.
        raise StoreError(f"run {row.id}: unreadable record ({error})") from None
