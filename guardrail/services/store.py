"""The store as the command line, the environment and guardrail.yaml choose it, who acts, and the
signature verifier for approvals."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.approvals import SIGNATURE_NAMESPACE
from guardrail.core.secrets import Scrubber, scrubber_for
from guardrail.core.store_ports import SignatureVerifier, Store, StoreOpener
from guardrail.services import wiring

DEFAULT_STORE_DIR = ".guardrail"
DEFAULT_STORE_FILE = "guardrail.db"
STORE_ENV = "GUARDRAIL_STORE"


def default_store_url(folder: Path) -> str:
    """The SQLite file under `.guardrail/` in `folder`."""
    return f"sqlite:///{(folder / DEFAULT_STORE_DIR / DEFAULT_STORE_FILE).resolve()}"


def resolve_store_url(
    explicit: str | None, environ: Mapping[str, str] | None = None, configured: str | None = None, *, cwd: Path
) -> str:
    """The store to use: `--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else the default."""
    env = os.environ if environ is None else environ
    for candidate in (explicit, env.get(STORE_ENV), configured):
        if candidate and candidate.strip():
            return candidate.strip()
    return default_store_url(cwd)


def store_url(explicit: str | None, settings: Settings) -> str:
    """`--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else `.guardrail/` in the working folder."""
    configured = settings.store
    if configured and configured.startswith("sqlite:///") and not configured.startswith("sqlite:////"):
        # A relative SQLite path in guardrail.yaml is relative to that file, like every other path in it.
        configured = f"sqlite:///{settings.base_dir / configured.removeprefix('sqlite:///')}"
    return resolve_store_url(explicit, configured=configured, cwd=Path.cwd())


def open_configured_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> Store:
    """Open (creating and migrating on first use) the chosen store. Raises StoreError (exit 3) when it fails."""
    return wiring.open_store(store_url(explicit, settings), cwd=Path.cwd(), scrub=scrub)


@contextmanager
def opened_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> Iterator[Store]:
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
    return None if signers is None else wiring.signature_verifier(signers, namespace)


def actor() -> str:
    """Who is acting: $GUARDRAIL_ACTOR, else git user.email, else the OS user."""
    return wiring.current_actor()


@contextmanager
def opened_for_review(
    explicit: str | None, settings: Settings, literals: frozenset[str], helper: StoreOpener | None
) -> Iterator[Store]:
    """The chosen store, opened by `helper` when there is one, else here; its audit payloads are scrubbed
    of `literals`. Raises StoreError (exit 3) when it cannot be opened."""
    if helper is None:
        with opened_store(explicit, settings, scrubber_for(literals)) as store:
            yield store
        return
    forwarded = helper.open(store_url(explicit, settings), cwd=Path.cwd(), literals=literals)
    try:
        yield forwarded
    finally:
        forwarded.close()
