"""The audit chain becomes the authority over the records kept beside it (see guardrail/core/ledger.py).

Each record names the event that recorded it: locks (and their release), approvals, break-glass passes
(and their use), plans (their first check: the author) and apply locks (their apply-start). An existing
store is upgraded in place: the names are found in its events. A row that no event records keeps none,
and the store then refuses to decide anything on it, as it should: no guardrail wrote that row.

The chain is verified once here, so that the store starts with a verified point and a check never
re-reads a long log; a broken chain gets none (every later use verifies it, and fails).

Revision ID: 0003
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from guardrail.core.audit import AuditEvent, verify_chain

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_COLUMNS = {
    "locks": ("event_seq", "release_seq"),
    "approvals": ("event_seq",),
    "break_glass": ("event_seq", "used_seq"),
    "plans": ("event_seq",),
    "apply_locks": ("event_seq",),
}
# The events whose rows get their names below, with the row key their payload gives (None: see below).
_BOUND = ("lock", "release", "approval", "break-glass", "break-glass-used", "apply-start")
_PAGE = 1000


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.BigInteger, nullable=True))
    op.drop_index("ix_audit_events_fingerprint", table_name="audit_events")
    op.create_index("ix_audit_events_fingerprint_kind", "audit_events", ["fingerprint", "kind", "seq"])
    op.create_table(
        "chain_checkpoint",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    conn = op.get_bind()
    _name_events(conn)
    _name_first_checks(conn)
    _verify_once(conn)


def _name_events(conn: sa.Connection) -> None:
    found = conn.execute(
        sa.text(
            "SELECT seq, kind, actor, fingerprint, payload FROM audit_events "
            f"WHERE kind IN ({', '.join(repr(kind) for kind in _BOUND)}) ORDER BY seq"
        )
    )
    for seq, kind, actor, fingerprint, payload_text in found.all():
        try:
            payload = json.loads(payload_text)
        except ValueError:
            continue  # a damaged event names no row: verification will say what is wrong with it
        if not isinstance(payload, dict):
            continue
        statement, key = _naming(kind, actor, fingerprint, payload)
        conn.execute(sa.text(statement), {"seq": seq, **key})


def _naming(kind: str, actor: str, fingerprint: str | None, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The statement that names the event `seq` in its row, and the row's key."""
    if kind in ("lock", "release"):
        column = "event_seq" if kind == "lock" else "release_seq"
        statement = f"UPDATE locks SET {column} = :seq WHERE id = :key AND {column} IS NULL"
        return statement, {"key": payload.get("lock_id")}
    if kind == "approval":
        statement = (
            "UPDATE approvals SET event_seq = :seq WHERE fingerprint = :fp AND actor = :actor AND event_seq IS NULL"
        )
        return statement, {"fp": fingerprint, "actor": actor}
    if kind in ("break-glass", "break-glass-used"):
        column = "event_seq" if kind == "break-glass" else "used_seq"
        statement = f"UPDATE break_glass SET {column} = :seq WHERE id = :key AND {column} IS NULL"
        return statement, {"key": payload.get("pass_id")}
    # apply-start: the newest one of a workspace is its current holder's (every earlier one was released).
    return "UPDATE apply_locks SET event_seq = :seq WHERE workspace = :key", {"key": payload.get("workspace")}


def _name_first_checks(conn: sa.Connection) -> None:
    firsts = conn.execute(
        sa.text(
            "SELECT fingerprint, MIN(seq) FROM audit_events WHERE kind = 'check' AND fingerprint IS NOT NULL "
            "GROUP BY fingerprint"
        )
    ).all()
    name = sa.text("UPDATE plans SET event_seq = :seq WHERE fingerprint = :fp")
    for fingerprint, seq in firsts:
        conn.execute(name, {"seq": seq, "fp": fingerprint})


def _verify_once(conn: sa.Connection) -> None:
    report = verify_chain(_events(conn))
    if report.ok and report.last_seq > 0:
        conn.execute(
            sa.text("INSERT INTO chain_checkpoint (id, seq, hash) VALUES (1, :seq, :hash)"),
            {"seq": report.last_seq, "hash": report.head},
        )


def _events(conn: sa.Connection) -> Iterator[AuditEvent]:
    cursor = 0
    while True:
        page = conn.execute(
            sa.text(
                "SELECT seq, time, actor, kind, fingerprint, payload, prev_hash, hash FROM audit_events "
                "WHERE seq > :after ORDER BY seq LIMIT :page"
            ),
            {"after": cursor, "page": _PAGE},
        ).all()
        yield from (AuditEvent(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in page)
        if len(page) < _PAGE:
            return
        cursor = int(page[-1][0])


def downgrade() -> None:
    op.drop_table("chain_checkpoint")
    op.drop_index("ix_audit_events_fingerprint_kind", table_name="audit_events")
    op.create_index("ix_audit_events_fingerprint", "audit_events", ["fingerprint"])
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.drop_column(table, column)
