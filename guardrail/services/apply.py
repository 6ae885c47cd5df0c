"""Apply exactly what was reviewed: the plan file's own fingerprint, allowed, under the workspace's apply lock.

Order matters. The plan is judged first (its fingerprint, recomputed from the file, is what approvals
are bound to); only an allowed plan takes the apply lock; only the lock holder spends a break-glass pass,
saves the rollback point and runs terraform, so an apply that loses the race never reaches the state.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.errors import BadInputError, CommandError, StalePlanError
from guardrail.core.locks import ApplyLockHeldError
from guardrail.core.ports import TerraformRunner, Workspaces
from guardrail.core.report import CheckReport
from guardrail.core.secrets import Scrubber, scrubber_for
from guardrail.core.verdict import Decision
from guardrail.services import apply_lock
from guardrail.services.approvals import use_break_glass
from guardrail.services.check import CheckRequest, check
from guardrail.services.review import settle
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_store
from guardrail.services.wiring import terraform_runner, workspaces

APPLY_COMPLETE = "Apply complete!"


@dataclass(frozen=True)
class ApplyRequest:
    """A binary plan file to apply, with the settings and rules to judge it by."""

    plan_file: Path
    settings: Settings
    store: str | None = None  # --store; None: $GUARDRAIL_STORE, guardrail.yaml, or .guardrail/
    policies: tuple[Path, ...] = ()
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    terraform_bin: str | None = None


@dataclass(frozen=True)
class ApplyOutcome:
    """What happened. `applied` false means nothing ran: the settled verdict in `report` says why."""

    report: CheckReport
    workspace: str
    applied: bool
    rollback: Path | None = None  # None: there was no state before this apply
    output: str = field(default="", repr=False)  # terraform's output, scrubbed of the plan's secrets


def apply(request: ApplyRequest, *, actor: str | None = None) -> ApplyOutcome:
    """Re-check the plan file with the store's locks and approvals and, when the verdict is allow, apply it.

    Raises BadInputError (not a binary plan, no configuration beside it, store unreachable: exit 3),
    ApplyLockHeldError (another apply holds the workspace: exit 1), StalePlanError (the state changed
    since the plan was made: exit 1), CommandError (terraform failed: exit 3). Every apply that takes the
    lock records apply-start and apply-end, failures included.
    """
    directories = workspaces()
    directory = _configuration_of(request.plan_file, directories)
    # The file is read once, into a private copy that is both judged and applied: whoever can write the
    # original cannot swap in another plan between the check and the apply.
    with tempfile.TemporaryDirectory(prefix="guardrail-apply-") as private:
        plan_file = Path(private) / "reviewed.tfplan"
        try:
            shutil.copyfile(request.plan_file, plan_file)
        except OSError as exc:
            raise BadInputError(f"{request.plan_file}: cannot read it ({exc.strerror or exc})") from None
        return _apply_reviewed(request, plan_file, directory, directories, actor or current_actor())


def _apply_reviewed(
    request: ApplyRequest, plan_file: Path, directory: Path, directories: Workspaces, who: str
) -> ApplyOutcome:
    terraform = terraform_runner(request.terraform_bin)
    report = check(
        CheckRequest(
            plan=plan_file,
            settings=request.settings,
            policies=request.policies,
            namespaces=request.namespaces,
            all_namespaces=request.all_namespaces,
            terraform_bin=request.terraform_bin,
            configuration=directory,
            source=str(request.plan_file),
        )
    )
    workspace = directories.apply_lock_name(directory)  # checked above to hold a configuration
    scrub = scrubber_for(report.changeset.sensitive_literals)
    with opened_store(request.store, request.settings, scrub) as store:
        reviewed = settle(store, report, request.settings, who, datetime.now(UTC), applying=True)
        if reviewed.report.verdict.decision is not Decision.ALLOW:
            return ApplyOutcome(reviewed.report, workspace, applied=False)
        grant = reviewed.gate.settlement.break_glass
        fingerprint = report.changeset.fingerprint
        try:
            with apply_lock.holding(store, workspace, who, datetime.now(UTC), fingerprint=fingerprint) as outcome:
                if grant is not None:
                    use_break_glass(store, grant, who, datetime.now(UTC))
                    outcome["break_glass"] = grant.id
                rollback = _save_rollback(terraform, directories, directory, fingerprint, outcome)
                output = _run_apply(terraform, directory, plan_file, scrub, outcome, shown_as=request.plan_file)
        except ApplyLockHeldError as held:
            raise _with_recovery_hint(held, directory) from None
    return ApplyOutcome(reviewed.report, workspace, applied=True, rollback=rollback, output=output)


def workspace_of(directory: Path) -> str:
    """The apply lock's name for a configuration directory: its absolute path and Terraform workspace.

    Raises BadInputError when `directory` holds no Terraform configuration."""
    directories = workspaces()
    directories.require_configuration(directory)
    return directories.apply_lock_name(directory)


def _configuration_of(plan_file: Path, directories: Workspaces) -> Path:
    # Like `check`, a binary plan is read and applied in the folder it sits in: its configuration,
    # state and initialised providers are there.
    if not directories.is_binary_plan(plan_file):
        raise BadInputError(
            f"{plan_file}: not a binary plan file: apply needs the file written by guardrail plan --out "
            "(or terraform plan -out), kept in its configuration directory"
        )
    directory = plan_file.resolve().parent
    directories.require_configuration(directory)
    return directory


def _save_rollback(
    terraform: TerraformRunner, directories: Workspaces, directory: Path, fingerprint: str, outcome: dict[str, object]
) -> Path | None:
    state = terraform.state_pull(directory)
    if not state.strip():
        outcome["rollback"] = None  # a first apply: rolling back means destroying what it creates
        return None
    saved = directories.save_rollback_point(directory, fingerprint, datetime.now(UTC), state)
    outcome["rollback"] = str(saved)
    return saved


def _run_apply(
    terraform: TerraformRunner,
    directory: Path,
    plan_file: Path,
    scrub: Scrubber,
    outcome: dict[str, object],
    *,
    shown_as: Path,
) -> str:
    try:
        output = scrub(terraform.apply_plan(directory, plan_file))
    except StalePlanError as stale:
        message = scrub(str(stale)).replace(str(plan_file), str(shown_as))  # the user's file, not our copy
        outcome["error"] = f"stale plan: {message}"
        raise StalePlanError(message) from None
    except CommandError as failed:
        # terraform's messages may quote values (a provisioner's output, a provider error): what is
        # recorded and what is shown are both scrubbed.
        outcome["error"] = scrub(str(failed))
        raise _scrubbed(failed, scrub) from None
    outcome["summary"] = _last_line_with(output, APPLY_COMPLETE)
    return output


def _scrubbed(failed: CommandError, scrub: Scrubber) -> CommandError:
    clean = CommandError(failed.command, failed.returncode, scrub(failed.stdout), scrub(failed.stderr))
    clean.args = (scrub(str(failed)),)
    return clean


def _last_line_with(text: str, mark: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if mark in line), "")


def _with_recovery_hint(held: ApplyLockHeldError, directory: Path) -> ApplyLockHeldError:
    if held.stale_reason is None:
        return held
    hinted = ApplyLockHeldError(held.holder, held.stale_reason)
    hinted.args = (f"{held}: guardrail lock recover-apply {directory} --reason TEXT",)
    return hinted
