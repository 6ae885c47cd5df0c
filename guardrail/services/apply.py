"""Apply exactly what was reviewed: the plan file's own fingerprint, allowed, under the workspace's apply lock.

Order matters. The plan is judged first (its fingerprint, recomputed from the file, is what approvals
are bound to); a plan made from a dirty tree stops there unless allowed; only an allowed plan takes the
apply lock; only the lock holder spends a break-glass pass,
saves the rollback point and runs terraform, so an apply that loses the race never reaches the state.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guardrail.config import Settings
from guardrail.core.errors import BadInputError, CommandError, DeniedError, StalePlanError
from guardrail.core.locks import ApplyLockHeldError
from guardrail.core.ports import OutputLine, TerraformRunner, Workspaces
from guardrail.core.provenance import Provenance
from guardrail.core.report import CheckReport
from guardrail.core.secrets import Scrubber, plan_scrubber
from guardrail.core.verdict import Decision
from guardrail.services import apply_lock
from guardrail.services.approvals import use_break_glass
from guardrail.services.check import CheckRequest, check
from guardrail.services.provenance import gather, plan_provenance
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
    allow_dirty: bool = False  # apply a plan made from a dirty tree (recorded in the apply-end event)


@dataclass(frozen=True)
class PlanOrigin:
    """Where a plan file to apply comes from. `run_in` is the configuration terraform plans and applies
    in; `directory` the one whose workspace lock is taken and whose rollback points are kept (the same
    for an ordinary apply; for a rollback, the original directory while terraform runs in a worktree).
    `provenance` None: the plan's last recorded check says (else the tree now); `links` are added to the
    apply-end event (what a rollback undoes); `source` is how reports and the log name the plan (None: the
    plan file given)."""

    run_in: Path
    directory: Path
    provenance: Provenance | None = None
    links: Mapping[str, object] = field(default_factory=dict)
    source: str | None = None


@dataclass(frozen=True)
class ApplyOutcome:
    """What happened. `applied` false means nothing ran: the settled verdict in `report` says why."""

    report: CheckReport
    workspace: str
    applied: bool
    rollback: Path | None = None  # None: there was no state before this apply
    output: str = field(default="", repr=False)  # terraform's output, scrubbed of the plan's secrets


def apply(
    request: ApplyRequest, *, actor: str | None = None, on_line: Callable[[OutputLine], None] | None = None
) -> ApplyOutcome:
    """Re-check the plan file with the store's locks and approvals and, when the verdict is allow, apply it.

    `on_line` is shown terraform's output as it comes, each line scrubbed of the plan's secrets.

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
        origin = PlanOrigin(run_in=directory, directory=directory)
        return apply_reviewed(
            request, plan_file, origin, actor or current_actor(), on_line=on_line, directories=directories
        )


def apply_reviewed(
    request: ApplyRequest,
    plan_file: Path,
    origin: PlanOrigin,
    who: str,
    *,
    on_line: Callable[[OutputLine], None] | None = None,
    directories: Workspaces | None = None,
) -> ApplyOutcome:
    """Apply `plan_file`, a private copy nobody else can write, once the gate allows it: judged by its own
    fingerprint, refused when made from a dirty tree (unless `request.allow_dirty`), applied under the
    workspace lock of `origin.directory` after saving its rollback point, terraform's output shown to
    `on_line` as it comes. `apply` and `rollback apply` both go through here. Raises what `apply` raises,
    and DeniedError for a plan made from a dirty tree."""
    directories = directories or workspaces()
    terraform = terraform_runner(request.terraform_bin)
    report = check(
        CheckRequest(
            plan=plan_file,
            settings=request.settings,
            policies=request.policies,
            namespaces=request.namespaces,
            all_namespaces=request.all_namespaces,
            terraform_bin=request.terraform_bin,
            configuration=origin.run_in,
            source=origin.source or str(request.plan_file),
        )
    )
    directory = origin.directory
    workspace = directories.apply_lock_name(directory)  # checked above to hold a configuration
    scrub = plan_scrubber(report.changeset)
    fingerprint = report.changeset.fingerprint
    with opened_store(request.store, request.settings, scrub) as store:
        # Read before this apply records anything, through the log's indexes: never the whole log.
        now_seen = gather(directory, store, plan_files=[request.plan_file], workspace=workspace)
        planned = origin.provenance or plan_provenance(store, fingerprint) or now_seen
        reviewed = settle(store, report, request.settings, who, datetime.now(UTC), applying=True, provenance=planned)
        if reviewed.report.verdict.decision is not Decision.ALLOW:
            return ApplyOutcome(reviewed.report, workspace, applied=False)
        if planned.dirty and not request.allow_dirty:
            raise DeniedError(
                f"{request.plan_file} was made from a dirty tree ({planned.describe()}): commit, plan and approve "
                "again, or apply it with --allow-dirty"
            )
        grant = reviewed.gate.settlement.break_glass
        try:
            with apply_lock.holding(store, workspace, who, datetime.now(UTC), fingerprint=fingerprint) as outcome:
                outcome.update(_origin_record(planned, now_seen, request.allow_dirty, origin.links))
                if grant is not None:
                    use_break_glass(store, grant, who, datetime.now(UTC))
                    outcome["break_glass"] = grant.id
                rollback = _save_rollback(
                    terraform,
                    directories,
                    run_in=origin.run_in,
                    directory=directory,
                    fingerprint=fingerprint,
                    outcome=outcome,
                )
                shown = _scrubbed_lines(on_line, scrub.line_by_line())
                output = _run_apply(
                    terraform, origin.run_in, plan_file, scrub, outcome, shown_as=request.plan_file, on_line=shown
                )
        except ApplyLockHeldError as held:
            raise _with_recovery_hint(held, directory) from None
    return ApplyOutcome(reviewed.report, workspace, applied=True, rollback=rollback, output=output)


def _origin_record(
    planned: Provenance, now_seen: Provenance, allow_dirty: bool, links: Mapping[str, object]
) -> dict[str, object]:
    """What the apply-end event says of where the plan came from: `provenance` is the tree the plan was
    made from (its commit is what this apply puts in place), `provenance_at_apply` the tree now."""
    record: dict[str, object] = {
        "provenance": planned.to_payload(),
        "provenance_at_apply": now_seen.to_payload(),
        "allow_dirty": allow_dirty and planned.dirty,
    }
    record.update(links)
    return record


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
    terraform: TerraformRunner,
    directories: Workspaces,
    *,
    run_in: Path,
    directory: Path,
    fingerprint: str,
    outcome: dict[str, object],
) -> Path | None:
    state = terraform.state_pull(run_in)
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
    on_line: Callable[[OutputLine], None] | None = None,
) -> str:
    try:
        output = scrub(terraform.apply_plan(directory, plan_file, on_line))
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


def _scrubbed_lines(
    on_line: Callable[[OutputLine], None] | None, scrub: Scrubber
) -> Callable[[OutputLine], None] | None:
    if on_line is None:
        return None

    def show(line: OutputLine) -> None:
        on_line(OutputLine(scrub(line.text), line.stderr))

    return show


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
