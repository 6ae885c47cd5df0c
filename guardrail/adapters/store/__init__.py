"""The store adapter: SQLite by default, PostgreSQL for teams, one implementation on SQLAlchemy.

`open_store` is the only entry point the wiring needs; the store it opens keeps runs too (SqlRunStore).
"""

from __future__ import annotations

from pathlib import Path

from guardrail.adapters.store.engine import create, describe, ensure_schema, normalise_url
from guardrail.adapters.store.runs import SqlRunStore
from guardrail.adapters.store.sql_store import Clock, SqlStore, _utc_now
from guardrail.adapters.store_location import STORE_ENV, default_store_url, resolve_store_url
from guardrail.core.secrets import Scrubber

__all__ = ["STORE_ENV", "SqlRunStore", "SqlStore", "default_store_url", "open_store", "resolve_store_url"]


def open_store(
    url: str, *, cwd: Path | None = None, clock: Clock = _utc_now, scrub: Scrubber | None = None
) -> SqlRunStore:
    """Connect, creating the SQLite file and folder on first use, and migrate the schema to this version.

    Relative SQLite paths are relative to `cwd` (default: the working directory). `scrub` masks secret
    literals in every audit payload string. Raises StoreError when the store is unreachable, corrupt,
    of an unsupported scheme or of a newer schema.
    """
    sa_url = normalise_url(url, cwd or Path.cwd())
    where = describe(sa_url)
    engine = create(sa_url)
    try:
        ensure_schema(engine, where)
    except BaseException:
        engine.dispose()
        raise
    return SqlRunStore(engine, where, clock, scrub)
