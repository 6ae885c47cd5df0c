"""`guardrail rollback plan|apply DIR [--to REF]`: the way back to an earlier commit, gated and verified."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from guardrail.cli.check import VARS, parse_vars
from guardrail.cli.options import ALL_NAMESPACES, CONFIG, NAMESPACE, POLICY, STORE, TERRAFORM_BIN, load_config, sub_app
from guardrail.cli.output import emit, show_line, use_color

if TYPE_CHECKING:
    from guardrail.services.rollback import RollbackRequest

rollback_app = sub_app("rollback", "Plan and apply the configuration of an earlier commit against the current state.")

DIRECTORY = typer.Argument(..., help="Terraform configuration directory in a git repository.", show_default=False)
TO = typer.Option(
    None, "--to", help="Commit, branch or tag to go back to (default: the commit of the previous successful apply)."
)


class RollbackFormat(StrEnum):
    text = "text"
    json = "json"


FORMAT = typer.Option(RollbackFormat.text, "--format", "-f", help="text or json.")


def _request(
    directory: Path,
    to: str | None,
    config: Path | None,
    store: str | None,
    policy: list[Path] | None,
    namespace: list[str] | None,
    all_namespaces: bool,
    terraform_bin: str | None,
    var: list[str] | None,
) -> RollbackRequest:
    from guardrail.services.rollback import RollbackRequest

    # Like apply's, a rollback is judged by the directory's own guardrail.yaml and store, wherever it runs.
    return RollbackRequest(
        directory=directory.absolute(),
        settings=load_config(config, plan=directory),
        to=to,
        store=store,
        policies=tuple(policy or ()),
        namespaces=tuple(namespace or ()),
        all_namespaces=all_namespaces,
        terraform_bin=terraform_bin,
        variables=parse_vars(var),
    )


@rollback_app.command("plan")
def plan_command(
    directory: Path = DIRECTORY,
    to: str | None = TO,
    output_format: RollbackFormat = FORMAT,
    var: list[str] | None = VARS,
    config: Path | None = CONFIG,
    store: str | None = STORE,
    policy: list[Path] | None = POLICY,
    namespace: list[str] | None = NAMESPACE,
    all_namespaces: bool = ALL_NAMESPACES,
    terraform_bin: str | None = TERRAFORM_BIN,
) -> int:
    """Plan the configuration at REF against the current state and check it: which changes of the last apply
    it undoes and which it cannot. Exit 0 allowed, 1 denied, 2 needs approval, 3 bad input (no earlier apply
    without --to, REF not a commit, the configuration at REF does not plan)."""
    from guardrail.adapters.render.rollback import render_json, render_text
    from guardrail.services.rollback import plan_rollback

    request = _request(directory, to, config, store, policy, namespace, all_namespaces, terraform_bin, var)
    planned = plan_rollback(request)
    if output_format is RollbackFormat.json:
        emit(render_json(planned))
    else:
        emit(render_text(planned, color=use_color()))
    return planned.report.exit_code


@rollback_app.command("apply")
def apply_command(
    directory: Path = DIRECTORY,
    to: str | None = TO,
    output_format: RollbackFormat = FORMAT,
    var: list[str] | None = VARS,
    config: Path | None = CONFIG,
    store: str | None = STORE,
    policy: list[Path] | None = POLICY,
    namespace: list[str] | None = NAMESPACE,
    all_namespaces: bool = ALL_NAMESPACES,
    terraform_bin: str | None = TERRAFORM_BIN,
) -> int:
    """Plan the rollback, apply exactly that plan through the gate (locks, approvals, break-glass, workspace
    lock, rollback point), then plan REF again. Exit 0 rollback verified; 1 denied, or applied but a new plan
    still changes something (listed); 2 needs approval (nothing applied); 3 bad input or terraform failed."""
    from guardrail.adapters.render.rollback import render_json, render_text
    from guardrail.services.rollback import apply_rollback

    request = _request(directory, to, config, store, policy, namespace, all_namespaces, terraform_bin, var)
    as_json = output_format is RollbackFormat.json  # stdout is then one JSON document
    done = apply_rollback(request, on_line=partial(show_line, keep_stdout_clean=as_json))
    if output_format is RollbackFormat.json:
        emit(render_json(done.plan, done.result))
    else:
        emit(render_text(done.plan, done.result, color=use_color()))
    if not done.result.applied:
        return done.plan.report.exit_code
    return 0 if done.result.verified else 1
