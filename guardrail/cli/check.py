"""`guardrail check` and `guardrail plan`: the pre-apply gate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.main import app
from guardrail.cli.options import (
    ALL_NAMESPACES,
    CONFIG,
    NAMESPACE,
    POLICY,
    STORE,
    TERRAFORM_BIN,
    load_config,
    now,
)
from guardrail.cli.output import show_report
from guardrail.core.errors import BadInputError


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    junit = "junit"


PLAN_HELP = "A `terraform show -json` file, a binary plan file, or a directory to plan."
FORMAT = typer.Option(OutputFormat.text, "--format", "-f", help="Report format.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write the report to FILE (stdout gets the text report).")
VARS = typer.Option(None, "--var", help="k=v passed to terraform plan for a directory (repeatable).")


def parse_vars(pairs: list[str] | None) -> dict[str, str]:
    """`--var k=v` pairs; a pair without `=` is a usage error (exit 3)."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise BadInputError(f"--var {pair!r}: expected NAME=VALUE")
        result[name] = value
    return result


def _gate(
    *,
    plan: Path,
    config: Path | None,
    policy: list[Path] | None,
    namespace: list[str] | None,
    all_namespaces: bool,
    output_format: OutputFormat,
    output: Path | None,
    terraform_bin: str | None,
    variables: dict[str, str],
    plan_out: Path | None,
    store: str | None,
) -> int:
    # Imported here so `guardrail --help` stays instant; the store's libraries start loading in a helper
    # process first, beside these imports and the plan's parse.
    from guardrail.services.wiring import start_store_helper

    helper = start_store_helper()
    try:
        from guardrail.services.check import CheckRequest
        from guardrail.services.review import review

        settings = load_config(config, plan=plan)
        request = CheckRequest(
            plan=plan,
            settings=settings,
            policies=tuple(policy or ()),
            namespaces=tuple(namespace or ()),
            all_namespaces=all_namespaces,
            terraform_bin=terraform_bin,
            variables=variables,
            plan_out=plan_out,
        )
        report = review(request, store, helper=helper, clock=now)
    finally:
        if helper is not None:
            helper.stop()
    show_report(report, output_format.value, output)
    return report.exit_code


@app.command("check")
def check_command(
    plan: Path = typer.Argument(..., help=PLAN_HELP, show_default=False),
    config: Path | None = CONFIG,
    policy: list[Path] | None = POLICY,
    namespace: list[str] | None = NAMESPACE,
    all_namespaces: bool = ALL_NAMESPACES,
    output_format: OutputFormat = FORMAT,
    output: Path | None = OUTPUT,
    terraform_bin: str | None = TERRAFORM_BIN,
    var: list[str] | None = VARS,
    store: str | None = STORE,
) -> int:
    """Check a plan and record the check: exit 0 allow, 1 deny, 2 needs approval, 3 bad input."""
    return _gate(
        plan=plan,
        config=config,
        policy=policy,
        namespace=namespace,
        all_namespaces=all_namespaces,
        output_format=output_format,
        output=output,
        terraform_bin=terraform_bin,
        variables=parse_vars(var),
        plan_out=None,
        store=store,
    )


@app.command("plan")
def plan_command(
    directory: Path = typer.Argument(..., help="Terraform configuration directory.", show_default=False),
    var: list[str] | None = VARS,
    out: Path | None = typer.Option(None, "--out", help="Keep the binary plan file here (for apply)."),
    config: Path | None = CONFIG,
    policy: list[Path] | None = POLICY,
    namespace: list[str] | None = NAMESPACE,
    all_namespaces: bool = ALL_NAMESPACES,
    output_format: OutputFormat = FORMAT,
    output: Path | None = OUTPUT,
    terraform_bin: str | None = TERRAFORM_BIN,
    store: str | None = STORE,
) -> int:
    """Run terraform plan in DIRECTORY, then check and record the plan like `guardrail check`."""
    if not directory.is_dir():
        raise BadInputError(f"{directory}: not a directory")
    return _gate(
        plan=directory,
        config=config,
        policy=policy,
        namespace=namespace,
        all_namespaces=all_namespaces,
        output_format=output_format,
        output=output,
        terraform_bin=terraform_bin,
        variables=parse_vars(var),
        plan_out=out,
        store=store,
    )
