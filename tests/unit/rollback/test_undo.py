"""What a rollback plan undoes of the forward apply, from the forward check's record."""

from __future__ import annotations

from guardrail.core.rollback.reversibility import Reversibility, assess
from guardrail.core.rollback.undo import ForwardChange, check_record, compare, forward_changes, remaining_changes
from tests.unit.factories import change, changeset


def test_the_check_record_round_trips_into_forward_changes() -> None:
    forward_plan = changeset(
        change("aws_db_instance.db", ["delete"], before={"skip_final_snapshot": True}),
        change("aws_s3_bucket.logs", ["delete"], before={}),
        change("aws_instance.web", ["update"], before={"a": 1}, after={"a": 2}),
    )
    payload = {
        "addresses": ["aws_db_instance.db", "aws_instance.web", "aws_s3_bucket.logs"],
        "rollback": check_record(assess(forward_plan)),
    }
    assert forward_changes(payload) == [
        ForwardChange(
            "aws_db_instance.db",
            Reversibility.LOSSY,
            "deleted database: it comes back empty (no final snapshot or backup is named)",
        ),
        ForwardChange("aws_instance.web"),
        ForwardChange("aws_s3_bucket.logs", Reversibility.IRREVERSIBLE, forward_changes(payload)[2].reason),
    ]


def test_compare_names_what_is_undone_what_cannot_be_and_what_else_changes() -> None:
    forward = [
        ForwardChange("a.created"),
        ForwardChange("a.left"),
        ForwardChange("db.deleted", Reversibility.LOSSY, "comes back empty"),
        ForwardChange("bucket.deleted", Reversibility.IRREVERSIBLE, "name taken"),
    ]
    rollback = changeset(
        change("a.created", ["delete"], type_="a"),
        change("db.deleted", ["create"], type_="db"),
        change("bucket.deleted", ["create"], type_="bucket"),
        change("drift.other", ["update"], type_="drift"),
        change("a.same", ["no-op"], type_="a"),
    )
    report = compare(forward, rollback)
    assert report.undone == ("a.created",)
    assert [c.address for c in report.cannot_undo] == ["bucket.deleted", "db.deleted"]  # irreversible first
    assert report.untouched == ("a.left",)
    assert report.also_changes == ("drift.other",)
    assert remaining_changes(rollback.changes) == ["a.created", "bucket.deleted", "db.deleted", "drift.other"]


def test_without_a_forward_apply_only_the_rollback_changes_are_known() -> None:
    report = compare(None, changeset(change("a.x", ["create"], type_="a")))
    assert not report.forward_known
    assert report.also_changes == ("a.x",)


def test_an_unknown_class_in_the_log_is_taken_as_irreversible() -> None:
    payload = {"addresses": ["a.b"], "rollback": [{"address": "a.b", "reversibility": "newer-class", "reason": "?"}]}
    assert forward_changes(payload)[0].reversibility is Reversibility.IRREVERSIBLE
