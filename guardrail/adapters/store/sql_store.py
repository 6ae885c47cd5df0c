"""The store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL (see core/store_ports.py).

Every record is written in the same transaction as the audit event that records it, the record's facts in
the event's payload and the event's seq in the record (core/ledger.py); every read of records goes
through records.py, which holds them to the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

from guardrail.adapters.store import engine as db
from guardrail.adapters.store import records, rows
from guardrail.adapters.store.ledger import BOUND_KINDS, ChainCheck
from guardrail.adapters.store.runs import SqlRuns
from guardrail.adapters.store.schema import (
    apply_locks,
    approvals,
    audit_events,
    break_glass,
    kube_applies,
    kube_apply_objects,
    locks,
    plans,
)
from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, ChainBreak, ChainPoint, EventDraft, iso_utc, scrub_payload, seal
from guardrail.core.errors import BadInputError
from guardrail.core.kube.rollback import RollbackPoint
from guardrail.core.ledger import (
    apply_lock_facts,
    approval_facts,
    break_glass_facts,
    lock_facts,
    release_facts,
    use_facts,
)
from guardrail.core.locks import ApplyLockHeldError, ApplyLockHolder, Lock
from guardrail.core.secrets import Scrubber
from guardrail.core.store_ports import Standing

Clock = Callable[[], datetime]
_PAGE = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _of_kind(query: sa.Select[tuple[object, ...]], kind: str, fingerprint: str | None) -> sa.Select[tuple[object, ...]]:
    """`query` narrowed to the events of `kind` (and of the plan `fingerprint`: its index then answers)."""
    query = query.where(audit_events.c.kind == kind)
    return query if fingerprint is None else query.where(audit_events.c.fingerprint == fingerprint)


class SqlStore(SqlRuns):
    """guardrail's store on a SQLAlchemy engine. Every method raises StoreError when the database fails.

    Runs (the RunStore port) are kept by the SqlRuns methods, in the same transactions as their events."""

    def __init__(self, engine: Engine, description: str, clock: Clock = _utc_now, scrub: Scrubber | None = None):
        self._engine = engine
        self._where = description
        self._clock = clock
        self._scrub = scrub

    @property
    def description(self) -> str:
        return self._where

    @property
    def engine(self) -> Engine:
        """The engine, for maintenance and tests that inspect rows directly."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    # -- audit ---------------------------------------------------------------------------------------

    def _append(self, conn: Connection, draft: EventDraft, facts: Mapping[str, object] | None = None) -> AuditEvent:
        # Runs inside a serialised write transaction: nobody else can read or move the head meanwhile.
        # The events since the last write are verified first: nothing is added to a broken chain.
        check = ChainCheck(conn, self._where)
        head = check.verified_head()
        payload = scrub_payload(draft.payload, self._scrub) if self._scrub is not None else draft.payload
        # The facts are the record's own (ids, names, times): they must reach the event exactly as the row
        # holds them, to be compared with it later.
        sealed = EventDraft(draft.actor, draft.kind, {**payload, **(facts or {})}, draft.fingerprint)
        try:
            event = seal(sealed, head.seq + 1, self._clock(), head.hash)
        except (TypeError, ValueError) as error:
            raise ValueError(f"audit payload of {draft.kind!r} is not plain JSON data: {error}") from None
        conn.execute(audit_events.insert().values(rows.event_row(event)))
        check.advance(ChainPoint(event.seq, event.hash))
        return event

    def append(self, draft: EventDraft) -> AuditEvent:
        if draft.kind in BOUND_KINDS:
            raise ValueError(f"a {draft.kind!r} event is written with its record, by the store's own method")
        with db.translated(self._where), db.writing(self._engine) as conn:
            return self._append(conn, draft)

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        return self._paged(after_seq)

    def events_of_kind(
        self, kind: str, *, newest_first: bool = False, fingerprint: str | None = None
    ) -> Iterator[AuditEvent]:
        if newest_first:
            return self._newest_first(kind, fingerprint)
        return self._paged(0, kind, fingerprint)

    def _newest_first(self, kind: str, fingerprint: str | None) -> Iterator[AuditEvent]:
        cursor: int | None = None
        while True:
            query = _of_kind(sa.select(audit_events), kind, fingerprint)
            if cursor is not None:
                query = query.where(audit_events.c.seq < cursor)
            with db.translated(self._where), db.reading(self._engine) as conn:
                page = conn.execute(query.order_by(audit_events.c.seq.desc()).limit(_PAGE)).all()
            yield from (rows.event_of(row) for row in page)
            if len(page) < _PAGE:
                return
            cursor = int(page[-1].seq)

    def _paged(self, after_seq: int, kind: str | None = None, fingerprint: str | None = None) -> Iterator[AuditEvent]:
        # Paged: a long log is never held in memory whole, nor a read transaction kept open between pages.
        cursor = after_seq
        while True:
            query = sa.select(audit_events).where(audit_events.c.seq > cursor)
            if kind is not None:
                query = _of_kind(query, kind, fingerprint)
            with db.translated(self._where), db.reading(self._engine) as conn:
                page = conn.execute(query.order_by(audit_events.c.seq).limit(_PAGE)).all()
            yield from (rows.event_of(row) for row in page)
            if len(page) < _PAGE:
                return
            cursor = int(page[-1].seq)

    def event(self, seq: int) -> AuditEvent | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            row = conn.execute(sa.select(audit_events).where(audit_events.c.seq == seq)).first()
        return rows.event_of(row) if row is not None else None

    def head(self) -> AuditEvent | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            row = conn.execute(sa.select(audit_events).order_by(audit_events.c.seq.desc()).limit(1)).first()
        return rows.event_of(row) if row is not None else None

    def verified_point(self) -> ChainPoint | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return ChainCheck(conn, self._where).checkpoint()

    def records_problem(self) -> ChainBreak | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return records.records_problem(conn, self._where)

    # -- locks ---------------------------------------------------------------------------------------

    def add_lock(self, lock: Lock, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            if conn.execute(sa.select(locks.c.id).where(locks.c.id == lock.id)).first() is not None:
                raise BadInputError(f"lock id {lock.id} is already taken")
            recorded = self._append(conn, event, lock_facts(lock))
            conn.execute(locks.insert().values({**rows.lock_row(lock), "event_seq": recorded.seq}))
            return recorded

    def locks(self) -> list[Lock]:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return records.checked_locks(conn, self._where)

    def lock(self, lock_id: str) -> Lock | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            check = ChainCheck(conn, self._where)
            head = check.verified_head()
            found, claims = records.read_locks(conn, lock_id)
            check.require(claims, head)
        return found[0] if found else None

    def release_lock(self, lock_id: str, by: str, reason: str, at: datetime, event: EventDraft) -> Lock:
        with db.translated(self._where), db.writing(self._engine) as conn:
            row = conn.execute(sa.select(locks).where(locks.c.id == lock_id)).first()
            if row is None:
                raise BadInputError(f"lock {lock_id}: no such lock")
            if row.released_at is not None:
                raise BadInputError(f"lock {lock_id}: already released by {row.released_by} at {row.released_at}")
            recorded = self._append(conn, event, release_facts(lock_id, reason))
            conn.execute(
                locks.update()
                .where(locks.c.id == lock_id)
                .values(released_at=iso_utc(at), released_by=by, release_reason=reason, release_seq=recorded.seq)
            )
            released = conn.execute(sa.select(locks).where(locks.c.id == lock_id)).one()
        return rows.lock_of(released)

    # -- plans, approvals, break-glass ---------------------------------------------------------------

    def record_check(self, fingerprint: str, actor: str, at: datetime, event: EventDraft, *, author: str) -> str:
        with db.translated(self._where), db.writing(self._engine) as conn:
            # Under the write lock: of any number of first checks, exactly one finds no author and claims it.
            stored = conn.execute(sa.select(plans.c.author).where(plans.c.fingerprint == fingerprint)).scalar()
            decided = actor if stored is None else str(stored)
            if decided != author:
                return decided  # the event was settled for another author: the caller settles again
            recorded = self._append(conn, event)
            if stored is None:
                first_seen = iso_utc(at)
                row = {"fingerprint": fingerprint, "author": actor, "first_seen": first_seen, "event_seq": recorded.seq}
                conn.execute(plans.insert().values(row))
        return decided

    def plan_author(self, fingerprint: str) -> str | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return records.checked_author(conn, self._where, fingerprint)

    def standing(self, fingerprint: str) -> Standing:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return records.standing(conn, self._where, fingerprint)

    def add_approval(self, approval: Approval, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            taken = conn.execute(
                sa.select(approvals.c.time).where(
                    approvals.c.fingerprint == approval.fingerprint, approvals.c.actor == approval.actor
                )
            ).scalar()
            if taken is not None:
                raise BadInputError(f"{approval.actor} already approved plan {approval.fingerprint} at {taken}")
            recorded = self._append(conn, event, approval_facts(approval))
            conn.execute(approvals.insert().values({**rows.approval_row(approval), "event_seq": recorded.seq}))
            return recorded

    def approvals(self, fingerprint: str) -> list[Approval]:
        return list(self.standing(fingerprint).approvals)

    def add_break_glass(self, grant: BreakGlass, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            recorded = self._append(conn, event, break_glass_facts(grant))
            conn.execute(break_glass.insert().values({**rows.break_glass_row(grant), "event_seq": recorded.seq}))
            return recorded

    def break_glass_passes(self, fingerprint: str) -> list[BreakGlass]:
        return list(self.standing(fingerprint).passes)

    def use_break_glass(self, pass_id: str, at: datetime, event: EventDraft) -> bool:
        stamp = iso_utc(at)
        unused = break_glass.c.id == pass_id, break_glass.c.used_at.is_(None), break_glass.c.expires_at > stamp
        with db.translated(self._where), db.writing(self._engine) as conn:
            spent = conn.execute(break_glass.update().where(*unused).values(used_at=stamp))
            if spent.rowcount != 1:
                return False
            recorded = self._append(conn, event, use_facts(pass_id))
            conn.execute(break_glass.update().where(break_glass.c.id == pass_id).values(used_seq=recorded.seq))
        return True

    # -- apply locks ---------------------------------------------------------------------------------

    def acquire_apply_lock(self, holder: ApplyLockHolder, event: EventDraft) -> None:
        with db.translated(self._where), db.writing(self._engine) as conn:
            current = rows.apply_lock_of(row) if (row := self._apply_lock_row(conn, holder.workspace)) else None
            if current is not None:
                raise ApplyLockHeldError(current)
            recorded = self._append(conn, event, apply_lock_facts(holder))
            try:
                conn.execute(apply_locks.insert().values({**rows.apply_lock_row(holder), "event_seq": recorded.seq}))
            except exc.IntegrityError:
                # Unreachable while writes are serialised; kept so a lost race still names the holder.
                raise ApplyLockHeldError(holder) from None

    def apply_lock(self, workspace: str) -> ApplyLockHolder | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            check = ChainCheck(conn, self._where)
            head = check.verified_head()
            holder, claims = records.read_apply_lock(conn, workspace)
            check.require(claims, head)
        return holder

    @staticmethod
    def _apply_lock_row(conn: Connection, workspace: str) -> sa.Row[tuple[object, ...]] | None:
        return conn.execute(sa.select(apply_locks).where(apply_locks.c.workspace == workspace)).first()

    def release_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        return self._drop_apply_lock(workspace, token, event)

    def break_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        return self._drop_apply_lock(workspace, token, event)

    def _drop_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        with db.translated(self._where), db.writing(self._engine) as conn:
            dropped = conn.execute(
                apply_locks.delete().where(apply_locks.c.workspace == workspace, apply_locks.c.token == token)
            )
            if dropped.rowcount != 1:
                return False
            self._append(conn, event)
        return True

    # -- Kubernetes rollback points ------------------------------------------------------------------

    def save_kube_rollback(self, point: RollbackPoint, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            taken = conn.execute(
                sa.select(kube_applies.c.apply_id).where(kube_applies.c.apply_id == point.apply_id)
            ).first()
            if taken is not None:
                raise BadInputError(f"apply id {point.apply_id} is already taken")
            conn.execute(kube_applies.insert().values(rows.kube_apply_row(point)))
            objects = rows.kube_object_rows(point)
            if objects:
                conn.execute(kube_apply_objects.insert(), objects)
            return self._append(conn, event)

    def kube_rollback(self, apply_id: str) -> RollbackPoint | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            row = conn.execute(sa.select(kube_applies).where(kube_applies.c.apply_id == apply_id)).first()
            if row is None:
                return None
            objects = conn.execute(
                sa.select(kube_apply_objects)
                .where(kube_apply_objects.c.apply_id == apply_id)
                .order_by(kube_apply_objects.c.position)
            ).all()
        return rows.rollback_point_of(row, objects)
