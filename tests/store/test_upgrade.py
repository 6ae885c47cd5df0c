"""A store made by an earlier guardrail upgrades in place: its records are tied to the events that
recorded them (schema 0003), its chain gets a verified point, and a row that no event records, written
before the upgrade, is refused after it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from guardrail.adapters.store import SqlStore, open_store
from guardrail.adapters.store.engine import MIGRATIONS_DIR, SCHEMA_HEAD, normalise_url
from guardrail.adapters.store.rows import event_row
from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, seal
from guardrail.core.errors import StoreError
from guardrail.services import audit

PLAN = "sha256:" + "a" * 64
T0 = "2030-01-01T00:00:00.000000Z"
T1 = "2030-01-01T01:00:00.000000Z"


class OldStore:
    """A store at schema 0002, written as guardrail wrote it then: each row beside its event."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.prev = GENESIS_HASH
        self.seq = 0

    def event(self, actor: str, kind: str, payload: dict[str, Any], fingerprint: str | None = None) -> AuditEvent:
        self.seq += 1
        sealed = seal(
            EventDraft(actor, kind, payload, fingerprint), self.seq, datetime(2030, 1, 1, tzinfo=UTC), self.prev
        )
        self.prev = sealed.hash
        self.insert("audit_events", event_row(sealed))
        return sealed

    def insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        self.conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


@pytest.fixture
def old_store(blank_store_url: str, tmp_path: Path) -> Iterator[OldStore]:
    from alembic import command
    from alembic.config import Config

    url = normalise_url(blank_store_url, tmp_path)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.upgrade(config, "0002")
            yield OldStore(conn)
    finally:
        engine.dispose()


def fill(old: OldStore) -> None:
    old.event("alice", "check", {"author": "alice", "decision": "needs-approval"}, PLAN)
    old.insert("plans", {"fingerprint": PLAN, "author": "alice", "first_seen": T0})
    lock = {"lock_id": "lk-1", "target": "type", "pattern": "aws_db_instance", "address": None}
    lock |= {"owner": "carol", "reason": "freeze", "expires_at": None}
    old.event("carol", "lock", lock)
    old.insert(
        "locks",
        {"id": "lk-1", "target": "type", "pattern": "aws_db_instance", "owner": "carol"}
        | {
            "reason": "freeze",
            "created_at": T0,
        },
    )
    old.event("bob", "approval", {"comment": "fine", "signed": False}, PLAN)
    old.insert("approvals", {"fingerprint": PLAN, "actor": "bob", "time": T0, "comment": "fine"})
    grant = {"pass_id": "bg-1", "reason": "outage", "expires_at": T1, "signed": False}
    old.event("ops", "break-glass", grant, PLAN)
    old.insert(
        "break_glass",
        {"id": "bg-1", "fingerprint": PLAN, "actor": "ops", "reason": "outage"}
        | {
            "created_at": T0,
            "expires_at": T1,
        },
    )
    old.event("dave", "release", {**lock, "release_reason": "thaw"})
    old.conn.execute(
        sa.text("UPDATE locks SET released_at = :t, released_by = 'dave', release_reason = 'thaw' WHERE id = 'lk-1'"),
        {"t": T1},
    )


def reopened(blank_store_url: str, tmp_path: Path) -> SqlStore:
    return open_store(blank_store_url, cwd=tmp_path)


def test_an_old_store_keeps_its_records_and_ties_them_to_their_events(
    old_store: OldStore, blank_store_url: str, tmp_path: Path
) -> None:
    fill(old_store)
    head = old_store.prev
    old_store.conn.commit()
    store = reopened(blank_store_url, tmp_path)
    try:
        standing = store.standing(PLAN)
        assert standing.author == "alice"
        assert [a.actor for a in standing.approvals] == ["bob"]
        assert [(p.id, p.signature) for p in standing.passes] == [("bg-1", None)]
        assert [(lock.id, lock.released_by) for lock in standing.locks] == [("lk-1", "dave")]
        point = store.verified_point()
        assert point is not None
        assert (point.seq, point.hash) == (5, head)  # verified once by the upgrade: checks never re-read it
        assert audit.verify(store).ok
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
    finally:
        store.close()


def test_a_row_no_event_records_is_refused_after_the_upgrade(
    old_store: OldStore, blank_store_url: str, tmp_path: Path
) -> None:
    fill(old_store)
    old_store.insert("approvals", {"fingerprint": PLAN, "actor": "mallory", "time": T1, "comment": "forged"})
    old_store.conn.commit()
    store = reopened(blank_store_url, tmp_path)
    try:
        with pytest.raises(StoreError, match=r"approval of .* by mallory: no event of the audit log records it"):
            store.standing(PLAN)
        report = audit.verify(store)
        assert report.broken is not None
        assert "mallory" in str(report.broken)
    finally:
        store.close()
