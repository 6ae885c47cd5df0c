"""The store's records held to the audit chain, inside one transaction (the rules: core/ledger.py).

Reading the records that decide a plan's fate first verifies the chain from the store's verified point
(the last event a write verified: usually the head, so this costs two lookups, however long the log),
then each record's event and its neighbours, and that every event of those kinds has its record. Any
disagreement is a StoreError (exit 3): nothing is decided on records the chain does not back.

A new record type (a Kubernetes apply, a rollout, a node cycle) joins the chain's authority so:
1. core/ledger.py: its facts (what its event records of it) and its claims (a row's word on its event);
2. the store appends its event in the same write transaction as its row, the facts merged into the payload
   (`SqlStore._append(conn, draft, facts)`), and keeps the event's seq in the row (an `event_seq`
   BigInteger column, added by a migration that also names the events of existing rows);
3. wherever its rows are read, their claims go through `ChainCheck.require` with the verified head;
4. its event kinds join BOUND_KINDS (so `append` cannot write one without its row) and, when every such
   event must keep its row, the completeness checks (`unclaimed`, and `records_problem` in sql_store.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from guardrail.adapters.store import rows
from guardrail.adapters.store.schema import audit_events, chain_checkpoint
from guardrail.core.audit import GENESIS, AuditEvent, ChainPoint, EventKind, verify_chain
from guardrail.core.errors import StoreError
from guardrail.core.ledger import Claim, claim_problem

# Events that only the store's own methods write, each with its record: `append` refuses them.
BOUND_KINDS = frozenset(
    {
        EventKind.CHECK,
        EventKind.LOCK,
        EventKind.RELEASE,
        EventKind.APPROVAL,
        EventKind.BREAK_GLASS,
        EventKind.BREAK_GLASS_USED,
        EventKind.APPLY_START,
    }
)
# Every event of these kinds must keep its record: deleting a lock's row must not lift the lock.
LOCK_KINDS = (EventKind.LOCK, EventKind.RELEASE)
PLAN_KINDS = (EventKind.APPROVAL, EventKind.BREAK_GLASS, EventKind.BREAK_GLASS_USED)
_CHUNK = 500
_PAGE = 1000


def tampered(where: str, problem: str) -> StoreError:
    return StoreError(
        f"store {where}: {problem}; the store was altered outside guardrail and nothing is decided on it "
        "(guardrail audit verify says what)"
    )


class ChainCheck:
    """The chain and the records, as one transaction on `conn` sees them."""

    def __init__(self, conn: Connection, where: str) -> None:
        self._conn = conn
        self._where = where

    def verified_head(self) -> ChainPoint:
        """The head, once every event since the store's verified point is verified. Raises StoreError
        when the verified point is gone or changed, or an event after it is broken."""
        point = self.checkpoint() or GENESIS
        # The event at the point need only still carry its hash: the events after it are verified from
        # that hash, and the content of any event a record relies on is verified with the record.
        if point.seq and self._links([point.seq]).get(point.seq, ("", ""))[0] != point.hash:
            raise tampered(self._where, f"event {point.seq}, verified earlier, is no longer in the log as it was")
        report = verify_chain(self._events_after(point.seq), start=point)
        if report.broken is not None:
            raise tampered(self._where, f"the audit log is broken at {report.broken}")
        return ChainPoint(report.last_seq, report.head)

    def checkpoint(self) -> ChainPoint | None:
        row = self._conn.execute(sa.select(chain_checkpoint.c.seq, chain_checkpoint.c.hash)).first()
        return None if row is None else ChainPoint(int(row.seq), str(row.hash))

    def advance(self, point: ChainPoint) -> None:
        """Record `point` as verified (in a write transaction, once the event at `point` is written)."""
        moved = self._conn.execute(chain_checkpoint.update().values(seq=point.seq, hash=point.hash))
        if moved.rowcount == 0:
            self._conn.execute(chain_checkpoint.insert().values(id=1, seq=point.seq, hash=point.hash))

    def head_seq(self) -> int:
        return int(self._conn.execute(sa.select(sa.func.max(audit_events.c.seq))).scalar() or 0)

    def require(self, claims: Sequence[Claim], head: ChainPoint) -> None:
        """Raises StoreError unless every claim a decision rests on is backed by the chain, and unless the log
        holds events at all when there are records."""
        # Any record beside an empty log gives it away; otherwise the claims a decision rests on are checked.
        checked = claims if head.seq == 0 else [claim for claim in claims if claim.settles]
        problem = self.claims_problem(checked, head.seq)
        if problem is not None:
            raise tampered(self._where, problem)

    def claims_problem(self, claims: Sequence[Claim], head_seq: int) -> str | None:
        """Why a claim is not backed by the chain (the first one found), or None."""
        if not claims:
            return None
        if head_seq == 0:
            return f"the audit log is empty, but the store holds records ({claims[0].record}, ...)"
        seqs = {claim.seq for claim in claims if claim.seq is not None}
        events = self.events_at(seqs)
        links = self._links({near for seq in seqs for near in (seq - 1, seq + 1)} - seqs)
        links.update((seq, (event.hash, event.prev_hash)) for seq, event in events.items())
        for claim in claims:
            seq = claim.seq or 0
            before, after = links.get(seq - 1), links.get(seq + 1)
            problem = claim_problem(
                claim, events.get(seq), before[0] if before else None, after[1] if after else None, head_seq
            )
            if problem is not None:
                return problem
        return None

    def unclaimed(self, claims: Iterable[Claim], kinds: Collection[str], fingerprint: str | None = None) -> str | None:
        """An event of `kinds` (of the plan `fingerprint`, when given) that no record claims, or None."""
        claimed = {claim.seq for claim in claims}
        query = sa.select(audit_events).where(audit_events.c.kind.in_(kinds)).order_by(audit_events.c.seq)
        if fingerprint is not None:
            query = query.where(audit_events.c.fingerprint == fingerprint)
        for row in self._conn.execute(query):
            if int(row.seq) not in claimed:
                return f"event {row.seq} ({row.kind}{_naming(row.payload)}) has lost its record (deleted)"
        return None

    def first_check(self, fingerprint: str) -> int | None:
        """The seq of the plan's first check: the event that made its author."""
        first = self._conn.execute(
            sa.select(sa.func.min(audit_events.c.seq)).where(
                audit_events.c.fingerprint == fingerprint, audit_events.c.kind == EventKind.CHECK
            )
        ).scalar()
        return None if first is None else int(first)

    def events_at(self, seqs: Collection[int]) -> dict[int, AuditEvent]:
        wanted = sorted(seq for seq in seqs if seq > 0)
        found: dict[int, AuditEvent] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            for row in self._conn.execute(sa.select(audit_events).where(audit_events.c.seq.in_(chunk))):
                found[int(row.seq)] = rows.event_of(row)
        return found

    def _links(self, seqs: Collection[int]) -> dict[int, tuple[str, str]]:
        """The hash and prev_hash of each event at `seqs`: all a neighbour is needed for."""
        wanted = sorted(seq for seq in seqs if seq > 0)
        found: dict[int, tuple[str, str]] = {}
        columns = audit_events.c.seq, audit_events.c.hash, audit_events.c.prev_hash
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            for row in self._conn.execute(sa.select(*columns).where(audit_events.c.seq.in_(chunk))):
                found[int(row.seq)] = (str(row.hash), str(row.prev_hash))
        return found

    def _events_after(self, seq: int) -> Iterator[AuditEvent]:
        cursor = seq
        while True:
            page = self._conn.execute(
                sa.select(audit_events).where(audit_events.c.seq > cursor).order_by(audit_events.c.seq).limit(_PAGE)
            ).all()
            yield from (rows.event_of(row) for row in page)
            if len(page) < _PAGE:
                return
            cursor = int(page[-1].seq)


def _naming(payload_text: str) -> str:
    try:
        payload = json.loads(payload_text)
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    for key in ("lock_id", "pass_id", "workspace"):
        if isinstance(payload.get(key), str):
            return f" ({payload[key]})"
    return ""
