"""The store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL (see core/store_ports.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

from guardrail.adapters.store import engine as db
from guardrail.adapters.store import rows
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
from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, iso_utc, seal
from guardrail.core.errors import BadInputError
from guardrail.core.kube.rollback import RollbackPoint
from guardrail.core.locks import ApplyLockHeldError, ApplyLockHolder, Lock
from guardrail.core.secrets import Scrubber

Clock = Callable[[], datetime]
_PAGE = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    """guardrail's store on a SQLAlchemy engine. Every method raises StoreError when the database fails."""

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

    def _append(self, conn: Connection, draft: EventDraft) -> AuditEvent:
        # Runs inside a serialised write transaction: nobody else can read or move the head meanwhile.
        head = conn.execute(
            sa.select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (int(head.seq) + 1, str(head.hash)) if head is not None else (1, GENESIS_HASH)
        try:
            event = seal(draft, seq, self._clock(), prev_hash, self._scrub)
        except (TypeError, ValueError) as error:
            raise ValueError(f"audit payload of {draft.kind!r} is not plain JSON data: {error}") from None
        conn.execute(audit_events.insert().values(rows.event_row(event)))
        return event

    def append(self, draft: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            return self._append(conn, draft)

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        # Paged: a long log is never held in memory whole, nor a read transaction kept open between pages.
        cursor = after_seq
        while True:
            with db.translated(self._where), db.reading(self._engine) as conn:
                page = conn.execute(
                    sa.select(audit_events).where(audit_events.c.seq > cursor).order_by(audit_events.c.seq).limit(_PAGE)
                ).all()
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

    # -- locks ---------------------------------------------------------------------------------------

    def add_lock(self, lock: Lock, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            if conn.execute(sa.select(locks.c.id).where(locks.c.id == lock.id)).first() is not None:
                raise BadInputError(f"lock id {lock.id} is already taken")
            conn.execute(locks.insert().values(rows.lock_row(lock)))
            return self._append(conn, event)

    def locks(self) -> list[Lock]:
        with db.translated(self._where), db.reading(self._engine) as conn:
            found = conn.execute(sa.select(locks).order_by(locks.c.created_at, locks.c.id)).all()
        return [rows.lock_of(row) for row in found]

    def lock(self, lock_id: str) -> Lock | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            row = conn.execute(sa.select(locks).where(locks.c.id == lock_id)).first()
        return rows.lock_of(row) if row is not None else None

    def release_lock(self, lock_id: str, by: str, reason: str, at: datetime, event: EventDraft) -> Lock:
        with db.translated(self._where), db.writing(self._engine) as conn:
            row = conn.execute(sa.select(locks).where(locks.c.id == lock_id)).first()
            if row is None:
                raise BadInputError(f"lock {lock_id}: no such lock")
            if row.released_at is not None:
                raise BadInputError(f"lock {lock_id}: already released by {row.released_by} at {row.released_at}")
            conn.execute(
                locks.update()
                .where(locks.c.id == lock_id)
                .values(released_at=iso_utc(at), released_by=by, release_reason=reason)
            )
            self._append(conn, event)
            released = conn.execute(sa.select(locks).where(locks.c.id == lock_id)).one()
        return rows.lock_of(released)

    # -- plans, approvals, break-glass ---------------------------------------------------------------

    def record_check(self, fingerprint: str, actor: str, at: datetime, event: EventDraft) -> str:
        with db.translated(self._where), db.writing(self._engine) as conn:
            author = conn.execute(sa.select(plans.c.author).where(plans.c.fingerprint == fingerprint)).scalar()
            if author is None:
                author = actor
                conn.execute(plans.insert().values(fingerprint=fingerprint, author=actor, first_seen=iso_utc(at)))
            self._append(conn, event)
        return str(author)

    def plan_author(self, fingerprint: str) -> str | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            author = conn.execute(sa.select(plans.c.author).where(plans.c.fingerprint == fingerprint)).scalar()
        return None if author is None else str(author)

    def add_approval(self, approval: Approval, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            taken = conn.execute(
                sa.select(approvals.c.time).where(
                    approvals.c.fingerprint == approval.fingerprint, approvals.c.actor == approval.actor
                )
            ).scalar()
            if taken is not None:
                raise BadInputError(f"{approval.actor} already approved plan {approval.fingerprint} at {taken}")
            conn.execute(approvals.insert().values(rows.approval_row(approval)))
            return self._append(conn, event)

    def approvals(self, fingerprint: str) -> list[Approval]:
        with db.translated(self._where), db.reading(self._engine) as conn:
            found = conn.execute(
                sa.select(approvals).where(approvals.c.fingerprint == fingerprint).order_by(approvals.c.time)
            ).all()
        return [rows.approval_of(row) for row in found]

    def add_break_glass(self, grant: BreakGlass, event: EventDraft) -> AuditEvent:
        with db.translated(self._where), db.writing(self._engine) as conn:
            conn.execute(break_glass.insert().values(rows.break_glass_row(grant)))
            return self._append(conn, event)

    def break_glass_passes(self, fingerprint: str) -> list[BreakGlass]:
        with db.translated(self._where), db.reading(self._engine) as conn:
            found = conn.execute(
                sa.select(break_glass)
                .where(break_glass.c.fingerprint == fingerprint)
                .order_by(break_glass.c.created_at, break_glass.c.id)
            ).all()
        return [rows.break_glass_of(row) for row in found]

    def use_break_glass(self, pass_id: str, at: datetime, event: EventDraft) -> bool:
        stamp = iso_utc(at)
        with db.translated(self._where), db.writing(self._engine) as conn:
            spent = conn.execute(
                break_glass.update()
                .where(break_glass.c.id == pass_id, break_glass.c.used_at.is_(None), break_glass.c.expires_at > stamp)
                .values(used_at=stamp)
            )
            if spent.rowcount != 1:
                return False
            self._append(conn, event)
        return True

    # -- apply locks ---------------------------------------------------------------------------------

    def acquire_apply_lock(self, holder: ApplyLockHolder, event: EventDraft) -> None:
        with db.translated(self._where), db.writing(self._engine) as conn:
            current = self._apply_lock(conn, holder.workspace)
            if current is not None:
                raise ApplyLockHeldError(current)
            try:
                conn.execute(apply_locks.insert().values(rows.apply_lock_row(holder)))
            except exc.IntegrityError:
                # Unreachable while writes are serialised; kept so a lost race still names the holder.
                raise ApplyLockHeldError(holder) from None
            self._append(conn, event)

    def apply_lock(self, workspace: str) -> ApplyLockHolder | None:
        with db.translated(self._where), db.reading(self._engine) as conn:
            return self._apply_lock(conn, workspace)

    @staticmethod
    def _apply_lock(conn: Connection, workspace: str) -> ApplyLockHolder | None:
        row = conn.execute(sa.select(apply_locks).where(apply_locks.c.workspace == workspace)).first()
        return rows.apply_lock_of(row) if row is not None else None

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
