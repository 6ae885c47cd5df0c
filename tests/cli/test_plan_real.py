"""`guardrail plan` and `guardrail check` against real terraform (offline: built-in terraform_data)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.conftest import find_terraform

pytestmark = pytest.mark.terraform
Cli = Callable[..., Result]

BEFORE = """
resource "terraform_data" "kept" { input = "v1" }
resource "terraform_data" "swapped" { triggers_replace = ["v1"] }
resource "terraform_data" "removed" { input = "bye" }
"""
AFTER = """
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "kept" { input = "v2" }
resource "terraform_data" "swapped" { triggers_replace = ["v2"] }
resource "terraform_data" "added" { input = var.token }
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    binary = find_terraform()
    (tmp_path / "main.tf").write_text(BEFORE)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run([binary, *args], cwd=tmp_path, env=env, check=True, capture_output=True)
    (tmp_path / "main.tf").write_text(AFTER)
    return tmp_path


def test_plan_classifies_every_action_and_check_agrees(cli: Cli, workdir: Path) -> None:
    secret = "tok-9f8e7d6c5b4a"
    planned = cli("plan", workdir, "--var", f"token={secret}", "--out", workdir / "plan.tfplan", "--format", "json")
    assert planned.code == 0, planned.stderr
    assert secret not in planned.stdout + planned.stderr
    report = json.loads(planned.stdout)
    actions = {c["address"]: c["action"] for c in report["changes"]}
    assert actions == {
        "terraform_data.added": "create",
        "terraform_data.kept": "update",
        "terraform_data.swapped": "replace",
        "terraform_data.removed": "delete",
    }
    reasons = {c["address"]: c["action_reason"] for c in report["changes"]}
    assert reasons["terraform_data.removed"] == "delete_because_no_resource_config"
    assert report["summary"]["replace"] == 1

    checked = cli("check", workdir / "plan.tfplan", "--format", "json")
    assert checked.code == 0, checked.stderr
    assert json.loads(checked.stdout)["fingerprint"] == report["fingerprint"]
    assert secret not in checked.stdout


def test_removed_block_of_a_protected_resource_is_denied(cli: Cli, workdir: Path) -> None:
    config = workdir / "guardrail.yaml"
    config.write_text('protect:\n  - addresses: ["terraform_data.removed"]\n    reason: keep it\n')
    result = cli("plan", workdir, "--var", "token=x", "--config", config)
    assert result.code == 1, result.stderr
    assert "terraform_data.removed" in result.stdout
    assert "resource block was removed" in result.stdout


def test_broken_configuration_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    find_terraform()
    (tmp_path / "main.tf").write_text('resource "terraform_data" "x" {\n')
    result = cli("plan", tmp_path)
    assert result.code == 3
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
