from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result

Cli = Callable[..., Result]
SECRET = "s3cr3t-Orders-Pa55"  # the sensitive password in examples/needs-approval/plan.json


@pytest.mark.parametrize(
    ("case", "code", "verdict"),
    [("allowed", 0, "allow"), ("denied", 1, "deny"), ("needs-approval", 2, "needs-approval")],
)
def test_bundled_examples(cli: Cli, examples: Path, case: str, code: int, verdict: str) -> None:
    result = cli("check", examples / case / "plan.json", "--config", examples / "guardrail.yaml", "--format", "json")
    assert result.code == code, result.stderr
    assert json.loads(result.stdout)["verdict"] == verdict


def test_denied_example_names_the_removed_cluster_block(cli: Cli, examples: Path) -> None:
    result = cli(
        "check", examples / "denied" / "plan.json", "--config", examples / "guardrail.yaml", "--format", "json"
    )
    findings = json.loads(result.stdout)["findings"]
    protect = [f for f in findings if f["rule"] == "protect"]
    assert protect[0]["address"] == "azurerm_kubernetes_cluster.prod"
    assert protect[0]["enforcement"] == "hard"
    downgrade = [f for f in findings if f["rule"] == "k8s-upgrade"]
    assert downgrade[0]["address"] == "google_container_node_pool.gpu"
    assert downgrade[0]["enforcement"] == "hard"


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "junit"])
def test_sensitive_values_never_printed(cli: Cli, examples: Path, fmt: str) -> None:
    result = cli(
        "check", examples / "needs-approval" / "plan.json", "--config", examples / "guardrail.yaml", "--format", fmt
    )
    assert result.code == 2, result.stderr
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_rego_message_quoting_a_secret_is_scrubbed(cli: Cli, examples: Path, tmp_path: Path) -> None:
    policy = tmp_path / "leak.rego"
    policy.write_text(
        "package main\nimport rego.v1\n"
        'warn contains msg if {\n  some rc in input.resource_changes\n  rc.type == "aws_db_instance"\n'
        '  msg := sprintf("password is %s", [rc.change.after.password])\n}\n'
    )
    result = cli("check", examples / "needs-approval" / "plan.json", "--policy", policy, "--format", "json")
    messages = [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("rego")]
    assert messages
    assert all(SECRET not in m for m in messages)


def test_output_file_is_written_and_text_goes_to_stdout(cli: Cli, examples: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    result = cli(
        "check",
        examples / "denied" / "plan.json",
        "--config",
        examples / "guardrail.yaml",
        "--format",
        "sarif",
        "--output",
        target,
    )
    assert result.code == 1
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert "azurerm_kubernetes_cluster.prod" in result.stdout
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def one_line_error(result: Result, *words: str) -> None:
    assert result.code == 3, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_missing_plan(cli: Cli, tmp_path: Path) -> None:
    one_line_error(cli("check", tmp_path / "nope.json"), "nope.json")


def test_state_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(
        json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "x", "resources": []})
    )
    one_line_error(cli("check", state), "terraform.tfstate", "state")


def test_invalid_json(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": "1.2", "resource_changes": [')
    one_line_error(cli("check", bad), "bad.json", "invalid JSON")


def test_bad_config_names_file_and_line(cli: Cli, examples: Path, tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text("protect:\n  - types: [x]\n    enforcment: hard\n")
    one_line_error(
        cli("check", examples / "allowed" / "plan.json", "--config", config), "guardrail.yaml:3", "enforcment"
    )


def test_broken_policy_names_the_file(cli: Cli, examples: Path, tmp_path: Path) -> None:
    policy = tmp_path / "broken.rego"
    policy.write_text("package main\n\ndeny contains msg if {\n")
    one_line_error(cli("check", examples / "allowed" / "plan.json", "--policy", policy), "broken.rego")


@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("check", "x.json", "--format", "yaml"),
        ("check", "x.json", "--bogus"),
        ("plan", ".", "--var", "novalue"),
    ],
)
def test_usage_errors_exit_3_not_2(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == 3, result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output(cli: Cli, examples: Path, tmp_path: Path) -> None:
    result = cli("check", examples / "allowed" / "plan.json", "--output", tmp_path / "no" / "such" / "dir" / "r.json")
    one_line_error(result, "r.json")


def test_internal_error_is_exit_4_without_traceback(cli: Cli, examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("guardrail.services.check.evaluate", explode)
    result = cli("check", examples / "allowed" / "plan.json")
    assert result.code == 4
    assert "boom" in result.stderr
    assert "Traceback" not in result.stderr
    debug = cli("--debug", "check", examples / "allowed" / "plan.json")
    assert debug.code == 4
    assert "Traceback" in debug.stderr


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("guardrail ")


def test_a_secret_a_policy_quotes_json_escaped_is_scrubbed_everywhere(cli: Cli, examples: Path, tmp_path: Path) -> None:
    # `%v` of an object writes its strings JSON-escaped: a quote, a backslash or a newline in the secret
    # changes its spelling, and the plain literal would no longer match.
    secret = 'Sé"cr\\et-1234\nline2'
    plan = json.loads((examples / "needs-approval" / "plan.json").read_text())
    plan["variables"] = {"token": {"value": secret}}
    plan.setdefault("configuration", {}).setdefault("root_module", {})["variables"] = {"token": {"sensitive": True}}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    policy = tmp_path / "leak.rego"
    policy.write_text(
        'package main\nimport rego.v1\nwarn contains msg if {\n  msg := sprintf("vars are %v", [input.variables])\n}\n'
    )
    fragments = ("Sé", "cr\\et", "et-1234", "line2")
    text = cli("check", tmp_path / "plan.json", "--policy", policy).stdout
    assert "vars are" in text
    as_json = cli("check", tmp_path / "plan.json", "--policy", policy, "--format", "json").stdout
    messages = [f["message"] for f in json.loads(as_json)["findings"] if f["rule"].startswith("rego")]
    events = [json.loads(line) for line in cli("audit", "export", "--format", "jsonl").stdout.splitlines()]
    recorded = json.dumps([e["payload"] for e in events], ensure_ascii=False)
    assert "vars are" in recorded
    for where in (text, *messages, recorded.replace("\\\\", "\\")):
        assert not any(fragment in where for fragment in fragments), where


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_before_or_after_the_command_shows_the_traceback(
    cli: Cli, examples: Path, tmp_path: Path, where: str
) -> None:
    plan = examples / "allowed" / "plan.json"
    flagged = ("--debug", "check", plan) if where == "before" else ("check", plan, "--debug")
    allowed = cli(*flagged)
    assert (allowed.code, allowed.stderr) == (0, "")
    missing = tmp_path / "nope.json"
    failed = cli(*(str(part).replace(str(plan), str(missing)) for part in flagged))
    assert failed.code == 3
    assert "Traceback (most recent call last)" in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith(f"guardrail: {missing}")


def test_debug_is_an_option_of_every_command(cli: Cli) -> None:
    for command in (("check",), ("apply",), ("lock", "add"), ("audit", "verify"), ("approve",), ("tui",)):
        helped = cli(*command, "--help")
        assert helped.code == 0, helped.stderr
        assert "--debug" in helped.stdout, command


def test_tui_rehearse_refuses_a_file_of_neither_kind_before_the_app_starts(cli: Cli, tmp_path: Path) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text("seed: 1\n")
    refused = cli("tui", "--rehearse", str(odd))
    assert refused.code == 3
    assert refused.stderr.startswith(f"guardrail: {odd}: a rehearsal file has clusters: (a fleet) or pool:")
    helped = cli("tui", "--help")
    assert "Rollouts screen" in helped.stdout
    assert "Nodes screen" in helped.stdout
