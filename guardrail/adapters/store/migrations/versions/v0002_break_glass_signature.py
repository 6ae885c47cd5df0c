"""Break-glass passes keep the holder's signature, so it is verified again whenever the pass is used.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("break_glass", sa.Column("signature", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("break_glass", "signature")
