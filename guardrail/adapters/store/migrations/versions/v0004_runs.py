"""Runs: fleet rollouts and node-pool cycles kept step by step, so a killed process resumes where it
stopped and another terminal can pause or abort them.

`active_subject` holds the subject while the run is active and NULL once it ended: its unique index is
the database's own guarantee that two active runs never share a subject (NULLs never collide).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
# Follows the store's authority rework (0003).
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("active_subject", sa.String(512), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("requested", sa.String(16), nullable=True),
    )
    op.create_index("ix_runs_active_subject", "runs", ["active_subject"], unique=True)
    op.create_index("ix_runs_kind", "runs", ["kind"])


def downgrade() -> None:
    op.drop_table("runs")
