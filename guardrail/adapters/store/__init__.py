"""The store adapter: SQLite by default, PostgreSQL for teams, one implementation on SQLAlchemy.

`open_store` is the only entry point the wiring needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from guardrail.adapters.store.engine import create, describe, ensure_schema, normalise_url
from guardrail.adapters.store.sql_store import Clock, SqlStore, _utc_now
from guardrail.core.secrets import Scrubber

DEFAULT_STORE_DIR = ".guardrail"
DEFAULT_STORE_FILE = "guardrail.db"
STORE_ENV = "GUARDRAIL_STORE"

__all__ = ["STORE_ENV", "SqlStore", "default_store_url", "open_store", "resolve_store_url"]


def default_store_url(cwd: Path) -> str:
    """The SQLite file under `.guardrail/` in `cwd`."""
    return f"sqlite:///{(cwd / DEFAULT_STORE_DIR / DEFAULT_STORE_FILE).resolve()}"


def resolve_store_url(
    explicit: str | None, environ: Mapping[str, str] | None = None, configured: str | None = None, *, cwd: Path
) -> str:
    """The store to use: `--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else the default."""
    env = os.environ if environ is None else environ
    for candidate in (explicit, env.get(STORE_ENV), configured):
        if candidate and candidate.strip():
            return candidate.strip()
    return default_store_url(cwd)


def open_store(
    url: str, *, cwd: Path | None = None, clock: Clock = _utc_now, scrub: Scrubber | None = None
) -> SqlStore:
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
    return SqlStore(engine, where, clock, scrub)
