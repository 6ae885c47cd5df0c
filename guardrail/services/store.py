"""The store as the settings and the command line choose it, and the signature verifier for approvals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.adapters.identity import current_actor
from guardrail.adapters.signatures import SshSignatureVerifier
from guardrail.adapters.store_location import resolve_store_url
from guardrail.config import Settings
from guardrail.core.secrets import Scrubber
from guardrail.core.store_ports import SignatureVerifier

if TYPE_CHECKING:  # the database libraries load when a store is opened, not when this module is imported
    from guardrail.adapters.store import SqlStore


def store_url(explicit: str | None, settings: Settings) -> str:
    """`--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else `.guardrail/` in the working folder."""
    configured = settings.store
    if configured and configured.startswith("sqlite:///") and not configured.startswith("sqlite:////"):
        # A relative SQLite path in guardrail.yaml is relative to that file, like every other path in it.
        configured = f"sqlite:///{settings.base_dir / configured.removeprefix('sqlite:///')}"
    return resolve_store_url(explicit, configured=configured, cwd=Path.cwd())


def open_configured_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> SqlStore:
    """Open (creating and migrating on first use) the chosen store. Raises StoreError (exit 3) when it fails."""
    from guardrail.adapters.store import open_store

    return open_store(store_url(explicit, settings), scrub=scrub)


@contextmanager
def opened_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> Iterator[SqlStore]:
    """The chosen store (see open_configured_store), closed when the block ends."""
    store = open_configured_store(explicit, settings, scrub)
    try:
        yield store
    finally:
        store.close()


def signature_verifier(settings: Settings) -> SignatureVerifier | None:
    """The OpenSSH verifier when `approvals.allowed_signers` is set, else None (signatures not required)."""
    signers = settings.allowed_signers_path()
    return None if signers is None else SshSignatureVerifier(signers)


def actor() -> str:
    """Who is acting: $GUARDRAIL_ACTOR, else git user.email, else the OS user."""
    return current_actor()
