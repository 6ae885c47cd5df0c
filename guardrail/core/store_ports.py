"""The store port: where locks, approvals, break-glass passes, apply locks and the audit log live.

One store, several dialects (SQLite by default, PostgreSQL for teams) with the same behaviour. Every
write that changes what guardrail allows appends its audit event in the same transaction, so the log
cannot miss a change nor record one that did not happen. Writes are serialised: the chain never forks.

The verified chain is the authority (core/ledger.py): a lock, release, approval, break-glass pass or
use, plan author or apply lock is returned only when its event is in the intact chain and says the same,
and every event that records one still has it; every write first verifies the events appended since the
last write. Every method raises StoreError (a BadInputError: exit 3) when the store cannot be reached,
is corrupt, has a schema this version does not know, or holds records the chain does not back; callers
never treat that as "allow".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from guardrail.core.approvals import Approval, BreakGlass
from guardrail.core.audit import AuditEvent, ChainBreak, ChainPoint, EventDraft
from guardrail.core.kube.rollback import RollbackPoint
from guardrail.core.locks import ApplyLockHolder, Lock


@dataclass(frozen=True)
class Standing:
    """Everything people decided that bears on one plan, read at once and backed by the chain: every
    lock (released and expired ones too), the plan's author (None: never checked), its approvals and its
    break-glass passes (used and expired ones too), oldest first."""

    locks: tuple[Lock, ...]
    author: str | None
    approvals: tuple[Approval, ...]
    passes: tuple[BreakGlass, ...]


class AuditStore(Protocol):
    def append(self, draft: EventDraft) -> AuditEvent:
        """Seal `draft` after the current head, stamped with the store's clock, and keep it. The kinds that
        record a lock, approval, pass, check or apply lock are written by their own methods only: asking
        for one here is a bug (ValueError)."""
        ...

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        """Every event with seq > `after_seq`, in seq order, exactly as stored (tampered rows included)."""
        ...

    def event(self, seq: int) -> AuditEvent | None:
        """The event at `seq`, or None."""
        ...

    def events_of_kind(
        self, kind: str, *, newest_first: bool = False, fingerprint: str | None = None
    ) -> Iterator[AuditEvent]:
        """Every event of that kind (and of the plan `fingerprint`, when given), in seq order (or the newest
        first), exactly as stored: read through the kind's index (the plan's, with a fingerprint), so the
        last apply of a workspace or the last check of a plan is found without reading the whole log."""
        ...

    def head(self) -> AuditEvent | None:
        """The event with the highest seq, or None for an empty log."""
        ...

    def verified_point(self) -> ChainPoint | None:
        """The last event the store verified the chain up to (None: never): the log must still hold it."""
        ...

    def records_problem(self) -> ChainBreak | None:
        """Where the store's records and its chain disagree (a record whose event is missing, altered or
        says otherwise, an event whose record is gone, records beside an empty log), or None. Reads the
        chain's events only where records point, not the whole log."""
        ...


class LockStore(Protocol):
    def add_lock(self, lock: Lock, event: EventDraft) -> AuditEvent:
        """Keep a new lock. Raises BadInputError when its id is taken."""
        ...

    def locks(self) -> list[Lock]:
        """Every lock ever added, released and expired ones included, oldest first."""
        ...

    def lock(self, lock_id: str) -> Lock | None:
        """The lock with that id, or None."""
        ...

    def release_lock(self, lock_id: str, by: str, reason: str, at: datetime, event: EventDraft) -> Lock:
        """Mark the lock released. Raises BadInputError when there is no such lock or it was released."""
        ...


class ApprovalStore(Protocol):
    def record_check(self, fingerprint: str, actor: str, at: datetime, event: EventDraft, *, author: str) -> str:
        """Record `actor`'s check of the plan, deciding its author in the same write transaction.

        The author is the actor of the first check ever recorded: the one stored, or `actor` when there
        is none yet. `event` was settled assuming `author`: it is recorded only when that is the author
        decided; otherwise nothing is written. Returns the decided author: when it is not `author`, settle
        again with it and call again (an author, once stored, never changes).
        """
        ...

    def plan_author(self, fingerprint: str) -> str | None:
        """The author of the plan, or None when it was never checked."""
        ...

    def standing(self, fingerprint: str) -> Standing:
        """The locks, author, approvals and passes that settle the plan, read in one transaction."""
        ...

    def add_approval(self, approval: Approval, event: EventDraft) -> AuditEvent:
        """Keep an approval. Raises BadInputError when this actor already approved this plan."""
        ...

    def approvals(self, fingerprint: str) -> list[Approval]:
        """Every approval of the plan, oldest first."""
        ...

    def add_break_glass(self, grant: BreakGlass, event: EventDraft) -> AuditEvent:
        """Keep a break-glass pass."""
        ...

    def break_glass_passes(self, fingerprint: str) -> list[BreakGlass]:
        """Every pass for the plan, used and expired ones included, oldest first."""
        ...

    def use_break_glass(self, pass_id: str, at: datetime, event: EventDraft) -> bool:
        """Spend the pass if it is still unused and unexpired at `at`; False when it was not (a race lost)."""
        ...


class ApplyLockStore(Protocol):
    def acquire_apply_lock(self, holder: ApplyLockHolder, event: EventDraft) -> None:
        """Take the workspace's apply lock. Raises ApplyLockHeldError naming the current holder."""
        ...

    def apply_lock(self, workspace: str) -> ApplyLockHolder | None:
        """The current holder of the workspace's apply lock, or None."""
        ...

    def release_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        """Give the lock back; False (and no event) when `token` no longer holds it (it was recovered)."""
        ...

    def break_apply_lock(self, workspace: str, token: str, event: EventDraft) -> bool:
        """Remove a stale lock, provided `token` still holds it; False when someone else got there first."""
        ...


class KubeRollbackStore(Protocol):
    def save_kube_rollback(self, point: RollbackPoint, event: EventDraft) -> AuditEvent:
        """Keep the rollback point of a Kubernetes apply, every object as it lived (Secret values included:
        the store is the one place they are kept, to be put back), with its audit event (which must not hold
        them). Raises BadInputError when the apply id is taken."""
        ...

    def kube_rollback(self, apply_id: str) -> RollbackPoint | None:
        """The rollback point of an apply, its objects in the order they were saved, or None."""
        ...


class Store(AuditStore, LockStore, ApprovalStore, ApplyLockStore, KubeRollbackStore, Protocol):
    """Everything guardrail keeps. `close()` releases connections; using a closed store is a bug."""

    @property
    def description(self) -> str:
        """The store's URL with any password masked, for messages."""
        ...

    def close(self) -> None: ...


class StoreOpener(Protocol):
    """A store made ready ahead of use: its libraries load elsewhere while the caller does other work."""

    def open(self, url: str, *, cwd: Path, literals: frozenset[str] = frozenset(), create: bool = False) -> Store:
        """The store at `url` (relative SQLite paths from `cwd`), its audit payloads scrubbed of `literals`,
        created first when `create` and it does not exist. Raises StoreMissingError when it does not exist
        (and not `create`), StoreError when it cannot be opened. Once only."""
        ...

    def stop(self) -> None:
        """Give up the preparation when no store was opened (after `open`, closing the store ends it)."""
        ...


class SignatureVerifier(Protocol):
    """Checks that `signature` over `message` was made by a key allowed for `identity`."""

    def verify(self, identity: str, message: bytes, signature: str) -> None:
        """Returns when valid. Raises InvalidSignatureError (exit 1) when it is not, BadInputError when
        the allowed-signers file or the verifying tool is missing."""
        ...

    def identities_of_signer(self, signature: str) -> frozenset[str]:
        """Every identity the signing key is listed for: one person may be listed under several names,
        and the two-person rule counts people (keys), not names."""
        ...
