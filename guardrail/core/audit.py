"""The audit log as a hash chain: every event commits to the one before it, so any edit, deletion,
insertion or reordering of stored events breaks the chain at a point that verification can name.

Pure: the store keeps the events, this module seals and checks them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from guardrail.core.secrets import Scrubber

# The prev_hash of the first event: fixed, so a chain cannot be re-rooted without breaking event 1.
GENESIS_HASH = hashlib.sha256(b"guardrail-audit-genesis-v1").hexdigest()
# A sortable, fixed-width rendering: the stored text is hashed, so it must never vary.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EventKind(StrEnum):
    """What an event records."""

    CHECK = "check"
    LOCK = "lock"
    RELEASE = "release"
    APPROVAL = "approval"
    BREAK_GLASS = "break-glass"
    BREAK_GLASS_USED = "break-glass-used"
    APPLY_START = "apply-start"
    APPLY_END = "apply-end"
    APPLY_LOCK_RECOVERED = "apply-lock-recovered"
    ROLLOUT_START = "rollout-start"
    ROLLOUT_STEP = "rollout-step"  # a change to a cluster: prepared, nodes labelled, pods replaced, rolled back
    ROLLOUT_MEASUREMENT = "rollout-measurement"  # a baseline, a measured cost, failing gates, a rollback check
    ROLLOUT_DECISION = "rollout-decision"  # widen (with the projection's arithmetic), halt, roll back, done
    ROLLOUT_REQUEST = "rollout-request"  # pause, resume or abort asked from another terminal
    NODE_CYCLE_START = "node-cycle-start"  # a node-pool cycle planned: strata, capacity floor, budgets
    NODE_PHASE = "node-phase"  # a node finished a phase of its cycle, with the time it took
    NODE_DECISION = "node-decision"  # the cycle picked, released or skipped nodes, or warned of a slow phase
    NODE_FAILURE = "node-failure"  # a node missed a budget or failed validation: the cycle halts
    NODE_CYCLE_REQUEST = "node-cycle-request"  # someone asked a cycle to pause, resume or abort
    NODE_CYCLE_END = "node-cycle-end"  # completed, halted or aborted
    KUBE_ROLLBACK_POINT = "kube-rollback-point"  # a Kubernetes apply saved the live objects it changes (in the store)
    KUBE_APPLY_OBJECT = "kube-apply-object"  # one object of a Kubernetes apply or rollback: applied, deleted, failed
    KUBE_ROLLBACK = "kube-rollback"  # a rollback of a Kubernetes apply: which apply it undoes, its own apply id
    ROLLBACK_PLAN = "rollback-plan"  # a rollback planned: the apply it undoes (seq, fingerprint), the commit it goes to
    ROLLBACK_VERIFY = "rollback-verify"  # after a rollback apply: verified, or what still differs


def iso_utc(moment: datetime) -> str:
    """`moment` as UTC ISO-8601 with microseconds and a Z. Raises ValueError for a naive datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: guardrail records UTC times only")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_iso(text: str) -> datetime:
    """The aware UTC datetime of an ISO-8601 text (a bare time is taken as UTC). Raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no whitespace, no NaN. Raises TypeError/ValueError otherwise."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(
    seq: int, *, time: str, actor: str, kind: str, fingerprint: str | None, payload: Any, prev_hash: str
) -> str:
    """SHA-256 (hex) over the canonical JSON of the event's fields, prev_hash included."""
    body = canonical_json([seq, time, actor, kind, fingerprint, payload, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before the store gives it a place in the chain (seq, time, hashes)."""

    actor: str
    kind: str
    payload: Mapping[str, Any]
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One sealed event. `payload_json` is the canonical text that the hash covers."""

    seq: int
    time: str
    actor: str
    kind: str
    fingerprint: str | None
    payload_json: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> Any:
        """The payload, parsed. Raises ValueError when the stored text is not JSON (tampering)."""
        return json.loads(self.payload_json)

    def to_dict(self) -> dict[str, Any]:
        """The event as the audit export writes it, one JSON object per line. Raises ValueError when the
        stored payload is not JSON (see `header` for the rest of a damaged event)."""
        return {**self.header(), "payload": self.payload}

    def header(self) -> dict[str, Any]:
        """Every field but the payload."""
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "kind": self.kind,
            "fingerprint": self.fingerprint,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def seal(draft: EventDraft, seq: int, time: datetime, prev_hash: str, scrub: Scrubber | None = None) -> AuditEvent:
    """The event that follows `prev_hash` at position `seq`.

    Raises ValueError when the payload is not plain JSON data (the chain must hash what it stores).
    """
    payload = scrub_payload(draft.payload, scrub) if scrub is not None else draft.payload
    stamp = iso_utc(time)
    text = canonical_json(payload)
    # Hash what a reader will parse back, so a tuple and a list cannot hash differently.
    parsed = json.loads(text)
    digest = event_hash(
        seq,
        time=stamp,
        actor=draft.actor,
        kind=draft.kind,
        fingerprint=draft.fingerprint,
        payload=parsed,
        prev_hash=prev_hash,
    )
    return AuditEvent(seq, stamp, draft.actor, draft.kind, draft.fingerprint, text, prev_hash, digest)


# Payload entries that hold resource addresses: names, never secrets, recorded as they are.
ADDRESS_KEYS = frozenset({"address", "addresses"})


def scrub_payload(value: Any, scrub: Scrubber) -> Any:
    """`value` with every string (keys included) passed through `scrub`, but the addresses under
    ADDRESS_KEYS, which are also kept whole where a message quotes them."""
    return _scrubbed(value, scrub.keeping(_addresses(value)))


def _scrubbed(value: Any, scrub: Scrubber) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): v if k in ADDRESS_KEYS else _scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v, scrub) for v in value]
    return value


def _addresses(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ADDRESS_KEYS:
                yield from (item,) if isinstance(item, str) else (a for a in item or () if isinstance(a, str))
            else:
                yield from _addresses(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _addresses(item)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain first fails: `seq` names the event (or the missing position) and why; 0 for a
    problem that is not at one event (the store's records disagreeing with the log)."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.reason}" if self.seq > 0 else self.reason


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A place in the chain: an event's seq and hash (seq 0 and the genesis hash: before the first event)."""

    seq: int
    hash: str


GENESIS = ChainPoint(0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a verification."""

    count: int
    head: str  # hash of the last event, GENESIS_HASH for an empty log
    last_seq: int
    broken: ChainBreak | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(
    events: Iterable[AuditEvent],
    expect_head: str | None = None,
    *,
    exact: bool = False,
    start: ChainPoint = GENESIS,
    verified: ChainPoint | None = None,
) -> ChainReport:
    """Check `events`, read in seq order, from `start` on (the genesis, or a point verified before whose
    events follow); stop at the first break.

    With `expect_head` (a head hash pinned elsewhere): the log must still contain it, else events were
    removed or rewritten (truncation); with `exact`, it must be the head itself. `verified` is the point
    the store itself last verified the chain to: the log must still hold it, at its place.
    """
    expected_seq, prev_hash, count = start.seq + 1, start.hash, 0
    seen: dict[str, int] = {}
    for event in events:
        problem = _check_event(event, expected_seq, prev_hash)
        if problem is not None:
            return ChainReport(count, prev_hash, expected_seq - 1, problem)
        count += 1
        seen[event.hash] = event.seq
        prev_hash, expected_seq = event.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if verified is not None and verified.seq > start.seq and seen.get(verified.hash) != verified.seq:
        reason = (
            f"the log ends here, but the store verified it up to event {verified.seq} "
            f"({verified.hash[:16]}...): events were removed or rewritten"
        )
        return ChainReport(count, prev_hash, last_seq, ChainBreak(last_seq + 1, reason))
    if expect_head is None:
        return ChainReport(count, prev_hash, last_seq)
    wanted = expect_head.strip().lower().removeprefix("sha256:")
    if wanted == prev_hash:
        return ChainReport(count, prev_hash, last_seq)
    if wanted in seen and not exact:
        since = last_seq - seen[wanted]
        return ChainReport(count, prev_hash, last_seq, notes=(f"{since} event(s) recorded after the pinned head",))
    where = f"at event {seen[wanted]}" if wanted in seen else "nowhere in the log"
    reason = f"the log ends here but the expected head {wanted[:16]}... is {where}: events were removed"
    return ChainReport(count, prev_hash, last_seq, ChainBreak(last_seq + 1, reason))


def _check_event(event: AuditEvent, expected_seq: int, prev_hash: str) -> ChainBreak | None:
    if event.seq > expected_seq:
        return ChainBreak(expected_seq, f"missing (the next stored event is {event.seq})")
    if event.seq < expected_seq:
        return ChainBreak(event.seq, f"out of order or duplicated (expected event {expected_seq})")
    problem = seal_problem(event)
    if problem is not None:
        return ChainBreak(event.seq, problem)
    if event.prev_hash != prev_hash:
        return ChainBreak(event.seq, "does not follow the event before it (inserted, removed or reordered)")
    return None


def stored_hash(event: AuditEvent) -> str:
    """The hash of the event as stored, its payload text hashed as it is, without parsing it: the event's
    own hash exactly when nothing was changed since it was sealed (the sealed text is canonical).

    Cheap on a large payload (a check of thousands of changes), where seal_problem parses it."""
    head = canonical_json([event.seq, event.time, event.actor, event.kind, event.fingerprint])
    body = f"{head[:-1]},{event.payload_json},{canonical_json(event.prev_hash)}]"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seal_problem(event: AuditEvent) -> str | None:
    """Why the event is not as it was sealed (its payload or any field edited), or None."""
    try:
        payload = event.payload
        canonical = canonical_json(payload)
    except ValueError:
        return "payload is not valid JSON (modified)"
    if canonical != event.payload_json:
        return "payload is not in its sealed form (modified)"
    digest = event_hash(
        event.seq,
        time=event.time,
        actor=event.actor,
        kind=event.kind,
        fingerprint=event.fingerprint,
        payload=payload,
        prev_hash=event.prev_hash,
    )
    if digest != event.hash:
        return "content does not match its hash (modified)"
    return None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events `audit list` shows; empty fields do not constrain."""

    since: datetime | None = None
    actor: str | None = None
    kind: str | None = None
    address: str | None = None  # a glob matched against every string in the payload

    def matches(self, event: AuditEvent) -> bool:
        if self.actor is not None and event.actor != self.actor:
            return False
        if self.kind is not None and event.kind != self.kind:
            return False
        if self.since is not None and not _at_or_after(event.time, self.since):
            return False
        return self.address is None or _mentions(event, self.address)


def _at_or_after(stamp: str, since: datetime) -> bool:
    try:
        return parse_iso(stamp) >= since
    except ValueError:
        return True  # a damaged time is shown rather than hidden: verify names what is wrong with it


def _mentions(event: AuditEvent, pattern: str) -> bool:
    try:
        payload = event.payload
    except ValueError:
        return False
    return any(fnmatchcase(text, pattern) for text in _strings(payload))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
