"""`guardrail nodes ...`: GPU node-pool cycles that stop at the first node that does not come back healthy.

`rehearse` runs the cycle's engine, unchanged, against a simulated pool described in a pool file.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.options import CONFIG, load_config, sub_app
from guardrail.cli.output import emit, use_color
from guardrail.cli.tables import print_json

nodes_app = sub_app("nodes", "GPU node-pool cycles that stop at the first node that does not come back healthy.")


class RehearsalFormat(StrEnum):
    text = "text"
    json = "json"


@nodes_app.command("rehearse")
def rehearse_command(
    pool_file: Path = typer.Argument(..., help="The simulated pool (YAML; see examples/nodes/)."),
    output_format: RehearsalFormat = typer.Option(RehearsalFormat.text, "--format", "-f", help="text or json."),
    config: Path | None = CONFIG,
) -> None:
    """Cycle a simulated pool with the real engine, in simulated time. Exit 0 when every node came back,
    1 when the cycle halted, 3 for a bad pool file or guardrail.yaml."""
    from guardrail.config.pool_file import load_pool_file
    from guardrail.core.nodes.records import Outcome
    from guardrail.services.nodes_rehearse import rehearse

    pool = load_pool_file(pool_file)
    result = rehearse(pool, load_config(config).nodes)
    if output_format is RehearsalFormat.json:
        print_json(result.report.to_json())
    else:
        from guardrail.adapters.render.nodes_text import render_cycle

        emit(
            render_cycle(result.report, result.preflight, color=use_color(), simulated_seconds=result.simulated_seconds)
        )
    raise typer.Exit(0 if result.report.outcome is Outcome.COMPLETED else 1)
