"""A guardrail.yaml that would silently mean less than it says stops the gate with exit 3, file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import Result

Cli = Callable[..., Result]


def one_line_exit_3(result: Result, *fragments: str) -> None:
    assert result.code == 3, result.stdout + result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_a_second_protect_section_stops_the_gate_instead_of_dropping_the_first(
    cli: Cli, examples: Path, tmp_path: Path
) -> None:
    config = tmp_path / "guardrail.yaml"
    # The first list protects the cluster that the denied example deletes; a second `protect:` used to
    # replace it silently, and the delete went through.
    config.write_text(
        "protect:\n  - types: [azurerm_kubernetes_cluster]\n    reason: production\n"
        "stateful:\n  enabled: false\n"
        "protect:\n  - types: [aws_s3_bucket]\n"
    )
    plan = json.loads((examples / "denied" / "plan.json").read_text())
    plan["resource_changes"] = [
        rc for rc in plan["resource_changes"] if rc["address"] == "azurerm_kubernetes_cluster.prod"
    ]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = cli("check", tmp_path / "plan.json", "--config", config)
    one_line_exit_3(result, "guardrail.yaml:6", "duplicate key 'protect'", "line 1")


def test_a_key_given_twice_inside_an_entry_names_its_line(cli: Cli, examples: Path, tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(
        "protect:\n  - types: [azurerm_kubernetes_cluster]\n    enforcement: hard\n    enforcement: advisory\n"
    )
    one_line_exit_3(
        cli("check", examples / "denied" / "plan.json", "--config", config), "guardrail.yaml:4", "'enforcement'"
    )


def test_deeply_nested_settings_are_exit_3_not_an_internal_error(cli: Cli, examples: Path, tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text("protect: " + "[" * 3000 + "]" * 3000 + "\n")
    one_line_exit_3(cli("check", examples / "allowed" / "plan.json", "--config", config), "guardrail.yaml:1", "nested")
