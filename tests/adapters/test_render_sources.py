"""The outputs read the core's tables: rule descriptions, why a change is planned, verdict words, severity."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from guardrail.adapters.render import renderer_for
from guardrail.adapters.render.markdown import md
from guardrail.core.change import ChangeSet
from guardrail.core.policy import rule_info
from guardrail.core.reasons import planned_because
from guardrail.core.report import CheckReport
from guardrail.core.rules.locks import LOCK
from guardrail.core.rules.protection import PROTECT
from guardrail.core.verdict import VERDICT_WORDS, Enforcement, Finding, Verdict
from tests.unit.factories import change

REPLACED = replace(
    change("aws_db_instance.orders", ["delete", "create"], {}, {}, action_reason="replace_because_cannot_update"),
    replace_paths=(("storage_encrypted",), ("tags", "Name")),
)


def _report(*findings: Finding) -> CheckReport:
    changeset = ChangeSet("plan.json", "sha256:abc", "1.2", changes=(REPLACED,))
    return CheckReport(changeset, Verdict.of(findings))


def test_sarif_describes_each_built_in_rule_as_it_declares_itself() -> None:
    report = _report(
        Finding(LOCK, Enforcement.HARD, REPLACED.address, "replace of a locked resource"),
        Finding(PROTECT, Enforcement.HARD, REPLACED.address, "replace of a protected resource"),
        Finding("rego:main.deny", Enforcement.SOFT, None, "custom", source="policies/p.rego"),
    )
    rules = json.loads(renderer_for("sarif").render(report))["runs"][0]["tool"]["driver"]["rules"]
    described = {rule["id"]: rule["shortDescription"]["text"] for rule in rules}
    for rule_id in (LOCK, PROTECT):
        info = rule_info(rule_id)
        assert info is not None
        assert described[rule_id] == info.description
    assert described["lock"] != "Custom policy lock."
    assert described["rego:main.deny"] == "Custom policy rego:main.deny from policies/p.rego."


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_reports_say_why_a_change_is_planned_in_the_core_s_words(fmt: str) -> None:
    sentence = planned_because(REPLACED).sentence()
    assert "forced by: storage_encrypted, tags.Name" in sentence
    out = renderer_for(fmt).render(_report())
    assert (str(md(sentence)) if fmt == "markdown" else sentence) in out


def test_the_text_headline_uses_the_verdict_words() -> None:
    denied = _report(Finding(PROTECT, Enforcement.HARD, REPLACED.address, "no"))
    assert renderer_for("text").render(denied).startswith(f"guardrail: {VERDICT_WORDS[denied.verdict.decision]} ")


def test_junit_fails_a_case_with_its_most_severe_finding() -> None:
    report = _report(
        Finding(PROTECT, Enforcement.ADVISORY, REPLACED.address, "a note"),
        Finding(PROTECT, Enforcement.SOFT, REPLACED.address, "needs a look"),
    )
    root = ET.fromstring(renderer_for("junit").render(report).split("\n", 1)[1])
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("type") == "soft"
