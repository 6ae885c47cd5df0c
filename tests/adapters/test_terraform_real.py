"""TerraformCli and plan intake against the real terraform CLI, offline (built-in terraform_data).

The expected changes are read off the two configurations below, not off guardrail's output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.adapters.process import run_command
from guardrail.adapters.terraform.intake import load_plan
from guardrail.adapters.terraform.parse import LoadedPlan
from guardrail.adapters.terraform.run import TerraformCli
from guardrail.core.change import Action, ChangeSet, ReplaceOrder
from guardrail.core.errors import BadInputError, CommandError
from guardrail.core.ports import TerraformRunner
from tests.conftest import terraform_data_config, write_config

pytestmark = pytest.mark.terraform

SECRET = "tok-3c9f1e77a0b2"  # fed to a terraform_data input through a `sensitive = true` variable
APPLIED = {"kept": 'input = "v1"', "swapped": 'triggers_replace = ["v1"]', "removed": 'input = "bye"'}
PLANNED = {"kept": 'input = "v2"', "swapped": 'triggers_replace = ["v2"]', "added": "input = var.token"}
TOKEN = 'variable "token" {\n  type      = string\n  sensitive = true\n}\n'
EXPECTED = {
    "terraform_data.added": (Action.CREATE, None, None),
    "terraform_data.kept": (Action.UPDATE, None, None),
    "terraform_data.swapped": (Action.REPLACE, ReplaceOrder.DELETE_BEFORE_CREATE, "replace_because_cannot_update"),
    "terraform_data.removed": (Action.DELETE, None, "delete_because_no_resource_config"),
}


def no_terraform() -> TerraformRunner:
    raise AssertionError("terraform must not be needed to read plan JSON")


@pytest.fixture(scope="module")
def workspace(terraform_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configuration applied once, then edited so that its next plan holds one change of each kind."""
    directory = write_config(tmp_path_factory.mktemp("workspace"), APPLIED)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        run_command([terraform_bin, *args], cwd=directory, env=env, timeout=120)
    (directory / "main.tf").write_text(terraform_data_config(PLANNED, extra=TOKEN))
    return directory


@pytest.fixture(scope="module")
def cli(terraform_bin: str) -> TerraformCli:
    return TerraformCli(terraform_bin, timeout=120)


@pytest.fixture(scope="module")
def plan_files(workspace: Path, cli: TerraformCli) -> tuple[Path, Path]:
    """The binary plan made by TerraformCli.plan, and its `terraform show -json` next to it."""
    binary = workspace / "plan.tfplan"
    cli.plan(workspace, {"token": SECRET}, binary)
    rendered = workspace / "plan.json"
    rendered.write_bytes(cli.show_json(binary))
    return binary, rendered


def assert_planned_right(loaded: LoadedPlan, source: Path) -> None:
    changeset = loaded.changeset
    found = {c.address: (c.action, c.replace_order, c.action_reason) for c in changeset.changes}
    assert found == EXPECTED
    assert changeset.summary() == {
        "delete": 1,
        "replace": 1,
        "forget": 0,
        "update": 1,
        "create": 1,
        "read": 0,
        "no-op": 0,
    }
    (swapped,) = (c for c in changeset.changes if c.address == "terraform_data.swapped")
    assert swapped.actions == ("delete", "create")
    assert swapped.replace_paths == (("triggers_replace",),)
    assert changeset.source == str(source), "the source stays the path the user gave"
    assert changeset.terraform_version
    assert_secret_hidden(changeset)


def assert_secret_hidden(changeset: ChangeSet) -> None:
    (added,) = (c for c in changeset.changes if c.address == "terraform_data.added")
    assert added.after["input"] != SECRET
    assert SECRET not in repr(changeset)
    assert SECRET not in repr([(c.before, c.after, c) for c in changeset.changes])
    assert SECRET in changeset.sensitive_literals


def test_plan_of_a_directory(workspace: Path, cli: TerraformCli) -> None:
    loaded = load_plan(workspace, lambda: cli, {"token": SECRET})
    assert_planned_right(loaded, workspace)


def test_plan_of_a_directory_kept_where_asked(workspace: Path, cli: TerraformCli, tmp_path: Path) -> None:
    kept = tmp_path / "kept.tfplan"
    loaded = load_plan(workspace, lambda: cli, {"token": SECRET}, out=kept)
    assert kept.read_bytes().startswith(b"PK\x03\x04")
    assert load_plan(kept, lambda: cli).changeset.fingerprint == loaded.changeset.fingerprint


def test_binary_plan_file(plan_files: tuple[Path, Path], cli: TerraformCli) -> None:
    binary, _ = plan_files
    assert_planned_right(load_plan(binary, lambda: cli), binary)


def test_plan_json_needs_no_terraform(plan_files: tuple[Path, Path]) -> None:
    _, rendered = plan_files
    loaded = load_plan(rendered, no_terraform)
    assert_planned_right(loaded, rendered)
    assert json.loads(loaded.document)["format_version"].startswith("1.")


def test_binary_and_json_of_one_plan_share_a_fingerprint(plan_files: tuple[Path, Path], cli: TerraformCli) -> None:
    binary, rendered = plan_files
    assert (
        load_plan(binary, lambda: cli).changeset.fingerprint == load_plan(rendered, no_terraform).changeset.fingerprint
    )


def test_version(cli: TerraformCli) -> None:
    assert cli.version()[:1].isdigit()


def test_plan_initialises_a_fresh_directory(cli: TerraformCli, terraform_data_dir: Callable[..., Path]) -> None:
    directory = terraform_data_dir({"only": 'input = "x"'})
    changeset = load_plan(directory, lambda: cli).changeset
    assert [(c.address, c.action) for c in changeset.changes] == [("terraform_data.only", Action.CREATE)]


@pytest.mark.parametrize("binary", ["guardrail-no-such-terraform", "/nonexistent/bin/terraform"])
def test_missing_binary_is_bad_input(binary: str, terraform_data_dir: Callable[..., Path]) -> None:
    directory = terraform_data_dir({"only": 'input = "x"'})
    with pytest.raises(BadInputError, match=r"not found.*; set --terraform-bin or GUARDRAIL_TERRAFORM"):
        load_plan(directory, lambda: TerraformCli(binary), {"token": SECRET})


def test_broken_configuration_fails_with_terraforms_message(
    cli: TerraformCli, terraform_data_dir: Callable[..., Path]
) -> None:
    directory = terraform_data_dir({"ok": 'input = "x"'}, extra='resourc "terraform_data" "typo" {}\n')
    with pytest.raises(CommandError) as raised:
        load_plan(directory, lambda: cli, {"token": SECRET})
    failed = raised.value
    assert "Unsupported block type" in str(failed)
    assert "main.tf line" in str(failed)
    assert "resourc" in failed.stderr + failed.stdout
    assert failed.returncode == 1


def test_variable_values_never_reach_an_error(cli: TerraformCli, terraform_data_dir: Callable[..., Path]) -> None:
    # The value is accepted on the command line, then the configuration fails: the error must not carry it.
    directory = terraform_data_dir({"ok": "input = var.token", "bad": "input = var.undeclared"}, extra=TOKEN)
    with pytest.raises(CommandError) as raised:
        load_plan(directory, lambda: cli, {"token": SECRET})
    failed = raised.value
    assert failed.command[0] == cli.binary
    assert "plan" in failed.command
    assert "-var=token=***" in failed.command
    for text in (str(failed), " ".join(failed.command), failed.stdout, failed.stderr):
        assert SECRET not in text
    assert "undeclared" in failed.stderr + failed.stdout
