"""`guardrail check` keeps every marked value out of messages, whatever its length and wherever the plan
marks it, and never touches an address."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.render.markdown import md
from tests.cli.conftest import Result

Cli = Callable[..., Result]
HIDDEN = "(sensitive value)"
FORMATS = ("text", "json", "markdown", "sarif", "junit")


def _write(tmp_path: Path, plan: dict[str, Any], policy: str) -> tuple[Path, Path]:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"format_version": "1.2", "terraform_version": "1.11.4", **plan}))
    policy_file = tmp_path / "leak.rego"
    policy_file.write_text(f"package main\nimport rego.v1\n{policy}\n")
    return plan_file, policy_file


def _messages(cli: Cli, plan: Path, policy: Path) -> list[str]:
    result = cli("check", plan, "--policy", policy, "--format", "json")
    assert result.code in (0, 1, 2), result.stderr
    return [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("rego")]


def _audit(cli: Cli) -> str:
    events = [json.loads(line) for line in cli("audit", "export", "--format", "jsonl").stdout.splitlines()]
    return json.dumps([e["payload"] for e in events])


def test_a_one_character_secret_is_scrubbed_from_a_policy_message(cli: Cli, tmp_path: Path) -> None:
    plan = {
        "variables": {"pin": {"value": "7"}},
        "configuration": {"root_module": {"variables": {"pin": {"sensitive": True}}}},
        "resource_changes": [],
        "planned_values": {"root_module": {}},
    }
    plan_file, policy = _write(
        tmp_path, plan, 'warn contains msg if {\n  msg := sprintf("the pin is %v", [input.variables.pin.value])\n}'
    )
    assert _messages(cli, plan_file, policy) == [f"the pin is {HIDDEN}"]
    for fmt in FORMATS:
        out = cli("check", plan_file, "--policy", policy, "--format", fmt).stdout
        assert "the pin is 7" not in out, fmt
    assert "the pin is 7" not in _audit(cli)


def test_a_value_only_the_prior_state_marks_sensitive_is_scrubbed(cli: Cli, tmp_path: Path) -> None:
    state = {
        "format_version": "1.0",
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_db_instance.main",
                        "mode": "managed",
                        "type": "aws_db_instance",
                        "name": "main",
                        "values": {"password": "old-Pa55word", "port": 5432},
                        "sensitive_values": {"password": True},
                    }
                ]
            }
        },
    }
    plan = {"resource_changes": [], "planned_values": {"root_module": {}}, "prior_state": state}
    rule = (
        "warn contains msg if {\n  some r in input.prior_state.values.root_module.resources\n"
        '  msg := sprintf("%s had password %v on port %v", [r.address, r.values.password, r.values.port])\n}'
    )
    plan_file, policy = _write(tmp_path, plan, rule)
    assert _messages(cli, plan_file, policy) == [f"aws_db_instance.main had password {HIDDEN} on port 5432"]
    for fmt in FORMATS:
        out = cli("check", plan_file, "--policy", policy, "--format", fmt).stdout
        assert "old-Pa55word" not in out, fmt
    assert "old-Pa55word" not in _audit(cli)


BUCKET = "aws_s3_bucket.prod_logs"


@pytest.fixture
def prod_bucket(tmp_path: Path) -> tuple[Path, Path]:
    """A bucket deleted whose `env` tag, "prod", is sensitive, and a policy quoting address and tag."""
    change = {
        "address": BUCKET,
        "mode": "managed",
        "type": "aws_s3_bucket",
        "name": "prod_logs",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["delete"],
            "before": {"bucket": "acme-logs", "tags": {"env": "prod"}, "tags_all": {"env": "prod"}},
            "after": None,
            "after_unknown": {},
            "before_sensitive": {"tags": {"env": True}, "tags_all": {"env": True}},
            "after_sensitive": False,
        },
    }
    rule = (
        "deny contains result if {\n  some rc in input.resource_changes\n"
        '  result := {"msg": sprintf("%s is tagged %v", [rc.address, rc.change.before.tags.env]),'
        ' "address": rc.address}\n}'
    )
    return _write(tmp_path, {"resource_changes": [change], "planned_values": {"root_module": {}}}, rule)


def test_an_address_that_contains_a_secret_is_shown_whole_everywhere(cli: Cli, prod_bucket: tuple[Path, Path]) -> None:
    plan_file, policy = prod_bucket
    assert _messages(cli, plan_file, policy) == [f"{BUCKET} is tagged {HIDDEN}"]
    outputs = {fmt: cli("check", plan_file, "--policy", policy, "--format", fmt) for fmt in FORMATS}
    assert all(result.code == 1 for result in outputs.values())
    mangled = "(sensitive value)_logs"
    for fmt, result in outputs.items():
        assert mangled not in result.stdout, fmt
        assert mangled.replace("_", "\\_") not in result.stdout, fmt
    report = json.loads(outputs["json"].stdout)
    assert [c["address"] for c in report["changes"]] == [BUCKET]
    assert {f["address"] for f in report["findings"]} == {BUCKET}
    assert f"  - {BUCKET}" in outputs["text"].stdout
    assert str(md(BUCKET)) in outputs["markdown"].stdout
    (run,) = json.loads(outputs["sarif"].stdout)["runs"]
    assert {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in run["results"]} == {BUCKET}
    cases = ET.fromstring(outputs["junit"].stdout.split("\n", 1)[1]).iter("testcase")
    assert {case.get("name") for case in cases} == {BUCKET}
    recorded = [json.loads(line)["payload"] for line in cli("audit", "export", "--format", "jsonl").stdout.splitlines()]
    checks = [payload for payload in recorded if "addresses" in payload]
    assert checks
    for payload in checks:
        assert payload["addresses"] == [BUCKET]
        assert {f["address"] for f in payload["findings"]} == {BUCKET}
        assert f"{BUCKET} is tagged {HIDDEN}" in [f["message"] for f in payload["findings"]]
