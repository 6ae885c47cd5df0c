"""The verified chain is the authority: rows written, altered or deleted in SQL behind guardrail's back let
nothing through. Each forgery stops the gate (StoreError: exit 3) and `audit verify` names it; on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from guardrail.adapters.store import SqlStore
from guardrail.core.approvals import ApprovalPolicy
from guardrail.core.change import ChangeSet
from guardrail.core.errors import StoreError
from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict
from guardrail.services import approvals, audit, locks
from guardrail.services.approvals import GateResult
from tests.store.conftest import FakeClock
from tests.unit.factories import change

SOFT = Verdict.of([Finding("stateful", Enforcement.SOFT, "aws_db_instance.main", "deletes a database")])
HARD = Verdict.of([Finding("protect", Enforcement.HARD, "aws_db_instance.main", "protected")])
PLAN = ChangeSet(
    "plan.json", "sha256:" + "a" * 64, "1.2", changes=(change("aws_db_instance.main", ["delete"], {}, None),)
)
POLICY = ApprovalPolicy(break_glass=frozenset({"oncall@example.com"}))


def gate(store: SqlStore, clock: FakeClock, verdict: Verdict = SOFT, *, applying: bool = False) -> GateResult:
    return approvals.gate(store, POLICY, PLAN, verdict, "author@example.com", now=clock.now, applying=applying)


def sql(store: SqlStore, statement: str, **values: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement), values)


def refused(store: SqlStore, clock: FakeClock, match: str, verdict: Verdict = SOFT) -> None:
    """The gate stops with a StoreError matching `match`, and `audit verify` says the store is broken."""
    with pytest.raises(StoreError, match=match):
        gate(store, clock, verdict)
    head = store.head()
    report = audit.verify(store, expect_head=head.hash if head else None)
    assert report.broken is not None, "audit verify still says intact"


def test_an_approval_row_inserted_in_sql_lets_nothing_through(store: SqlStore, clock: FakeClock) -> None:
    assert gate(store, clock).settlement.verdict.decision is Decision.NEEDS_APPROVAL
    head = store.head()
    assert head is not None
    sql(
        store,
        "INSERT INTO approvals (fingerprint, actor, time, comment) VALUES (:fp, 'mallory', :t, 'trust me')",
        fp=PLAN.fingerprint,
        t="2030-01-02T03:04:06.000000Z",
    )
    # The pinned head is still the head: only the records can tell, and they do.
    report = audit.verify(store, expect_head=head.hash, exact=True)
    assert report.broken is not None
    assert "approval of sha256:" in str(report.broken)
    assert "by mallory: no event of the audit log records it" in str(report.broken)
    refused(store, clock, "by mallory: no event of the audit log records it")


def test_an_approval_row_pointing_at_another_event_is_refused(store: SqlStore, clock: FakeClock) -> None:
    gate(store, clock)
    approvals.approve(store, POLICY, PLAN.fingerprint, "bob@example.com", clock.now, comment="ok")
    # Borrow bob's approval event for mallory's row: the event's actor says otherwise.
    sql(store, "UPDATE approvals SET actor = 'mallory'")
    refused(store, clock, r"its event 2 says otherwise \(actor\)")


def test_deleting_the_lock_rows_lifts_no_lock(store: SqlStore, clock: FakeClock) -> None:
    locks.add_lock(store, "carol@example.com", clock.now, reason="freeze", type_="aws_db_instance")
    assert [lock.id for lock in store.locks()]
    sql(store, "DELETE FROM locks")
    with pytest.raises(StoreError, match=r"event 1 \(lock \(lk-[0-9a-f]+\)\) has lost its record"):
        store.locks()
    refused(store, clock, "has lost its record")


@pytest.mark.parametrize(
    ("forgery", "fact"),
    [
        ("UPDATE locks SET released_at = :t, released_by = 'mallory', release_reason = 'x'", "release of lock"),
        ("UPDATE locks SET expires_at = :t", r"says otherwise \(expires_at\)"),
        ("UPDATE locks SET pattern = 'nothing_matches_this'", r"says otherwise \(pattern\)"),
    ],
)
def test_a_lock_row_altered_to_lift_the_lock_is_refused(
    store: SqlStore, clock: FakeClock, forgery: str, fact: str
) -> None:
    locks.add_lock(store, "carol@example.com", clock.now, reason="freeze", type_="aws_db_instance")
    sql(store, forgery, t="2030-01-01T00:00:00.000000Z")  # in the past: the lock would be over
    refused(store, clock, fact)


def test_deleting_every_event_is_not_an_intact_empty_log(store: SqlStore, clock: FakeClock) -> None:
    locks.add_lock(store, "carol@example.com", clock.now, reason="freeze", type_="aws_db_instance")
    gate(store, clock)
    approvals.approve(store, POLICY, PLAN.fingerprint, "bob@example.com", clock.now)
    sql(store, "DELETE FROM audit_events")
    report = audit.verify(store)
    assert report.broken is not None
    assert "verified it up to event 3" in str(report.broken)
    refused(store, clock, "verified earlier, is no longer in the log")
    # With the store's verified point deleted as well, the records still give it away.
    sql(store, "DELETE FROM chain_checkpoint")
    report = audit.verify(store)
    assert report.broken is not None
    assert "the audit log is empty, but the store holds records" in str(report.broken)
    refused(store, clock, "the audit log is empty, but the store holds records")


def test_a_break_glass_pass_inserted_in_sql_never_lets_a_denied_plan_through(store: SqlStore, clock: FakeClock) -> None:
    gate(store, clock, HARD)
    sql(
        store,
        "INSERT INTO break_glass (id, fingerprint, actor, reason, created_at, expires_at) "
        "VALUES ('bg-forged', :fp, 'oncall@example.com', 'hurry', :t0, :t1)",
        fp=PLAN.fingerprint,
        t0="2030-01-02T03:04:05.000000Z",
        t1="2030-01-02T05:04:05.000000Z",
    )
    with pytest.raises(StoreError, match="break-glass pass bg-forged: no event"):
        gate(store, clock, HARD, applying=True)
    assert audit.verify(store).broken is not None


def test_a_spent_pass_made_unused_again_is_refused(store: SqlStore, clock: FakeClock) -> None:
    gate(store, clock, HARD)
    grant = approvals.break_glass(store, POLICY, PLAN.fingerprint, "oncall@example.com", reason="dns", now=clock.now)
    approvals.use_break_glass(store, grant, "author@example.com", clock.now)
    sql(store, "UPDATE break_glass SET used_at = NULL, used_seq = NULL")
    refused(store, clock, r"event \d+ \(break-glass-used \(bg-[0-9a-f]+\)\) has lost its record", HARD)


@pytest.mark.parametrize(
    ("forgery", "expected"),
    [
        ("UPDATE plans SET author = 'bob@example.com'", r"author of plan .*: its event 1 says otherwise \(actor\)"),
        ("DELETE FROM plans", "was first checked at event 1, but its author record is missing"),
    ],
)
def test_a_plan_author_changed_in_sql_is_refused(
    store: SqlStore, clock: FakeClock, forgery: str, expected: str
) -> None:
    # Changing the author would let the real author approve their own plan (as "bob" is no longer it).
    gate(store, clock)
    sql(store, forgery)
    refused(store, clock, expected)


def test_an_event_edited_behind_a_record_is_refused_even_before_the_verified_point(
    store: SqlStore, clock: FakeClock
) -> None:
    locks.add_lock(store, "carol@example.com", clock.now, reason="freeze", type_="aws_db_instance")
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        gate(store, clock)  # later events: the lock's event is well behind the store's verified point
    sql(store, "UPDATE audit_events SET payload = replace(payload, 'aws_db_instance', 'nothing') WHERE seq = 1")
    sql(store, "UPDATE locks SET pattern = 'nothing'")
    refused(store, clock, "lock lk-.*: its event 1: content does not match its hash")


def test_untouched_stores_verify_and_decide(store: SqlStore, clock: FakeClock) -> None:
    locks.add_lock(store, "carol@example.com", clock.now, reason="freeze", type_="other_type")
    gate(store, clock)
    approvals.approve(store, POLICY, PLAN.fingerprint, "bob@example.com", clock.now)
    grant = approvals.break_glass(store, POLICY, PLAN.fingerprint, "oncall@example.com", reason="dns", now=clock.now)
    approvals.use_break_glass(store, grant, "author@example.com", clock.now)
    lock = store.locks()[0]
    locks.release_lock(store, "dave@example.com", lock.id, "thaw", clock.now)
    assert gate(store, clock).settlement.verdict.decision is Decision.ALLOW
    assert audit.verify(store).ok
    assert store.records_problem() is None
