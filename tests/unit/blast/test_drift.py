"""Drift the plan would revert, on the corpus' drift plans and on hand-made ones."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.drift import reverted_drift
from guardrail.core.rules.drift import DriftRule, DriftSettings
from guardrail.core.values import format_path
from guardrail.core.verdict import Enforcement
from tests.unit.blast.helpers import corpus_file
from tests.unit.factories import change, changeset


def test_opentofu_drift_plan() -> None:
    # should_refresh: ami "refresh-me" became "refreshed" outside Terraform; the plan sets it to "baz".
    cs = parse_plan(corpus_file("opentofu/drift.json").read_bytes(), "drift.json").changeset
    (reverted,) = reverted_drift(cs)
    assert reverted.address == "test_instance.should_refresh"
    assert [a.dotted for a in reverted.attributes] == ["ami"]
    assert reverted.attributes[0].certain
    (finding,) = DriftRule().evaluate(cs)
    assert finding.enforcement is Enforcement.ADVISORY
    assert finding.message == "update would revert changes made outside Terraform to ami"
    assert "refresh" not in finding.message  # values never appear


def test_opentofu_moved_drift_plan_is_matched_across_the_move() -> None:
    cs = parse_plan(corpus_file("opentofu/moved-drift.json").read_bytes(), "moved-drift.json").changeset
    assert [(r.address, [a.dotted for a in r.attributes]) for r in reverted_drift(cs)] == [
        ("test_instance.should_refresh_with_move", ["ami"])
    ]


def drift(address: str, before: Any, after: Any) -> dict[str, Any]:
    return {"address": address, "change": {"actions": ["update"], "before": before, "after": after}}


def test_only_drifted_attributes_the_plan_overwrites_are_reported_with_relevance() -> None:
    current = {"size": 20, "tags": {"Owner": "ops", "Env": "prod"}, "rules": [{"port": 22}], "password": "(x)"}
    planned = {"size": 10, "tags": {"Owner": "ops", "Env": "prod"}, "rules": [{"port": 443}], "password": "(x)"}
    updated = replace(
        change("aws_db_instance.db", ["update"], current, planned),
        before_sensitive={"password": True},
        after_sensitive={"password": True},
    )
    cs = replace(
        changeset(updated, change("aws_s3_bucket.b", ["delete"], {"acl": "public"})),
        resource_drift=(
            drift(
                "aws_db_instance.db",
                {"size": 10, "tags": {"Owner": "dev", "Env": "prod"}, "rules": [{"port": 443}], "password": "old"},
                {"size": 20, "tags": {"Owner": "ops", "Env": "prod"}, "rules": [{"port": 22}], "password": "new"},
            ),
            drift("aws_s3_bucket.b", {"acl": "private"}, {"acl": "public"}),  # deleted: nothing to revert
            drift("aws_nowhere.x", {"a": 1}, {"a": 2}),
            {"address": 3},
        ),
        relevant_attributes=({"resource": "aws_db_instance.db", "attribute": ["size"]}, {"resource": 1}),
    )
    (reverted,) = reverted_drift(cs)
    found = {a.dotted: (a.relevant, a.certain) for a in reverted.attributes}
    # tags.Owner drifted but the plan keeps the drifted value: not reverted.
    assert found == {"size": (True, True), "rules[0].port": (False, True), "password": (False, False)}
    (finding,) = DriftRule(DriftSettings(enforcement=Enforcement.SOFT, attributes_shown=2)).evaluate(cs)
    assert finding.enforcement is Enforcement.SOFT
    assert finding.message == (
        "update would revert changes made outside Terraform to size (the plan depends on it), password (may) and 1 more"
    )
    assert "new" not in finding.message
    assert "old" not in finding.message


def test_format_path() -> None:
    assert format_path(("rule", 0, "port")) == "rule[0].port"
    assert format_path(()) == ""
