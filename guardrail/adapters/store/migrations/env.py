"""Alembic environment: runs migrations on the connection the store hands over, inside its transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        # Migrations run only through guardrail, which holds the store's write lock while they do.
        raise RuntimeError("guardrail migrations need a connection in config.attributes['connection']")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


_run()
