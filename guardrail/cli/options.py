"""Options that several commands share: the config file and the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from guardrail.config import Settings

CONFIG = typer.Option(None, "--config", "-c", help="guardrail.yaml (default: ./guardrail.yaml when present).")
# $GUARDRAIL_STORE is read by the store wiring itself, after --store and before guardrail.yaml's store:.
STORE = typer.Option(
    None,
    "--store",
    help="Store URL: sqlite:///PATH or postgresql://... (default: $GUARDRAIL_STORE, store: in guardrail.yaml, "
    "else .guardrail/guardrail.db here).",
)


def load_config(config: Path | None) -> Settings:
    """guardrail.yaml as --config names it (then required) or ./guardrail.yaml when present."""
    from guardrail.config import load_settings

    return load_settings(config, required=config is not None)
