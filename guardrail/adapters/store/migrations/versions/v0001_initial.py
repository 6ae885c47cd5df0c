"""The first schema: audit events, locks, plans, approvals, break-glass passes and apply locks.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_index("ix_audit_events_kind", "audit_events", ["kind"])
    op.create_index("ix_audit_events_fingerprint", "audit_events", ["fingerprint"])
    op.create_table(
        "locks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("released_at", _TIME, nullable=True),
        sa.Column("released_by", sa.String(320), nullable=True),
        sa.Column("release_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("fingerprint", sa.String(128), primary_key=True),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("fingerprint", sa.String(128), primary_key=True),
        sa.Column("actor", sa.String(320), primary_key=True),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=True),
    )
    op.create_table(
        "break_glass",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
    )
    op.create_index("ix_break_glass_fingerprint", "break_glass", ["fingerprint"])
    op.create_table(
        "apply_locks",
        sa.Column("workspace", sa.String(256), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("hostname", sa.String(256), nullable=False),
        sa.Column("acquired_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=True),
    )


def downgrade() -> None:
    for table in ("apply_locks", "break_glass", "approvals", "plans", "locks", "audit_events"):
        op.drop_table(table)
