"""The rollback section in every format: the counts line and each change's class and reason."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from guardrail.adapters.render import FORMATS, renderer_for
from guardrail.adapters.render.markdown import md
from guardrail.core.change import ChangeSet
from guardrail.core.report import CheckReport
from guardrail.core.rollback.reversibility import assess
from guardrail.core.rules.reversibility import ReversibilityRule
from guardrail.core.verdict import Verdict
from tests.unit.factories import change

SECRET = "hunter2-snapshot"


def rollback_report() -> CheckReport:
    changes = (
        change("aws_s3_bucket.logs", ["delete"], before={"bucket": "logs"}),
        change("aws_db_instance.orders", ["delete", "create"], before={"skip_final_snapshot": True}),
        change("aws_instance.web", ["create"]),
        change("aws_vpc.main", ["no-op"]),
    )
    plan = ChangeSet(
        source="plan.json",
        fingerprint="sha256:abc",
        format_version="1.2",
        changes=changes,
        sensitive_literals=frozenset({SECRET}),
    )
    assessment = assess(plan)
    findings = list(ReversibilityRule().findings(assessment))
    return CheckReport(plan, Verdict.of(findings), rollback=assessment)


def test_text_counts_the_classes_and_gives_each_change_its_class() -> None:
    text = renderer_for("text").render(rollback_report())
    assert "rollback: 1 irreversible, 1 lossy, 1 reversible" in text
    assert "rollback: irreversible: deleted: bucket names are global" in text
    assert "rollback: lossy: replaced database: it comes back empty" in text
    assert "rollback: reversible: a create: rolling back deletes it" in text
    assert "[SOFT] reversibility: irreversible: deleted" in text


def test_json_lists_every_change_with_address_class_and_reason() -> None:
    doc = json.loads(renderer_for("json").render(rollback_report()))
    assert [(e["address"], e["reversibility"]) for e in doc["rollback"]] == [
        ("aws_s3_bucket.logs", "irreversible"),
        ("aws_db_instance.orders", "lossy"),
        ("aws_instance.web", "reversible"),
    ]
    assert all(set(e) >= {"address", "reversibility", "reason"} and e["reason"] for e in doc["rollback"])
    assert doc["rollback_summary"] == {"irreversible": 1, "lossy": 1, "reversible": 1}


def test_json_without_the_assessment_says_null() -> None:
    report = rollback_report()
    bare = CheckReport(report.changeset, report.verdict)
    doc = json.loads(renderer_for("json").render(bare))
    assert doc["rollback"] is None
    assert doc["rollback_summary"] is None


def test_markdown_has_the_counts_and_the_class_beside_each_change() -> None:
    comment = renderer_for("markdown").render(rollback_report())
    assert "Rollback: 1 irreversible, 1 lossy, 1 reversible." in comment
    assert "rollback: <b>irreversible</b>" in comment
    assert str(md("replaced database: it comes back empty")) in comment
    assert "rollback: <b>reversible</b>" in comment


def test_sarif_carries_the_summary_the_weighty_changes_and_each_result_class() -> None:
    log = json.loads(renderer_for("sarif").render(rollback_report()))
    run = log["runs"][0]
    assert run["properties"]["rollbackSummary"] == {"irreversible": 1, "lossy": 1, "reversible": 1}
    assert [e["address"] for e in run["properties"]["rollback"]] == ["aws_s3_bucket.logs", "aws_db_instance.orders"]
    result = next(r for r in run["results"] if r["ruleId"] == "reversibility")
    assert result["properties"]["reversibility"] == "irreversible"
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "reversibility")
    assert "cannot undo" in rule["shortDescription"]["text"]


def test_junit_has_a_rollback_suite_of_skipped_cases_and_the_counts_property() -> None:
    root = ET.fromstring(renderer_for("junit").render(rollback_report()))
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "rollback")
    cases = {c.get("name"): c.find("skipped") for c in suite.iter("testcase")}
    assert set(cases) == {"aws_s3_bucket.logs", "aws_db_instance.orders"}
    skipped = cases["aws_db_instance.orders"]
    assert skipped is not None
    assert skipped.get("message", "").startswith("lossy: replaced database")
    counts = {p.get("value") for p in suite.iter("property") if p.get("name") == "rollback"}
    assert counts == {"1 irreversible, 1 lossy, 1 reversible"}
    assert suite.get("failures") == "0"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_sensitive_value_through_the_rollback_section(fmt: str) -> None:
    report = rollback_report()
    leaky = change(
        "aws_db_instance.secretive",
        ["delete"],
        before={"skip_final_snapshot": False, "final_snapshot_identifier": SECRET},
    )
    plan = ChangeSet(
        source="plan.json",
        fingerprint="sha256:abc",
        format_version="1.2",
        changes=(*report.changeset.changes, leaky),
        sensitive_literals=report.changeset.sensitive_literals,
    )
    out = renderer_for(fmt).render(CheckReport(plan, report.verdict, rollback=assess(plan)))
    assert SECRET not in out
    name = str(md("aws_db_instance.secretive")) if fmt == "markdown" else "aws_db_instance.secretive"
    assert name in out or fmt in {"sarif", "junit"}  # those two list only the lossy and irreversible changes
