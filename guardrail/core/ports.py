"""The ports: what the core and services need from the outside world, as Protocols.

Adapters implement them; `guardrail.services.wiring` picks one per port from settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from guardrail.core.change import ChangeSet
from guardrail.core.report import CheckReport
from guardrail.core.verdict import Finding


class PolicyRun(Protocol):
    """An evaluation started by PolicyEngine.submit, possibly running in parallel with other work."""

    def findings(self) -> list[Finding]:
        """The findings of every custom policy. Raises PolicyError when a policy fails to evaluate."""
        ...


class PolicyEngine(Protocol):
    """Custom policies (Rego, conftest-compatible), loaded when the engine is built.

    Building an engine raises PolicyError naming the file of any policy that does not parse.
    """

    def submit(self, document: bytes) -> PolicyRun:
        """Start evaluating every policy against the plan's UTF-8 JSON text (the conftest input)."""
        ...

    def submit_each(self, documents: Sequence[tuple[str | None, bytes]]) -> PolicyRun:
        """Start evaluating every policy against each (address, UTF-8 JSON text) document on its own, as
        conftest evaluates each document of a multi-document YAML file (Kubernetes: one per object). A
        finding whose result names no address gets its document's. The run's findings() raises PolicyError
        when a policy fails to evaluate on any document."""
        ...


@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line a command wrote, as it wrote it (without the line ending; invalid UTF-8 replaced)."""

    text: str
    stderr: bool  # written to standard error rather than standard output


class TerraformRunner(Protocol):
    """The terraform (or OpenTofu) CLI. Raises CommandError when the binary fails, BadInputError when
    it cannot be found or the directory is not a Terraform configuration."""

    def show_json(self, plan_file: Path, directory: Path | None = None) -> bytes:
        """`terraform show -json PLANFILE`: the plan as JSON bytes.

        Runs in `directory` (default: the plan file's folder), the configuration the plan was made from:
        terraform needs its initialised providers to render a plan."""
        ...

    def plan(self, directory: Path, variables: Mapping[str, str], out: Path) -> None:
        """`terraform init` when needed, then `terraform plan -out OUT` in `directory`."""
        ...

    def state_pull(self, directory: Path) -> bytes:
        """`terraform state pull` in `directory`: the current state as JSON bytes, empty when there is none."""
        ...

    def apply_plan(self, directory: Path, plan_file: Path, on_line: Callable[[OutputLine], None] | None = None) -> str:
        """`terraform apply PLANFILE` in `directory`; returns terraform's output.

        `on_line` is called with each line terraform writes, as it writes it (from another thread, one line at
        a time), while the whole output is still collected and returned. Raises StalePlanError when terraform
        refuses the plan because the state changed since it was made.
        """
        ...


class PlanIntake(Protocol):
    """Plans from whatever path the user gives: plan JSON, a binary plan file or a configuration directory.

    Terraform is run only when a binary plan or a directory needs it. Raises BadInputError naming the path
    when it is missing, unreadable or not a plan, CommandError when terraform fails.
    """

    def read(self, path: Path, *, variables: Mapping[str, str], out: Path | None, configuration: Path | None) -> bytes:
        """The plan's JSON as UTF-8 bytes. A directory is planned with `variables` into `out` (or a private
        temporary file); a binary plan is shown in `configuration`, by default the folder it sits in."""
        ...

    def parse(self, document: bytes, source: str, *, freeze: bool) -> ChangeSet:
        """The plan as a ChangeSet named `source`. Raises BadInputError for anything but an applyable plan.

        `freeze` False keeps the parse from pinning the plan in memory for good (a long-running program)."""
        ...


class Workspaces(Protocol):
    """Terraform configuration directories on disk: what they hold, which workspace they are on, where
    their rollback points go. Raises BadInputError for a directory or file it cannot use."""

    def require_configuration(self, directory: Path) -> None:
        """Returns when `directory` holds a Terraform configuration (*.tf or *.tf.json); raises
        BadInputError otherwise."""
        ...

    def is_binary_plan(self, path: Path) -> bool:
        """Whether `path` is a binary plan file (as `terraform plan -out` writes). Raises BadInputError when
        it is missing or unreadable."""
        ...

    def apply_lock_name(self, directory: Path) -> str:
        """The name of the configuration's apply lock: its absolute path and current Terraform workspace."""
        ...

    def save_rollback_point(self, directory: Path, fingerprint: str, at: datetime, state: bytes) -> Path:
        """Keep `state` (owner-only: it holds secrets in clear) as the rollback point of applying the plan
        `fingerprint` at `at`; returns its path. Raises BadInputError when it cannot be written."""
        ...


class Renderer(Protocol):
    """Turns a CheckReport into text for people or machines. Never prints a sensitive value."""

    def render(self, report: CheckReport) -> str: ...
