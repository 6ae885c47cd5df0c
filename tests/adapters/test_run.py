"""TerraformCli without terraform: which binary, the command lines and environment it uses, masking, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.adapters.terraform.run import TerraformCli, TerraformError, mask_variables, summarise_errors
from guardrail.core.errors import BadInputError, CommandError


def test_binary_comes_from_the_argument_then_the_environment_then_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDRAIL_TERRAFORM", "/opt/tofu/bin/tofu")
    assert TerraformCli().binary == "/opt/tofu/bin/tofu"
    assert TerraformCli("terraform-1.11").binary == "terraform-1.11"
    monkeypatch.setenv("GUARDRAIL_TERRAFORM", "")
    assert TerraformCli().binary == "terraform"
    monkeypatch.delenv("GUARDRAIL_TERRAFORM")
    assert TerraformCli().binary == "terraform"


def test_variable_values_are_masked_in_the_command() -> None:
    argv = ["terraform", "plan", "-input=false", "-var=token=s3cret=with=equals", "-var=region=eu", "-out=/p"]
    assert mask_variables(argv) == ["terraform", "plan", "-input=false", "-var=token=***", "-var=region=***", "-out=/p"]


STDERR = """
Error: Terraform encountered problems during initialisation, including problems
with the configuration, described below.

Error: Unsupported block type

  on main.tf line 4:
   4: resourc "terraform_data" "typo" {}

Blocks of type "resourc" are not expected here. Did you mean "resource"?
"""


def test_summary_is_the_last_error_and_where_it_points() -> None:
    assert summarise_errors(STDERR) == "Error: Unsupported block type (on main.tf line 4)"
    assert summarise_errors("│ Error: No configuration files\n│\n") == "Error: No configuration files"
    assert summarise_errors("plain failure\n") == ""


def test_terraform_error_keeps_everything_and_reads_better() -> None:
    failed = TerraformError(CommandError(["terraform", "init", "-input=false"], 1, "out", STDERR))
    assert isinstance(failed, CommandError)
    assert (failed.command, failed.returncode, failed.stdout, failed.stderr) == (
        ["terraform", "init", "-input=false"],
        1,
        "out",
        STDERR,
    )
    assert str(failed) == "terraform init exited 1: Error: Unsupported block type (on main.tf line 4)"
    plain = TerraformError(CommandError(["terraform", "show"], 1, "", "something odd\n"))
    assert str(plain) == "terraform show exited 1: something odd"


FAKE_TERRAFORM = """#!/bin/sh
# Records each call (arguments one per line, then the automation variables), answers like terraform.
{ echo "--- $1"; printf '%s\\n' "$@"; echo "TF_IN_AUTOMATION=$TF_IN_AUTOMATION TF_INPUT=$TF_INPUT"; } >> "$FAKE_LOG"
case "$1 $2" in
  "version -json") echo "flag provided but not defined: -json" >&2; exit 1 ;;
  "version "*) echo "Terraform v0.12.31"; exit 0 ;;
  "plan "*) exit 2 ;;  # -detailed-exitcode: success with changes
esac
exit 0
"""


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[TerraformCli, Path]:
    """A stand-in binary that logs how TerraformCli calls it: argv and environment, with no terraform."""
    binary = tmp_path / "bin" / "terraform"
    binary.parent.mkdir()
    binary.write_text(FAKE_TERRAFORM)
    binary.chmod(0o755)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_LOG", str(log))
    return TerraformCli(str(binary)), log


def test_plan_initialises_then_plans_unattended(fake_terraform: tuple[TerraformCli, Path], tmp_path: Path) -> None:
    cli, log = fake_terraform
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text("")
    cli.plan(config, {"token": "s3cret-value"}, Path("relative.tfplan"))
    calls = log.read_text().split("--- ")[1:]
    assert [call.splitlines()[0] for call in calls] == ["init", "plan"]
    init, plan = (call.splitlines()[1:] for call in calls)
    assert init == ["init", "-input=false", "-no-color", "TF_IN_AUTOMATION=1 TF_INPUT=0"]
    assert "-detailed-exitcode" in plan
    assert "-input=false" in plan
    assert f"-out={Path('relative.tfplan').absolute()}" in plan
    assert "-var=token=s3cret-value" in plan
    assert plan[-1] == "TF_IN_AUTOMATION=1 TF_INPUT=0"


def test_plan_skips_init_when_the_directory_is_initialised(
    fake_terraform: tuple[TerraformCli, Path], tmp_path: Path
) -> None:
    cli, log = fake_terraform
    (tmp_path / "main.tf").write_text("")
    (tmp_path / ".terraform").mkdir()
    cli.plan(tmp_path, {}, tmp_path / "plan.tfplan")
    assert [call.splitlines()[0] for call in log.read_text().split("--- ")[1:]] == ["plan"]


def test_plan_refuses_a_directory_without_configuration(
    fake_terraform: tuple[TerraformCli, Path], tmp_path: Path
) -> None:
    cli, log = fake_terraform
    with pytest.raises(BadInputError, match="no Terraform configuration"):
        cli.plan(tmp_path, {}, tmp_path / "plan.tfplan")
    assert not log.exists()


def test_version_falls_back_to_the_text_of_old_binaries(fake_terraform: tuple[TerraformCli, Path]) -> None:
    cli, _ = fake_terraform
    assert cli.version() == "Terraform v0.12.31"
