"""`guardrail apply PLANFILE`: apply exactly the plan that was reviewed, once allowed."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from guardrail.cli.main import app
from guardrail.cli.options import ALL_NAMESPACES, CONFIG, NAMESPACE, POLICY, STORE, TERRAFORM_BIN, load_config
from guardrail.cli.output import emit, show_line, use_color


@app.command("apply")
def apply_command(
    plan_file: Path = typer.Argument(
        ..., metavar="PLANFILE", help="Binary plan from guardrail plan --out, in its configuration directory."
    ),
    config: Path | None = CONFIG,
    store: str | None = STORE,
    policy: list[Path] | None = POLICY,
    namespace: list[str] | None = NAMESPACE,
    all_namespaces: bool = ALL_NAMESPACES,
    terraform_bin: str | None = TERRAFORM_BIN,
    allow_dirty: bool = typer.Option(
        False, "--allow-dirty", help="Apply a plan made from a dirty git tree (recorded in the audit log)."
    ),
) -> int:
    """Re-check the plan file (locks, approvals, break-glass) and apply it when allowed.

    Exit 0 applied; 1 denied, made from a dirty tree, workspace locked by another apply, or stale plan; 2
    still needs approval;
    3 bad input or terraform failed. Nothing is applied unless the exit code is 0.
    """
    from guardrail.services.apply import ApplyRequest, apply
    from guardrail.services.wiring import renderer

    outcome = apply(
        ApplyRequest(
            plan_file=plan_file,
            settings=load_config(config, plan=plan_file),
            store=store,
            policies=tuple(policy or ()),
            namespaces=tuple(namespace or ()),
            all_namespaces=all_namespaces,
            terraform_bin=terraform_bin,
            allow_dirty=allow_dirty,
        ),
        on_line=show_line,  # terraform's output as it comes, not once it is over
    )
    emit(renderer("text", color=use_color()).render(outcome.report))
    if not outcome.applied:
        decision = outcome.report.verdict.decision.value
        sys.stderr.write(f"guardrail: not applied: {plan_file} is {decision}, not allow\n")
        return outcome.report.exit_code
    if outcome.rollback is not None:
        emit(f"rollback point: {outcome.rollback}")
    else:
        emit("rollback point: none (there was no state before this apply)")
    emit(f"applied {outcome.report.changeset.fingerprint} to {outcome.workspace}")
    return 0
