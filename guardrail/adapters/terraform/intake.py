"""Plan intake from whatever path the user gives: plan JSON, a binary plan file, or a configuration directory.

Terraform is only asked for (through the `terraform` callable) when a binary plan or a directory needs it,
so checking a JSON plan never needs a terraform binary.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from guardrail.adapters.terraform.encoding import to_utf8
from guardrail.adapters.terraform.parse import LoadedPlan, parse_plan
from guardrail.core.change import ChangeSet
from guardrail.core.errors import BadInputError
from guardrail.core.ports import TerraformRunner

ZIP_MAGIC = b"PK\x03\x04"  # a binary plan file is a zip archive
NOT_A_PLAN = "not a Terraform plan: expected JSON from terraform show -json, a binary plan file, or a directory"
# JSON may start with whitespace; a leading run this long without a `{` is not a plan.
_SNIFF_LIMIT = 4096


class TerraformPlanIntake:
    """The plan intake port (core/ports.py) on terraform: `terraform` makes the runner, when one is needed."""

    def __init__(self, terraform: Callable[[], TerraformRunner]) -> None:
        self._terraform = terraform

    def read(self, path: Path, *, variables: Mapping[str, str], out: Path | None, configuration: Path | None) -> bytes:
        return read_plan_document(path, self._terraform, variables, out, configuration=configuration)

    def parse(self, document: bytes, source: str, *, freeze: bool) -> ChangeSet:
        return parse_plan(document, source, freeze=freeze).changeset


def is_binary_plan(path: Path) -> bool:
    """Whether the file at `path` starts as a binary plan (a zip archive). Raises BadInputError naming it
    when it is missing or unreadable."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def load_plan(
    path: Path,
    terraform: Callable[[], TerraformRunner],
    variables: Mapping[str, str] | None = None,
    out: Path | None = None,
) -> LoadedPlan:
    """Read and parse the plan at `path` (see read_plan_document); the ChangeSet's source is `path` as given."""
    return parse_plan(read_plan_document(path, terraform, variables, out), str(path))


def read_plan_document(
    path: Path,
    terraform: Callable[[], TerraformRunner],
    variables: Mapping[str, str] | None = None,
    out: Path | None = None,
    configuration: Path | None = None,
) -> bytes:
    """The plan's JSON as UTF-8 bytes, from plan JSON, a binary plan file or a configuration directory.

    A directory is planned with `variables` into `out` (or a temporary file, removed afterwards: binary
    plans hold sensitive values in clear). A binary plan is shown in `configuration`, default its folder.
    Raises BadInputError naming `path` when it is missing, unreadable or not a plan, CommandError when
    terraform fails.
    """
    if path.is_dir():
        require_configuration(path)  # before asking for terraform: this error needs no binary
        runner = terraform()
        with _plan_file(out) as plan_file:
            plan_directory(path, runner, variables or {}, plan_file)
            return terraform_show(runner, plan_file, path)
    data = _read(path)
    if data.startswith(ZIP_MAGIC):
        return terraform_show(terraform(), path, configuration or path.parent)
    try:
        text = to_utf8(data)
    except UnicodeDecodeError as exc:
        if data.lstrip()[:1] == b"{":  # JSON with a stray byte: say where, it is likely a mangled plan
            raise BadInputError(f"{path}: not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})") from None
        raise BadInputError(f"{path}: {NOT_A_PLAN}") from None
    if not text[:_SNIFF_LIMIT].lstrip().startswith(b"{"):
        raise BadInputError(f"{path}: {NOT_A_PLAN}")
    return text


def plan_directory(directory: Path, terraform: TerraformRunner, variables: Mapping[str, str], out: Path) -> Path:
    """`terraform plan` the configuration in `directory` into `out`; returns the plan file's path."""
    require_configuration(directory)
    # A plan file left at `out` by an earlier run must never pass for this run's plan.
    out.unlink(missing_ok=True)
    terraform.plan(directory, variables, out)
    if not out.is_file():
        # Fail closed: a plan that "succeeded" without a plan file must not be read as "no changes".
        raise BadInputError(f"{directory}: terraform plan wrote no plan file at {out}")
    return out


def terraform_show(terraform: TerraformRunner, plan_file: Path, directory: Path) -> bytes:
    """`terraform show -json` of a binary plan, run in the configuration `directory` it was made from."""
    document = terraform.show_json(plan_file, directory)
    if not document.lstrip().startswith(b"{"):
        raise BadInputError(f"{plan_file}: terraform show -json did not print a JSON object")
    return document


def require_configuration(directory: Path) -> None:
    """Raise BadInputError unless `directory` holds a Terraform configuration (*.tf or *.tf.json)."""
    if not directory.is_dir():
        raise BadInputError(f"{directory}: not a directory")
    try:
        found = any(
            entry.is_file() and (entry.name.endswith(".tf") or entry.name.endswith(".tf.json"))
            for entry in directory.iterdir()
        )
    except OSError as exc:
        raise BadInputError(f"{directory}: cannot read the directory ({exc.strerror or exc})") from None
    if not found:
        raise BadInputError(f"{directory}: no Terraform configuration here (no *.tf or *.tf.json files)")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise BadInputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror or exc})") from None


@contextmanager
def _plan_file(out: Path | None) -> Iterator[Path]:
    """`out` when given, else a file in a private temporary directory that is removed on exit."""
    if out is not None:
        # Absolute: terraform resolves -out against the directory it plans, not our working directory.
        yield out.absolute()
        return
    with tempfile.TemporaryDirectory(prefix="guardrail-plan-") as temp:
        yield Path(temp) / "plan.tfplan"
