"""The audit hash chain: sealing, verification, pinned heads, filters, export; on both dialects."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import pytest

from guardrail.adapters.store import SqlStore
from guardrail.core.audit import (
    GENESIS_HASH,
    AuditEvent,
    EventDraft,
    EventFilter,
    canonical_json,
    event_hash,
    seal,
    verify_chain,
)
from guardrail.core.errors import BadInputError
from guardrail.core.secrets import Scrubber
from guardrail.services import audit
from tests.store.conftest import FakeClock


def _chain(n: int) -> list[AuditEvent]:
    clock = FakeClock()
    events: list[AuditEvent] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        draft = EventDraft(f"user{seq % 3}@example.com", "check", {"n": seq, "addresses": [f"aws_s3_bucket.b{seq}"]})
        events.append(seal(draft, seq, clock.advance(timedelta(seconds=1)), prev))
        prev = events[-1].hash
    return events


def test_hash_covers_every_field_and_the_previous_hash() -> None:
    fields = {"time": "t", "actor": "a", "kind": "k", "fingerprint": "f", "payload": {"x": 1}, "prev_hash": "p"}
    base = event_hash(1, **fields)  # type: ignore[arg-type]
    assert event_hash(2, **fields) != base  # type: ignore[arg-type]
    for name, other in [("time", "u"), ("actor", "b"), ("kind", "l"), ("fingerprint", None), ("payload", {"x": 2})]:
        assert event_hash(1, **{**fields, name: other}) != base  # type: ignore[arg-type]
    assert event_hash(1, **{**fields, "prev_hash": "q"}) != base  # type: ignore[arg-type]


def test_canonical_json_is_independent_of_key_order_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1}) == '{"a":[1,"é"],"b":1}'
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    events = _chain(5)
    report = verify_chain(events)
    assert report.ok
    assert (report.count, report.last_seq, report.head) == (5, 5, events[-1].hash)
    assert verify_chain([]).head == GENESIS_HASH


@pytest.mark.parametrize("position", [0, 2, 4])
def test_a_modified_event_is_named(position: int) -> None:
    events = _chain(5)
    events[position] = replace(events[position], actor="mallory@example.com")
    report = verify_chain(events)
    assert report.broken is not None
    assert report.broken.seq == position + 1
    assert "modified" in report.broken.reason


def test_a_deleted_event_is_named_as_missing() -> None:
    events = _chain(5)
    del events[2]
    report = verify_chain(events)
    assert report.broken is not None
    assert report.broken.seq == 3
    assert "missing" in report.broken.reason


def test_reordered_events_are_named_at_the_first_moved_one() -> None:
    events = _chain(5)
    events[1], events[3] = events[3], events[1]
    report = verify_chain(events)
    assert report.broken is not None
    assert report.broken.seq == 2


def test_a_forged_event_with_a_valid_hash_is_caught_at_the_next_one() -> None:
    events = _chain(4)
    forged = seal(EventDraft("mallory", "approval", {}), 3, FakeClock().now, events[1].hash)
    shifted = [replace(e, seq=e.seq + 1) for e in events[2:]]
    report = verify_chain([*events[:2], forged, *shifted])
    assert report.broken is not None
    assert report.broken.seq == 4


def test_truncation_is_caught_only_against_a_pinned_head() -> None:
    events = _chain(5)
    pinned = events[-1].hash
    assert verify_chain(events[:-1]).ok  # without a pin a truncated log looks whole: why heads are pinned
    report = verify_chain(events[:-1], expect_head=pinned)
    assert report.broken is not None
    assert report.broken.seq == 5
    assert "removed" in report.broken.reason
    assert verify_chain(events, expect_head="sha256:" + pinned.upper()).ok


def test_a_log_that_grew_after_the_pin_still_verifies_unless_exact() -> None:
    events = _chain(5)
    grown = verify_chain(events, expect_head=events[2].hash)
    assert grown.ok
    assert grown.notes == ("2 event(s) recorded after the pinned head",)
    exact = verify_chain(events, expect_head=events[2].hash, exact=True)
    assert exact.broken is not None
    assert exact.broken.seq == 6


def test_payload_strings_are_scrubbed_before_sealing() -> None:
    draft = EventDraft("a", "check", {"message": "password is hunter2!", "hunter2": ["x hunter2"]})
    event = seal(draft, 1, FakeClock().now, GENESIS_HASH, Scrubber(["hunter2"]))
    assert "hunter2" not in event.payload_json
    assert verify_chain([event]).ok


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        seal(EventDraft("a", "k", {}), 1, FakeClock().now.replace(tzinfo=None), GENESIS_HASH)


# -- on a real store ------------------------------------------------------------------------------------


def test_appends_form_a_verifiable_chain_that_survives_reopening(store: SqlStore, reopen) -> None:  # type: ignore[no-untyped-def]
    for i in range(7):
        store.append(EventDraft("alice@example.com", "note", {"i": i, "nested": {"list": [1, 2.5, None, True]}}))
    again = reopen()
    events = list(again.events())
    assert [e.seq for e in events] == list(range(1, 8))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
    report = audit.verify(again, expect_head=events[-1].hash, exact=True)
    assert report.ok, report.broken
    assert again.head() == events[-1]
    assert again.event(3) == events[2]
    assert again.event(99) is None


def test_times_are_utc_iso_and_follow_the_store_clock(store: SqlStore, clock: FakeClock) -> None:
    first = store.append(EventDraft("a", "note", {}))
    clock.advance(timedelta(minutes=5))
    second = store.append(EventDraft("a", "note", {}))
    assert first.time == "2030-01-02T03:04:05.000000Z"
    assert second.time == "2030-01-02T03:09:05.000000Z"


def test_list_filters_by_since_actor_kind_and_address(store: SqlStore, clock: FakeClock) -> None:
    # Kinds the store writes only with their records (check, lock, approval) are not appended bare.
    store.append(EventDraft("alice", "note", {"addresses": ["aws_s3_bucket.logs"]}, "sha256:1"))
    clock.advance(timedelta(hours=1))
    cut = clock.now
    store.append(EventDraft("bob", "memo", {"pattern": "module.prod.*", "address": "module.prod.*"}))
    store.append(EventDraft("alice", "remark", {"comment": "ok"}, "sha256:1"))

    def seqs(selection: EventFilter) -> list[int]:
        return [e.seq for e in audit.list_events(store, selection)]

    assert seqs(EventFilter()) == [1, 2, 3]
    assert seqs(EventFilter(since=cut)) == [2, 3]
    assert seqs(EventFilter(actor="alice")) == [1, 3]
    assert seqs(EventFilter(kind="memo")) == [2]
    assert seqs(EventFilter(address="aws_s3_bucket.*")) == [1]
    assert seqs(EventFilter(address="module.prod.*")) == [2]


def test_show_and_export(store: SqlStore) -> None:
    store.append(EventDraft("alice", "note", {"addresses": ["a.b"]}, "sha256:1"))
    store.append(EventDraft("bob", "remark", {"comment": "lgtm ✓"}, "sha256:1"))
    assert audit.show(store, 2).actor == "bob"
    with pytest.raises(BadInputError, match="no such event"):
        audit.show(store, 3)
    lines = list(audit.export_jsonl(store))
    assert len(lines) == 2
    assert all(line.endswith("\n") for line in lines)
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == [1, 2]
    assert records[1]["payload"] == {"comment": "lgtm ✓"}
    assert set(records[0]) == {"seq", "time", "actor", "kind", "fingerprint", "payload", "prev_hash", "hash"}
    assert records[1]["prev_hash"] == records[0]["hash"]


def test_paging_reads_long_logs_in_order(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrail.adapters.store import ledger, sql_store

    monkeypatch.setattr(sql_store, "_PAGE", 4)
    monkeypatch.setattr(ledger, "_PAGE", 4)
    for i in range(10):  # several pages, the last one partial
        store.append(EventDraft("a", "note", {"i": i}))
    report = audit.verify(store)
    assert report.ok
    assert report.count == 10
    assert [e.seq for e in store.events(after_seq=7)] == [8, 9, 10]


def test_events_of_one_kind_come_in_seq_order_across_pages(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(5):
        store.append(EventDraft("a", "rollback-plan", {"n": number}))
        store.append(EventDraft("a", "apply-end", {"n": number}))
    monkeypatch.setattr("guardrail.adapters.store.sql_store._PAGE", 2)  # pages of the kind, other kinds between
    found = list(store.events_of_kind("apply-end"))
    assert [e.payload["n"] for e in found] == [0, 1, 2, 3, 4]
    assert [e.seq for e in found] == [2, 4, 6, 8, 10]
    newest = list(store.events_of_kind("apply-end", newest_first=True))
    assert [e.seq for e in newest] == [10, 8, 6, 4, 2]
    assert list(store.events_of_kind("lock")) == []


def test_events_of_one_kind_and_one_plan_come_through_the_plan_index(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(6):
        plan = "sha256:1" if number % 2 else "sha256:2"
        store.append(EventDraft("a", "rollback-plan", {"n": number}, plan))
        store.append(EventDraft("a", "apply-end", {"n": number}, plan))
    monkeypatch.setattr("guardrail.adapters.store.sql_store._PAGE", 2)  # across pages, the other plan between
    newest = list(store.events_of_kind("apply-end", newest_first=True, fingerprint="sha256:1"))
    assert [(e.seq, e.payload["n"]) for e in newest] == [(12, 5), (8, 3), (4, 1)]
    oldest = list(store.events_of_kind("rollback-plan", fingerprint="sha256:2"))
    assert [(e.seq, e.payload["n"]) for e in oldest] == [(1, 0), (5, 2), (9, 4)]
    assert list(store.events_of_kind("apply-end", fingerprint="sha256:3")) == []


@pytest.mark.parametrize(
    "kind", ["check", "lock", "release", "approval", "break-glass", "break-glass-used", "apply-start"]
)
def test_events_that_record_a_decision_are_written_only_with_their_record(store: SqlStore, kind: str) -> None:
    with pytest.raises(ValueError, match="written with its record"):
        store.append(EventDraft("mallory", kind, {"comment": "trust me"}, "sha256:1"))
    assert store.head() is None


def test_the_stored_hash_is_the_sealed_one_until_anything_changes() -> None:
    from guardrail.core.audit import stored_hash

    events = _chain(3)
    assert [stored_hash(event) for event in events] == [event.hash for event in events]
    edited = replace(events[1], payload_json=events[1].payload_json.replace('"n":2', '"n":3'))
    spaced = replace(events[1], payload_json=events[1].payload_json.replace(",", ", "))  # same data, not as sealed
    renamed = replace(events[1], actor="mallory@example.com")
    assert all(stored_hash(event) != events[1].hash for event in (edited, spaced, renamed))
