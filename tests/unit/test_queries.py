"""The filters operators type for changes and audit events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.errors import BadInputError
from guardrail.core.queries import (
    ChangeQuery,
    filter_groups,
    parse_change_query,
    parse_event_query,
    review_rows,
)
from guardrail.core.verdict import Enforcement, Finding


def _change(address: str, action: Action, type_: str = "aws_instance", moved: str | None = None) -> ResourceChange:
    return ResourceChange(address, type_, address.rsplit(".", 1)[-1], action, (action.value,), previous_address=moved)


CHANGES = ChangeSet(
    "plan.json",
    "sha256:x",
    "1.2",
    changes=(
        _change("aws_instance.web", Action.UPDATE),
        _change("aws_db_instance.orders", Action.REPLACE, "aws_db_instance"),
        _change("module.db.aws_db_instance.main", Action.DELETE, "aws_db_instance", moved="aws_db_instance.old"),
        _change("aws_s3_bucket.logs", Action.CREATE, "aws_s3_bucket"),
    ),
)
FINDINGS = (
    Finding("protect", Enforcement.HARD, "aws_db_instance.old", "protected"),
    Finding("stateful", Enforcement.SOFT, "aws_db_instance.orders", "data"),
    Finding("tags", Enforcement.ADVISORY, None, "plan-wide"),
)


def _listed(text: str) -> list[str]:
    groups = filter_groups(review_rows(CHANGES, FINDINGS), parse_change_query(text))
    return [row.change.address for group in groups for row in group.rows]


def test_groups_put_deletions_first_and_keep_findings_across_moves() -> None:
    groups = review_rows(CHANGES, FINDINGS)
    assert [action for action, _ in groups] == [Action.DELETE, Action.REPLACE, Action.UPDATE, Action.CREATE]
    deleted = groups[0][1][0]
    assert deleted.worst is Enforcement.HARD  # the finding is on the address before the move


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["module.db.aws_db_instance.main", "aws_db_instance.orders", "aws_instance.web", "aws_s3_bucket.logs"]),
        ("ORDERS", ["aws_db_instance.orders"]),
        ("action:delete,create", ["module.db.aws_db_instance.main", "aws_s3_bucket.logs"]),
        ("type:aws_db_instance", ["module.db.aws_db_instance.main", "aws_db_instance.orders"]),
        ("type:aws_*_instance finding:hard", ["module.db.aws_db_instance.main"]),
        ("finding:any", ["module.db.aws_db_instance.main", "aws_db_instance.orders"]),
        ("aws_db_instance.old", ["module.db.aws_db_instance.main"]),  # the address before the move
        ("module.* main", ["module.db.aws_db_instance.main"]),
    ],
)
def test_change_filters(text: str, expected: list[str]) -> None:
    assert _listed(text) == expected


def test_group_totals_count_the_whole_plan() -> None:
    groups = filter_groups(review_rows(CHANGES, FINDINGS), ChangeQuery(words=("nothing-matches",)))
    assert groups == []


@pytest.mark.parametrize("text", ["action:destroy", "finding:fatal", "colour:red"])
def test_bad_change_filters_say_what_is_allowed(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_change_query(text)


def test_a_colon_inside_an_address_is_text() -> None:
    assert parse_change_query('x["a:b"]').words == ('x["a:b"]',)


def test_event_filters() -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    selection = parse_event_query("actor:bob kind:approval address:module.db.* since:2h", now)
    assert (selection.actor, selection.kind, selection.address) == ("bob", "approval", "module.db.*")
    assert selection.since == now - timedelta(hours=2)
    assert parse_event_query("since:2025-02-01", now).since == datetime(2025, 2, 1, tzinfo=UTC)
    for bad in ("bob", "kind:nope", "since:yesterday"):
        with pytest.raises(BadInputError):
            parse_event_query(bad, now)
