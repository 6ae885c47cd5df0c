"""The rollback point of each Kubernetes apply: the apply, and every object it changes as it lived before.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "kube_applies",
        sa.Column("apply_id", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("saved_at", _TIME, nullable=False),
        sa.Column("rollback_of", sa.String(64), nullable=True),
    )
    op.create_table(
        "kube_apply_objects",
        sa.Column("apply_id", sa.String(64), sa.ForeignKey("kube_applies.apply_id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cluster", sa.String(256), nullable=False),
        sa.Column("api_version", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(256), nullable=False),
        sa.Column("namespace", sa.String(256), nullable=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("live_manifest", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("kube_apply_objects")
    op.drop_table("kube_applies")
