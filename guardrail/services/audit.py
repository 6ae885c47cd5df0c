"""Reading and verifying the audit log: list, show, export, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

from guardrail.core.audit import AuditEvent, ChainReport, EventFilter, verify_chain
from guardrail.core.errors import BadInputError
from guardrail.core.store_ports import AuditStore


def list_events(store: AuditStore, selection: EventFilter | None = None) -> Iterator[AuditEvent]:
    """The events matching `selection`, oldest first. A payload that no longer parses is still listed
    when no address filter applies (verify says what is wrong with it)."""
    wanted = selection or EventFilter()
    return (event for event in store.events() if wanted.matches(event))


def show(store: AuditStore, seq: int) -> AuditEvent:
    """The event at `seq`. Raises BadInputError when there is none."""
    if not 1 <= seq < 2**63:  # beyond what either database's integer holds: there is no such event
        raise BadInputError(f"audit event {seq}: no such event")
    event = store.event(seq)
    if event is None:
        raise BadInputError(f"audit event {seq}: no such event")
    return event


def export_jsonl(store: AuditStore) -> Iterator[str]:
    """One JSON object per event (with a newline), as stored: seq, time, actor, kind, fingerprint,
    payload, prev_hash, hash. A payload that does not parse is exported as its raw text under
    `payload_raw`, so an export of a damaged log still shows everything."""
    for event in store.events():
        yield json.dumps(as_record(event), ensure_ascii=False, sort_keys=True) + "\n"


def as_record(event: AuditEvent) -> dict[str, object]:
    """The event as a dict (see export_jsonl): its payload parsed, or as `payload_raw` when damaged."""
    try:
        return event.to_dict()
    except ValueError:
        return {**event.header(), "payload_raw": event.payload_json}


def verify(store: AuditStore, expect_head: str | None = None, *, exact: bool = False) -> ChainReport:
    """Check the whole chain (see guardrail.core.audit.verify_chain), that it still holds the point the
    store verified it to, and that the store's records agree with it: `report.ok` false means exit 1, and
    `report.broken` names the first broken event or disagreeing record. Raises StoreError when the store
    fails."""
    verified = store.verified_point()  # read first: events written meanwhile only extend the chain
    report = verify_chain(store.events(), expect_head, exact=exact, verified=verified)
    if not report.ok:
        return report
    problem = store.records_problem()
    return report if problem is None else replace(report, broken=problem)
