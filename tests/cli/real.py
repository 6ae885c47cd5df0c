"""Helpers for tests that drive real terraform (offline: built-in terraform_data) and read a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from guardrail.adapters.store.engine import normalise_url

TF_ENV = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
# The installed entry point when there is one, as a pipeline would call it; else the module.
_ENTRY = Path(sys.executable).parent / "guardrail"
GUARDRAIL = [str(_ENTRY)] if _ENTRY.is_file() else [sys.executable, "-m", "guardrail"]


def terraform(binary: str, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *args], cwd=directory, env=TF_ENV, check=True, capture_output=True, text=True)


def init(binary: str, directory: Path, main_tf: str, *baseline_vars: str) -> Path:
    """Write main.tf, `terraform init`, and apply it with `baseline_vars` (`-var k=v`) when given."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(main_tf)
    terraform(binary, directory, "init", "-input=false")
    if baseline_vars:
        terraform(binary, directory, "apply", "-auto-approve", "-input=false", *(f"-var={v}" for v in baseline_vars))
    return directory


def inputs(state_json: str) -> dict[str, Any]:
    """{resource name: the value of its `input`} of a terraform_data state (stored as {type, value})."""
    state = json.loads(state_json)
    return {r["name"]: r["instances"][0]["attributes"]["input"]["value"] for r in state.get("resources", [])}


def state_inputs(binary: str, directory: Path) -> dict[str, Any]:
    return inputs(terraform(binary, directory, "state", "pull").stdout or "{}")


def raw_store_dump(url: str, cwd: Path) -> str:
    """Every row of every table, and for SQLite the database files' bytes: what a secret must never be in."""
    sa_url = normalise_url(url, cwd)
    parts: list[str] = []
    if sa_url.get_backend_name() == "sqlite":
        database = Path(sa_url.database or "")
        for path in database.parent.glob(database.name + "*"):
            parts.append(path.read_bytes().decode("latin-1"))
    engine = sa.create_engine(sa_url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                parts.append(repr(conn.execute(sa.select(table)).all()))
    finally:
        engine.dispose()
    return "\n".join(parts)
