"""The store opened in a forked helper process behaves as the in-process store: results, errors, secrets."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardrail.adapters.store import open_store
from guardrail.adapters.store_helper import StoreHelper
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.errors import BadInputError, StoreError, StoreMissingError
from guardrail.core.locks import new_lock

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def helper() -> StoreHelper:
    started = StoreHelper.start()
    if started is None:
        pytest.fail("the test process runs more than one thread: the helper would not fork")
    return started


def test_calls_are_answered_by_the_store_in_the_helper(store_url: str, tmp_path: Path) -> None:
    forwarded = helper().open(store_url, cwd=tmp_path)
    try:
        lock = new_lock("lk-1", "alice@example.com", "freeze", NOW, address="module.db.*")
        event = forwarded.add_lock(lock, EventDraft("alice@example.com", EventKind.LOCK, {"lock_id": "lk-1"}))
        assert event.seq == 1
        assert [found.id for found in forwarded.locks()] == ["lk-1"]
        assert [e.seq for e in forwarded.events()] == [1]  # an iterator arrives as a list
        assert forwarded.plan_author("sha256:none") is None
        description = forwarded.description
    finally:
        forwarded.close()
    # Written for real: a store opened here sees it, and names itself the same way.
    direct = open_store(store_url, cwd=tmp_path)
    try:
        assert [found.id for found in direct.locks()] == ["lk-1"]
        assert description == direct.description
    finally:
        direct.close()


def test_errors_arrive_as_the_same_exceptions(store_url: str, tmp_path: Path) -> None:
    forwarded = helper().open(store_url, cwd=tmp_path)
    try:
        with pytest.raises(BadInputError, match="no such lock"):
            forwarded.release_lock("lk-nope", "bob", "done", NOW, EventDraft("bob", EventKind.RELEASE, {}))
    finally:
        forwarded.close()


def test_a_store_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_text("not a database")
    with pytest.raises(StoreError, match="file is not a database"):
        helper().open(f"sqlite:///{broken}", cwd=tmp_path)


def test_secrets_given_at_open_are_scrubbed_from_payloads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    forwarded = helper().open(url, cwd=tmp_path, literals=frozenset({"hunter2-secret"}), create=True)
    try:
        event = forwarded.append(EventDraft("alice", EventKind.APPLY_END, {"message": "password hunter2-secret"}))
    finally:
        forwarded.close()
    assert "hunter2-secret" not in str(event.payload)
    assert b"hunter2-secret" not in (tmp_path / "g.db").read_bytes()


def test_a_store_that_does_not_exist_is_not_created_by_the_helper(tmp_path: Path) -> None:
    with pytest.raises(StoreMissingError, match="no such store"):
        helper().open(f"sqlite:///{tmp_path / 'typo.db'}", cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_helper_that_dies_is_a_store_error_not_a_hang(tmp_path: Path) -> None:
    started = helper()
    os.kill(started._pid, signal.SIGKILL)
    with pytest.raises(StoreError, match="ended unexpectedly"):
        started.open(f"sqlite:///{tmp_path / 'g.db'}", cwd=tmp_path)


def test_an_unused_helper_is_ended_and_reaped() -> None:
    started = helper()
    pid = started._pid
    started.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_an_interrupt_while_the_helper_waits_on_the_database_ends_it_at_once(tmp_path: Path) -> None:
    database = tmp_path / "g.db"
    forwarded = helper().open(f"sqlite:///{database}", cwd=tmp_path, create=True)
    pid = forwarded._pid
    blocker = sqlite3.connect(database)
    blocker.execute("BEGIN EXCLUSIVE")  # the helper's write now waits (its busy timeout is a minute)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            forwarded.append(EventDraft("alice", EventKind.APPLY_END, {}))
        forwarded.close()  # nothing left to wait for
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        blocker.rollback()
        blocker.close()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_the_gate_through_the_helper_records_and_reads_as_in_process(store_url: str, tmp_path: Path) -> None:
    from guardrail.core.approvals import ApprovalPolicy
    from guardrail.core.change import ChangeSet
    from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict
    from guardrail.services import approvals

    plan = ChangeSet("plan.json", "sha256:" + "c" * 64, "1.2")
    soft = Verdict.of([Finding("stateful", Enforcement.SOFT, None, "deletes a database")])
    forwarded = helper().open(store_url, cwd=tmp_path)
    try:
        first = approvals.gate(forwarded, ApprovalPolicy(), plan, soft, "alice@example.com", now=NOW)
        approvals.approve(forwarded, ApprovalPolicy(), plan.fingerprint, "bob@example.com", NOW)
        second = approvals.gate(forwarded, ApprovalPolicy(), plan, soft, "carol@example.com", now=NOW)
        standing = forwarded.standing(plan.fingerprint)
        assert forwarded.records_problem() is None
        point = forwarded.verified_point()
    finally:
        forwarded.close()
    assert (first.author, second.author) == ("alice@example.com", "alice@example.com")
    assert second.settlement.verdict.decision is Decision.ALLOW
    assert (standing.author, [a.actor for a in standing.approvals]) == ("alice@example.com", ["bob@example.com"])
    assert point is not None
    assert point.seq == 3
