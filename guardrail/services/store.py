"""The store as the command line, the environment and guardrail.yaml choose it, who acts, and the
signature verifier for approvals.

A store is created on purpose only: `guardrail store init`, or the first use of the default location
(`.guardrail/guardrail.db` beside guardrail.yaml, or in the plan's directory when there is none). A store
named by --store, $GUARDRAIL_STORE or `store:` that does not exist is an error (exit 3): a mistyped path
must not become a new, empty store in which no lock or approval exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.approvals import SIGNATURE_NAMESPACE
from guardrail.core.errors import StoreMissingError
from guardrail.core.runs import StoreWithRuns
from guardrail.core.secrets import Scrubber, scrubber_for
from guardrail.core.store_ports import SignatureVerifier, Store, StoreOpener
from guardrail.services import wiring

DEFAULT_STORE_DIR = ".guardrail"
DEFAULT_STORE_FILE = "guardrail.db"
STORE_ENV = "GUARDRAIL_STORE"
BY_OPTION = "--store"
BY_ENVIRONMENT = f"${STORE_ENV}"
BY_DEFAULT = "the default location"


@dataclass(frozen=True)
class StoreLocation:
    """Where the store is, and what chose it (`--store`, `$GUARDRAIL_STORE`, a guardrail.yaml, the default)."""

    url: str
    chosen_by: str
    config: Path | None = None  # the guardrail.yaml whose `store:` named it

    @property
    def is_default(self) -> bool:
        """The default location, the one store that is created on first use."""
        return self.chosen_by == BY_DEFAULT

    def init_command(self) -> str:
        """The command that creates this store, for messages."""
        if self.chosen_by == BY_OPTION:
            return f"guardrail store init --store {self.url}"
        if self.config is not None:
            return f"guardrail store init --config {self.config}"
        return "guardrail store init"


def default_store_url(folder: Path) -> str:
    """The SQLite file under `.guardrail/` in `folder`."""
    return f"sqlite:///{(folder / DEFAULT_STORE_DIR / DEFAULT_STORE_FILE).resolve()}"


def locate(
    explicit: str | None,
    configured: str | None,
    *,
    home: Path,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> StoreLocation:
    """`--store`, else $GUARDRAIL_STORE, else `configured` (`store:` of the guardrail.yaml `config`), else
    the default location under `home`."""
    env = os.environ if environ is None else environ
    for candidate, chosen_by in ((explicit, BY_OPTION), (env.get(STORE_ENV), BY_ENVIRONMENT)):
        if candidate and candidate.strip():
            return StoreLocation(candidate.strip(), chosen_by)
    if configured and configured.strip():
        return StoreLocation(configured.strip(), f"store: in {config}" if config else "store:", config)
    return StoreLocation(default_store_url(home), BY_DEFAULT)


def store_location(explicit: str | None, settings: Settings) -> StoreLocation:
    """The store for these settings: `--store`, else $GUARDRAIL_STORE, else `store:` of guardrail.yaml (a
    relative SQLite path there is relative to the file), else `.guardrail/` in the settings' folder: beside
    guardrail.yaml, or the plan's directory (or the working directory) when there is none."""
    configured = settings.store
    if configured and configured.startswith("sqlite:///") and not configured.startswith("sqlite:////"):
        # A relative SQLite path in guardrail.yaml is relative to that file, like every other path in it.
        configured = f"sqlite:///{settings.base_dir / configured.removeprefix('sqlite:///')}"
    return locate(explicit, configured, home=settings.base_dir, config=settings.source)


def store_present(explicit: str | None, settings: Settings) -> bool:
    """Whether the chosen store (see store_location) is there to be read without creating it: a SQLite file
    that exists, or any other URL (a server, whose schema opening checks)."""
    url = store_location(explicit, settings).url
    if not url.startswith("sqlite:///"):
        return True
    path = Path(url.removeprefix("sqlite:///"))
    return (path if path.is_absolute() else Path.cwd() / path).is_file()


def open_configured_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> StoreWithRuns:
    """Open the chosen store (creating it only at the default location). Raises StoreMissingError (exit 3)
    naming the command that creates it when it does not exist, StoreError when it cannot be opened."""
    location = store_location(explicit, settings)
    with _explained(location):
        return wiring.open_store(location.url, cwd=Path.cwd(), scrub=scrub, create=location.is_default)


@contextmanager
def opened_store(explicit: str | None, settings: Settings, scrub: Scrubber | None = None) -> Iterator[Store]:
    """The chosen store (see open_configured_store), closed when the block ends."""
    store = open_configured_store(explicit, settings, scrub)
    try:
        yield store
    finally:
        store.close()


@dataclass(frozen=True)
class StoreInitialised:
    """What `store init` did: the store (password masked), whether it was created now, and what chose it."""

    description: str
    created: bool
    location: StoreLocation


def initialise(explicit: str | None, settings: Settings) -> StoreInitialised:
    """Create the chosen store, or bring an existing one to this version's schema. Raises StoreError."""
    location = store_location(explicit, settings)
    description, created = wiring.initialise_store(location.url, cwd=Path.cwd())
    return StoreInitialised(description, created, location)


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
    of `literals`. Raises StoreError (exit 3) when it cannot be opened (see open_configured_store)."""
    if helper is None:
        with opened_store(explicit, settings, scrubber_for(literals)) as store:
            yield store
        return
    location = store_location(explicit, settings)
    with _explained(location):
        forwarded = helper.open(location.url, cwd=Path.cwd(), literals=literals, create=location.is_default)
    try:
        yield forwarded
    finally:
        forwarded.close()


@contextmanager
def _explained(location: StoreLocation) -> Iterator[None]:
    try:
        yield
    except StoreMissingError as missing:
        raise StoreMissingError(
            f"{missing}; it was named by {location.chosen_by}: create it with `{location.init_command()}` "
            "(or fix the name)"
        ) from None
