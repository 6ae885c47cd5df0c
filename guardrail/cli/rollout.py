"""`guardrail rollout ...`: fleet canaries of cluster-wide config. `rehearse` runs the engine against a
simulated fleet: exit 0 when it completed with every cluster up, 1 when it halted, rolled back or left
a cluster down, 3 for a bad fleet file or template."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.options import sub_app
from guardrail.cli.output import emit
from guardrail.cli.tables import print_json

rollout_app = sub_app("rollout", "Roll cluster-wide config out canary first, with a control-plane load gate.")


class Strategy(StrEnum):
    guarded = "guarded"
    naive = "naive"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@rollout_app.command("rehearse")
def rehearse_command(
    fleet: Path = typer.Argument(..., help="Fleet file: clusters, workload, cost, rollout settings."),
    strategy: Strategy = typer.Option(
        Strategy.guarded, "--strategy", help="guarded (the engine) or naive (every node of every cluster at once)."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
) -> int:
    """Rehearse a rollout on a simulated fleet: what the engine would do, and what the clusters would feel."""
    from guardrail.core.rollout.rehearsal import Strategy as Chosen
    from guardrail.services.rollout_rehearse import rehearse

    report = rehearse(fleet, Chosen(strategy.value))
    if output_format is OutputFormat.json:
        print_json(report.to_json())
    else:
        from guardrail.cli.rollout_text import rehearsal_text

        emit(rehearsal_text(report, fleet))  # made inert line by line
    return 0 if report.succeeded else 1
