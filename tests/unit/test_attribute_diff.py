"""The before/after diff: changed leaves only, sensitive never shown, unknown never read as null."""

from __future__ import annotations

from guardrail.core.attribute_diff import Difference, Mark, attribute_diff, shown_value
from guardrail.core.change import Action, ResourceChange


def _change(before: object, after: object, **masks: object) -> ResourceChange:
    return ResourceChange(
        address="aws_db_instance.x",
        type="aws_db_instance",
        name="x",
        action=Action.UPDATE,
        actions=("update",),
        before=before,
        after=after,
        **masks,  # type: ignore[arg-type]
    )


def test_only_changed_leaves_by_default_all_on_request() -> None:
    change = _change({"a": 1, "tags": {"k": "v", "old": "x"}}, {"a": 1, "tags": {"k": "w", "new": "y"}})
    found = {(d.path, d.difference) for d in attribute_diff(change)}
    assert found == {
        (("tags", "k"), Difference.CHANGED),
        (("tags", "new"), Difference.ADDED),
        (("tags", "old"), Difference.REMOVED),
    }
    assert (("a",), Difference.UNCHANGED) in {
        (d.path, d.difference) for d in attribute_diff(change, include_unchanged=True)
    }


def test_unknown_after_values_are_marked_even_where_after_has_no_key() -> None:
    change = _change({"id": "i-1", "ips": ["a"]}, {"ips": []}, after_unknown={"id": True, "ips": [True]})
    by_path = {d.path: d for d in attribute_diff(change)}
    assert by_path[("id",)].after is Mark.UNKNOWN
    assert by_path[("ips", 0)].after is Mark.UNKNOWN
    assert by_path[("ips", 0)].difference is Difference.CHANGED


def test_sensitive_sides_are_masked_and_never_called_unchanged() -> None:
    change = _change(
        {"password": "(sensitive value)", "user": "u"},
        {"password": "(sensitive value)", "user": "u"},
        before_sensitive={"password": True},
        after_sensitive={"password": True},
    )
    (entry,) = attribute_diff(change)
    assert (entry.before, entry.after, entry.difference) == (Mark.SENSITIVE, Mark.SENSITIVE, Difference.HIDDEN)


def test_a_create_has_no_before_and_paths_forcing_replacement_are_flagged() -> None:
    change = ResourceChange(
        address="a.b",
        type="a",
        name="b",
        action=Action.REPLACE,
        actions=("delete", "create"),
        before={"zone": "a", "size": 1},
        after={"zone": "b", "size": 1},
        replace_paths=(("zone",),),
    )
    (entry,) = attribute_diff(change)
    assert entry.forces_replacement
    created = attribute_diff(ResourceChange("a.c", "a", "c", Action.CREATE, ("create",), after={"n": None}))
    assert [(d.path, d.before, d.difference) for d in created] == [(("n",), Mark.ABSENT, Difference.ADDED)]


def test_shown_values_are_json_or_words() -> None:
    values: tuple[object, ...] = ("a", 3, None, True, Mark.UNKNOWN, {})
    assert [shown_value(v) for v in values] == [
        '"a"',
        "3",
        "null",
        "true",
        "(known after apply)",
        "{}",
    ]
