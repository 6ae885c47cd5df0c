"""Where the store is: `--store`, $GUARDRAIL_STORE, `store:` or the default SQLite file. Imports no
database library, so choosing the store costs nothing until it is opened."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_STORE_DIR = ".guardrail"
DEFAULT_STORE_FILE = "guardrail.db"
STORE_ENV = "GUARDRAIL_STORE"


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
