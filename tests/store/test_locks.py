"""Resource locks: matching, expiry, the rule's findings, and the lock service on both dialects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guardrail.adapters.store import SqlStore
from guardrail.core.change import ResourceChange
from guardrail.core.errors import BadInputError
from guardrail.core.locks import Lock, LockTarget, new_lock, parse_duration, parse_tag
from guardrail.core.matching import Match
from guardrail.core.policy import evaluate
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.verdict import Decision, Enforcement, Verdict
from guardrail.services import audit, locks
from tests.store.conftest import FakeClock
from tests.unit.factories import change, changeset

NOW = FakeClock().now


def _lock(**target: str | None) -> Lock:
    return new_lock(
        "lk-1",
        "alice@example.com",
        "quarter-end freeze",
        NOW,
        address=target.get("address"),
        type_=target.get("type_"),
        tag=target.get("tag"),
    )


@pytest.mark.parametrize(
    ("target", "resource", "expected"),
    [
        ({"address": "module.prod.*"}, change("module.prod.aws_db_instance.main", ["update"], {}, {}), Match.YES),
        ({"address": "module.prod.*"}, change("module.dev.aws_db_instance.main", ["update"], {}, {}), Match.NO),
        ({"type_": "aws_db_instance"}, change("aws_db_instance.main", ["delete"], {}, None), Match.YES),
        ({"type_": "aws_db_instance"}, change("aws_s3_bucket.main", ["delete"], {}, None), Match.NO),
        ({"tag": "env=prod"}, change("aws_s3_bucket.b", ["delete"], {"tags": {"env": "prod"}}, None), Match.YES),
        ({"tag": "env = prod"}, change("aws_s3_bucket.b", ["create"], None, {"labels": {"env": "prod"}}), Match.YES),
        ({"tag": "env=prod"}, change("aws_s3_bucket.b", ["update"], {"tags": {"env": "dev"}}, {}), Match.NO),
        (
            {"tag": "env=prod"},
            change("aws_s3_bucket.b", ["create"], None, {"tags": None}, after_unknown={"tags": True}),
            Match.UNKNOWN,
        ),
    ],
)
def test_a_lock_matches_by_address_glob_type_or_tag(
    target: dict[str, str], resource: ResourceChange, expected: Match
) -> None:
    assert _lock(**target).matches(resource) is expected


def test_a_lock_follows_a_moved_resource() -> None:
    moved = change("aws_db_instance.renamed", ["update"], {}, {}, previous_address="aws_db_instance.main")
    assert _lock(address="aws_db_instance.main").matches(moved) is Match.YES


@pytest.mark.parametrize("actions", [["no-op"], ["read"]])
def test_reads_and_no_ops_are_never_blocked(actions: list[str]) -> None:
    assert _lock(type_="aws_db_instance").matches(change("aws_db_instance.main", actions, {}, {})) is Match.NO


def test_expired_and_released_locks_stop_applying() -> None:
    lock = new_lock("lk-2", "alice", "freeze", NOW, type_="aws_db_instance", expires_in=timedelta(hours=2))
    assert lock.is_active(NOW + timedelta(hours=1, minutes=59))
    assert not lock.is_active(NOW + timedelta(hours=2))
    from dataclasses import replace

    assert not replace(lock, released_at=NOW).is_active(NOW)


def test_the_rule_gives_a_hard_finding_naming_lock_owner_and_reason() -> None:
    rule = ActiveLocksRule([_lock(address="aws_db_instance.*")], NOW)
    plan = changeset(
        change("aws_db_instance.main", ["delete", "create"], {}, {}),
        change("aws_db_instance.replica", ["no-op"], {}, {}),
        change("aws_s3_bucket.logs", ["update"], {}, {}),
    )
    findings = evaluate(plan, [rule])
    assert [f.address for f in findings] == ["aws_db_instance.main"]
    finding = findings[0]
    assert finding.enforcement is Enforcement.HARD
    assert finding.rule == "lock"
    for needed in ("lk-1", "alice@example.com", "quarter-end freeze", "replace"):
        assert needed in finding.message
    assert Verdict.of(findings).decision is Decision.DENY


def test_the_rule_ignores_expired_locks_and_is_soft_on_unknown_tags() -> None:
    expired = new_lock(
        "lk-3", "bob", "old", NOW - timedelta(days=1), type_="aws_s3_bucket", expires_in=timedelta(hours=1)
    )
    unknown = change("aws_s3_bucket.b", ["create"], None, {"tags": None}, after_unknown={"tags": True})
    findings = evaluate(changeset(unknown), [ActiveLocksRule([expired, _lock(tag="env=prod")], NOW)])
    assert len(findings) == 1
    assert findings[0].enforcement is Enforcement.SOFT
    assert findings[0].unknown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1w", timedelta(7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-1h", "0m", "2h later"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(BadInputError, match="duration"):
        parse_duration(text)


def test_bad_lock_requests_are_refused() -> None:
    with pytest.raises(BadInputError, match="exactly one"):
        new_lock("x", "a", "r", NOW)
    with pytest.raises(BadInputError, match="exactly one"):
        new_lock("x", "a", "r", NOW, address="a.*", type_="t")
    with pytest.raises(BadInputError, match="reason"):
        new_lock("x", "a", "  ", NOW, type_="t")
    with pytest.raises(BadInputError, match="key=value"):
        parse_tag("env")


# -- the service on a real store -------------------------------------------------------------------------


def test_add_list_release_and_audit(store: SqlStore, clock: FakeClock) -> None:
    held = locks.add_lock(store, "alice", clock.now, reason="migration", tag="team=db", expires_in=timedelta(hours=2))
    clock.advance(timedelta(minutes=1))
    other = locks.add_lock(store, "bob", clock.now, reason="freeze", address="module.prod.*")
    assert held.id.startswith("lk-")
    assert held.id != other.id
    assert held.target is LockTarget.TAG
    assert held.pattern == "team=db"
    assert [lk.id for lk in locks.list_locks(store, clock.now)] == [held.id, other.id]
    assert store.lock(held.id) == held

    released = locks.release_lock(store, "carol", other.id, "done", clock.now)
    assert (released.released_by, released.release_reason, released.released_at) == ("carol", "done", clock.now)
    assert [lk.id for lk in locks.list_locks(store, clock.now)] == [held.id]
    assert len(locks.list_locks(store, clock.now, include_inactive=True)) == 2

    with pytest.raises(BadInputError, match="already released"):
        locks.release_lock(store, "carol", other.id, "again", clock.now)
    with pytest.raises(BadInputError, match="no such lock"):
        locks.release_lock(store, "carol", "lk-nope", "x", clock.now)

    clock.advance(timedelta(hours=2))
    assert locks.list_locks(store, clock.now) == []  # expired, two hours after it was added

    events = list(audit.list_events(store))
    assert [(e.kind, e.actor) for e in events] == [("lock", "alice"), ("lock", "bob"), ("release", "carol")]
    assert events[2].payload["lock_id"] == other.id
    assert events[2].payload["release_reason"] == "done"
    assert audit.verify(store).ok


def test_the_rule_from_the_store_blocks_until_release(store: SqlStore, clock: FakeClock) -> None:
    lock = locks.add_lock(store, "alice", clock.now, reason="incident 42", type_="aws_db_instance")
    plan = changeset(change("aws_db_instance.main", ["update"], {}, {}))
    assert Verdict.of(evaluate(plan, [locks.locks_rule(store, clock.now)])).decision is Decision.DENY
    locks.release_lock(store, "alice", lock.id, "resolved", clock.now)
    assert evaluate(plan, [locks.locks_rule(store, clock.now)]) == []
