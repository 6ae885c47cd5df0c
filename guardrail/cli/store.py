"""`guardrail store init`: create a store on purpose (every other command refuses one that does not exist)."""

from __future__ import annotations

from pathlib import Path

from guardrail.cli.options import CONFIG, STORE, load_config, sub_app
from guardrail.cli.output import emit, inert

store_app = sub_app("store", "The store of locks, approvals, applies and the audit log.")


@store_app.command("init")
def init_command(config: Path | None = CONFIG, store: str | None = STORE) -> None:
    """Create the store that --store, $GUARDRAIL_STORE or guardrail.yaml names (else the default one), or
    bring an existing store to this version's schema. Exit 0 done; 3 the store cannot be reached or made."""
    from guardrail.services.store import initialise

    done = initialise(store, load_config(config))
    state = "created" if done.created else "already exists, schema current"
    emit(inert(f"store {done.description}: {state} (chosen by {done.location.chosen_by})"))
