"""The terraform (or OpenTofu) CLI behind the TerraformRunner port.

python-terraform's `Terraform` class spells the command lines. They are run by guardrail.adapters.process
rather than by python-terraform itself, which cannot give the child its own environment
(TF_IN_AUTOMATION, TF_INPUT) or a time limit, and decodes output that guardrail wants as bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from guardrail.adapters.process import CommandTimeoutError, Completed, run_command
from guardrail.adapters.terraform.intake import require_configuration
from guardrail.core.errors import CommandError, StalePlanError
from guardrail.core.ports import OutputLine

BINARY_ENV = "GUARDRAIL_TERRAFORM"
MISSING_HINT = f"set --terraform-bin or {BINARY_ENV}"
MASK = "***"
# Terraform's own switches for unattended runs: no prompts, no "run terraform apply next" advice.
AUTOMATION_ENV = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
DETAILED_EXIT_CHANGES = 2  # `plan -detailed-exitcode`: success, and the plan has changes
# How terraform (and OpenTofu) refuse a saved plan made against a state that has changed since.
STALE_PLAN_MARK = "Saved plan is stale"
_NO_STATE = os.path.join(os.devnull, "no-state")  # below a device: never a file


def resolve_binary(binary: str | None) -> str:
    """`binary`, else $GUARDRAIL_TERRAFORM, else `terraform` (found on PATH when run)."""
    return binary or os.environ.get(BINARY_ENV) or "terraform"


class TerraformError(CommandError):
    """terraform failed; the message is its own `Error:` line rather than the last line of its output."""

    def __init__(self, failed: CommandError) -> None:
        super().__init__(failed.command, failed.returncode, failed.stdout, failed.stderr)
        summary = summarise_errors(failed.stderr) or summarise_errors(failed.stdout)
        if summary:
            self.args = (f"{' '.join(failed.command[:2])} exited {failed.returncode}: {summary}",)


class TerraformCli:
    """TerraformRunner over the terraform (or OpenTofu, same interface) command line.

    Raises BadInputError when the binary is missing or the directory holds no configuration, TerraformError
    (a CommandError) when terraform fails, CommandTimeoutError when it runs past `timeout` seconds.
    """

    def __init__(self, binary: str | None = None, *, timeout: float | None = None) -> None:
        self.binary = resolve_binary(binary)
        self.timeout = timeout

    def version(self) -> str:
        """The version terraform reports, e.g. "1.11.4", for diagnostics."""
        try:
            reported = json.loads(self._run(Path.cwd(), "version", json=IsFlagged).stdout)
            return str(reported["terraform_version"])
        except (TerraformError, ValueError, KeyError, TypeError):  # a binary older than `version -json`
            text = self._run(Path.cwd(), "version").stdout_text.strip()
            return text.splitlines()[0] if text else "unknown"

    def show_json(self, plan_file: Path, directory: Path | None = None) -> bytes:
        """`terraform show -json PLANFILE` in `directory` (default: the plan file's folder)."""
        cwd = directory if directory is not None else plan_file.absolute().parent
        return self._run(cwd, "show", str(plan_file.absolute()), json=IsFlagged, no_color=IsFlagged).stdout

    def init(self, directory: Path) -> None:
        """`terraform init -input=false` in `directory`."""
        self._run(directory, "init", input=False, no_color=IsFlagged)

    def plan(self, directory: Path, variables: Mapping[str, str], out: Path) -> None:
        """`terraform init` when the directory was never initialised, then `terraform plan -out OUT`."""
        require_configuration(directory)
        data_dir = Path(os.environ.get("TF_DATA_DIR") or ".terraform")
        if not (directory / data_dir).is_dir():
            self.init(directory)
        self._run(
            directory,
            "plan",
            input=False,
            no_color=IsFlagged,
            detailed_exitcode=IsFlagged,
            out=str(out.absolute()),
            var=[f"{name}={value}" for name, value in variables.items()],
            ok_codes=(0, DETAILED_EXIT_CHANGES),
            secrets=variables.values(),
        )

    def state_pull(self, directory: Path) -> bytes:
        """`terraform state pull` in `directory`: the state as JSON bytes, empty when there is none yet."""
        require_configuration(directory)
        return self._run(directory, "state", "pull").stdout

    def apply_plan(self, directory: Path, plan_file: Path, on_line: Callable[[OutputLine], None] | None = None) -> str:
        """`terraform apply -input=false PLANFILE` in `directory`; returns its output, and shows `on_line`
        each line as terraform writes it.

        A saved plan is applied as it is, without a prompt. Raises StalePlanError when terraform refuses
        the plan because the state changed after it was made, TerraformError for any other failure.
        """
        require_configuration(directory)
        try:
            done = self._run(
                directory,
                "apply",
                str(plan_file.absolute()),
                input=False,
                no_color=IsFlagged,
                to_the_end=True,
                on_line=on_line,
            )
        except TerraformError as failed:
            if STALE_PLAN_MARK in failed.stderr or STALE_PLAN_MARK in failed.stdout:
                raise StalePlanError(
                    f"{plan_file}: the plan is stale: the state changed after it was made, so terraform refused "
                    "it; plan again and have the new plan approved"
                ) from None
            raise
        return done.stdout_text

    def _run(
        self,
        cwd: Path,
        subcommand: str,
        *args: str,
        ok_codes: tuple[int, ...] = (0,),
        secrets: Iterable[str] = (),
        to_the_end: bool = False,
        on_line: Callable[[OutputLine], None] | None = None,
        **options: Any,
    ) -> Completed:
        """The one helper every command goes through: spell it, run it, and turn failures into errors.

        `to_the_end` (apply): no time limit and no kill on Ctrl-C, since terraform stopped mid-apply loses
        track of what it created; it is interrupted gracefully and waited for instead."""
        argv = self._command_line(cwd, subcommand, *args, **options)
        try:
            return run_command(
                argv,
                cwd=cwd,
                env={**os.environ, **AUTOMATION_ENV},
                timeout=None if to_the_end else self.timeout,
                finish_on_interrupt=to_the_end,
                ok_codes=ok_codes,
                shown_as=mask_variables(argv),
                secrets=secrets,
                missing_hint=MISSING_HINT,
                on_line=on_line,
            )
        except CommandTimeoutError:
            raise
        except CommandError as failed:
            raise TerraformError(failed) from None

    def _command_line(self, cwd: Path, subcommand: str, *args: str, **options: Any) -> list[str]:
        # python-terraform parses a state file when constructed, though argv never depends on it: point it
        # at one that cannot exist, so that neither a large state nor an empty one (left by a killed apply,
        # which terraform reads as "no state") stands in the way.
        spelled = Terraform(working_dir=str(cwd), state=_NO_STATE, terraform_bin_path=self.binary)
        return [str(part) for part in spelled.generate_cmd_string(subcommand, *args, **options)]


def mask_variables(argv: list[str]) -> list[str]:
    """argv with every `-var name=value` value replaced by ***: values may be secrets."""
    masked = []
    for part in argv:
        if part.startswith("-var="):
            name = part[len("-var=") :].split("=", 1)[0]
            part = f"-var={name}={MASK}"  # noqa: PLW2901
        masked.append(part)
    return masked


def summarise_errors(output: str) -> str:
    """terraform's last `Error:` line and where it points (`on main.tf line 3`), or "" when there is none."""
    lines = [line.strip().lstrip("│").strip() for line in output.splitlines()]
    for position in range(len(lines) - 1, -1, -1):
        if lines[position].startswith("Error: "):
            where = next((ln for ln in lines[position + 1 : position + 4] if ln.startswith("on ")), "")
            return f"{lines[position]} ({where.rstrip(':')})" if where else lines[position]
    return ""
