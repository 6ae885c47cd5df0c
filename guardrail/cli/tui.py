"""`guardrail tui`: the operator's terminal app on the same services as the other commands."""

from __future__ import annotations

from pathlib import Path

import typer

from guardrail.cli.main import app
from guardrail.cli.options import CONFIG, STORE, TERRAFORM_BIN, load_config
from guardrail.config.rehearsal_files import sort_rehearsal_files


@app.command("tui")
def tui_command(
    plans: list[Path] | None = typer.Argument(
        None, help="Plans to review: the first is opened, the others are one command away.", show_default=False
    ),
    config: Path | None = CONFIG,
    store: str | None = STORE,
    terraform_bin: str | None = TERRAFORM_BIN,
    rehearse: list[Path] | None = typer.Option(
        None,
        "--rehearse",
        help="A simulated fleet (clusters:) to rehearse on the Rollouts screen, or a simulated node pool (pool:) "
        "on the Nodes screen; repeatable (one fleet, any number of pools).",
    ),
) -> int:
    """Review a plan, its blast radius and findings; manage locks, approvals and the audit log; follow, pause
    and roll back fleet rollouts; watch, pause and abort node-pool cycles; rehearse simulated fleets and pools."""
    # Imported here so that other commands never load Textual.
    from guardrail.services.session import OperatorSession
    from guardrail.tui.app import make_app

    settings = load_config(config, plan=plans[0] if plans else None)
    files = sort_rehearsal_files(rehearse or ())
    session = OperatorSession(
        settings, store_url=store, terraform_bin=terraform_bin, fleet_file=files.fleet, pool_files=files.pools
    )
    result = make_app(session, list(plans or ())).run()
    return result or 0
