"""The store adapter: SQLite by default, PostgreSQL for teams, one implementation on SQLAlchemy.

`open_store` is the only entry point the wiring needs.
"""

from __future__ import annotations

from pathlib import Path

from guardrail.adapters.store.engine import create as create_engine
from guardrail.adapters.store.engine import describe, ensure_schema, normalise_url
from guardrail.adapters.store.sql_store import Clock, SqlStore, _utc_now
from guardrail.core.secrets import Scrubber

__all__ = ["SqlStore", "initialise_store", "open_store"]


def open_store(
    url: str,
    *,
    cwd: Path | None = None,
    clock: Clock = _utc_now,
    scrub: Scrubber | None = None,
    create: bool = False,
) -> SqlStore:
    """Connect and migrate the schema to this version; with `create`, make the store first when it does not
    exist (the SQLite file and its folder, or the schema in an empty PostgreSQL database).

    Relative SQLite paths are relative to `cwd` (default: the working directory). `scrub` masks secret
    literals in every audit payload string. Raises StoreMissingError when the store does not exist and
    `create` is false; StoreError when it is unreachable, corrupt, of an unsupported scheme or of a newer
    schema.
    """
    sa_url = normalise_url(url, cwd or Path.cwd())
    where = describe(sa_url)
    engine = create_engine(sa_url, new=create)
    try:
        ensure_schema(engine, where, create=create)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, where, clock, scrub)


def initialise_store(url: str, *, cwd: Path | None = None) -> tuple[str, bool]:
    """Create the store at `url`, or bring an existing one to this version's schema; returns its
    description and whether it was created now. Raises StoreError as open_store does."""
    sa_url = normalise_url(url, cwd or Path.cwd())
    where = describe(sa_url)
    engine = create_engine(sa_url, new=True)
    try:
        found = ensure_schema(engine, where, create=True)
    finally:
        engine.dispose()
    return where, found is None
