"""A runaway Rego policy stops `guardrail check` at policies.timeout: exit 3 naming it, and no verdict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.adapters.test_rego_timeout import LOOPING
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def test_check_exits_3_naming_the_policy_that_ran_too_long(cli: Cli, examples: Path, tmp_path: Path) -> None:
    (tmp_path / "loop.rego").write_text(LOOPING)
    config = tmp_path / "guardrail.yaml"
    config.write_text("policies:\n  paths: [loop.rego]\n  timeout: 1s\n")
    result = cli("check", examples / "allowed" / "plan.json", "--config", config)
    assert result.code == 3, result.stdout + result.stderr
    assert "ran past policies.timeout (1 s)" in result.stderr
    assert "loop.rego" in result.stderr
    assert result.stdout == ""  # no verdict without the policies
