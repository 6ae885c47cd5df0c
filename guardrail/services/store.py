"""The store as the settings and the command line choose it, and the signature verifier for approvals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from guardrail.adapters.identity import current_actor
from guardrail.adapters.signatures import SshSignatureVerifier
from guardrail.adapters.store_location import resolve_store_url
from guardrail.config import Settings
from guardrail.core.approvals import SIGNATURE_NAMESPACE
from guardrail.core.secrets import Scrubber, scrubber_for
from guardrail.core.store_ports import SignatureVerifier

if TYPE_CHECKING:  # the database libraries load when a store is opened, not when this module is imported
    from guardrail.adapters.store import SqlRunStore, SqlStore
    from guardrail.adapters.store_helper import StoreHelper
    from guardrail.core.store_ports import Store


def store_url(explicit: str | None, settings: Settings) -> str:
    """`--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else `.guardrail/` in the working folder."""
    configured = settings.store
    if configured and configured.startswith("sqlite:///") and not configured.startswith("sqlite:////"):
        # A relative SQLite path in guardrail.yaml is relative to that file, like every other path in it.
        configured = f"sqlite:///{settings.base_dir / configured.removeprefix('sqlite:///')}"
    return resolve_store_url(explicit, configured=configured, cwd=Path.cwd())


def store_present(explicit: str | None, settings: Settings) -> bool:
    """Whether the chosen store (see store_url) is there to be read without creating it: a SQLite file that
    exists, or any other URL (a server, whose schema opening checks)."""
    url = store_url(explicit, settings)
    if not url.startswith("sqlite:///"):
        return True
    path = Path(url.removeprefix("sqlite:///"))
    return (path if path.is_absolute() else Path.cwd() / path).is_file()


def open_configured_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> SqlRunStore:
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


def signature_verifier(settings: Settings, namespace: str = SIGNATURE_NAMESPACE) -> SignatureVerifier | None:
    """The OpenSSH verifier of signatures made in `namespace` (approvals by default, or break-glass) when
    `approvals.allowed_signers` is set, else None (signatures not required)."""
    signers = settings.allowed_signers_path()
    return None if signers is None else SshSignatureVerifier(signers, namespace)


def actor() -> str:
    """Who is acting: $GUARDRAIL_ACTOR, else git user.email, else the OS user."""
    return current_actor()


@contextmanager
def opened_for_review(
    explicit: str | None, settings: Settings, literals: frozenset[str], helper: StoreHelper | None
) -> Iterator[Store]:
    """The chosen store, opened by `helper` when there is one, else here; its audit payloads are scrubbed
    of `literals`. Raises StoreError (exit 3) when it cannot be opened."""
    if helper is None:
        with opened_store(explicit, settings, scrubber_for(literals)) as store:
            yield store
        return
    forwarded = helper.open(store_url(explicit, settings), cwd=Path.cwd(), literals=literals)
    try:
        yield cast("Store", forwarded)
    finally:
        forwarded.close()
