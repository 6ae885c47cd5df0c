"""`guardrail nodes ...`: GPU node-pool cycles that stop at the first node that does not come back healthy.

`plan` shows a real pool's cycle and changes nothing; `cycle` runs it (gated by locks and approvals);
`status`, `pause`, `resume` and `abort` work on cycles kept in the store, from any terminal; `rehearse`
runs the cycle's engine, unchanged, against a simulated pool described in a pool file.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.options import CONFIG, STORE, load_config, sub_app
from guardrail.cli.output import emit, use_color
from guardrail.cli.tables import print_json, print_table

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


POOL = typer.Argument(
    ...,
    help="The pool: a name (the agentpool, gke-nodepool or eks nodegroup label) or a label selector.",
    show_default=False,
)
CONTEXT = typer.Option(None, "--context", help="kubeconfig context of the cluster (default: the current one).")
KUBECONFIG = typer.Option(None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config).")
REPLACE_COMMAND = typer.Option(
    None,
    "--replace-command",
    help="jinja2 template of the command that replaces a node's machine, given name, provider_id, zone, region "
    "and labels, run without a shell (default: delete the Node and let the managed pool re-create it).",
)
RUN_ID = typer.Argument(..., help="The cycle's run id (guardrail nodes status lists them).", show_default=False)


@nodes_app.command("plan")
def plan_command(
    pool: str = POOL,
    context: str | None = CONTEXT,
    kubeconfig: str | None = KUBECONFIG,
    replace_command: str | None = REPLACE_COMMAND,
    output_format: RehearsalFormat = typer.Option(RehearsalFormat.text, "--format", "-f", help="text or json."),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Plan a cycle of a real pool and change nothing: strata in order, canaries, budgets, capacity headroom
    and batch sizes, the pre-flight (earlier cycles read from the store when it exists), the locks that
    would refuse it and its fingerprint. Exit 0 clean; 2 a pre-flight finding or an approval a person should
    see first; 1 a lock would refuse the cycle; 3 bad input (no node matches, the cluster does not answer, a
    replace command that does not parse or render)."""
    from guardrail.cli.nodes_text import plan_json, plan_text
    from guardrail.services.nodes_plan import PoolTarget, plan_pool

    planned = plan_pool(PoolTarget(pool, context, kubeconfig, replace_command), load_config(config), store)
    if output_format is RehearsalFormat.json:
        print_json(plan_json(planned))
    else:
        emit(plan_text(planned))
    raise typer.Exit(planned.exit_code)


@nodes_app.command("cycle")
def cycle_command(
    pool: str = POOL,
    context: str | None = CONTEXT,
    kubeconfig: str | None = KUBECONFIG,
    replace_command: str | None = REPLACE_COMMAND,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Cycle a real pool node by node, stopping at the first node that does not come back healthy. Exit 0
    completed (or paused from another terminal); 1 halted, aborted, or refused by a lock or a cycle of the
    pool already active; 2 waiting for approval (nodes.approve_before_cycle, or a pre-flight finding the
    cycle would halt on); 3 bad input."""
    import sys

    from guardrail.adapters.render.nodes_text import render_cycle
    from guardrail.cli.nodes_text import gate_lines, run_line
    from guardrail.services.nodes_plan import PoolTarget
    from guardrail.services.nodes_runs import CycleView, cycle_pool

    def started(view: CycleView) -> None:
        emit(f"started {run_line(view)}")
        sys.stdout.flush()  # the cycle takes hours: say where to watch it before it begins

    target = PoolTarget(pool, context, kubeconfig, replace_command)
    outcome = cycle_pool(target, load_config(config), store, started=started)
    if outcome.view is None:
        verdict = outcome.reviewed.report.verdict
        emit("\n".join(gate_lines(verdict.decision, verdict.findings, outcome.plan, outcome.reviewed.report.notes)))
    else:
        if outcome.view.report is not None:
            emit(render_cycle(outcome.view.report, outcome.plan.cycle.preflight, color=use_color()))
        emit(run_line(outcome.view))
    raise typer.Exit(outcome.exit_code)


@nodes_app.command("status")
def status_command(
    run_id: str | None = typer.Argument(None, help="A cycle's run id (default: list every cycle).", show_default=False),
    output_format: RehearsalFormat = typer.Option(RehearsalFormat.text, "--format", "-f", help="text or json."),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Every node cycle in the store, or one in full: its strata, phase timings against budgets and why it
    stopped. Exit 0; 3 for an unknown run."""
    from guardrail.adapters.render.nodes_text import render_cycle
    from guardrail.cli.nodes_text import RUN_COLUMNS, run_line, run_rows, view_json
    from guardrail.services import wiring
    from guardrail.services.nodes_runs import cycle_view, cycle_views

    opened = wiring.run_store(load_config(config), store)
    try:
        views = [cycle_view(opened, run_id)] if run_id is not None else cycle_views(opened)
    finally:
        opened.close()
    if output_format is RehearsalFormat.json:
        print_json(view_json(views[0]) if run_id is not None else [view_json(v) for v in views])
    elif run_id is None:
        print_table("node cycles", RUN_COLUMNS, run_rows(views))
    else:
        view = views[0]
        if view.report is not None:
            emit(render_cycle(view.report, color=use_color()))
        emit(run_line(view) + (f": {view.problem}" if view.problem else ""))


def _request(run_id: str, config: Path | None, store: str | None, action: str) -> None:
    from guardrail.cli.nodes_text import run_line
    from guardrail.services import wiring
    from guardrail.services.nodes_runs import abort_cycle, pause_cycle
    from guardrail.services.store import actor

    ask = {"pause": pause_cycle, "abort": abort_cycle}[action]
    opened = wiring.run_store(load_config(config), store)
    try:
        view = ask(opened, run_id, actor())
    finally:
        opened.close()
    emit(run_line(view))
    if view.record.requested is not None:
        emit(
            f"the process driving it acts on the {action} at its next step; if none does any more (it was "
            f"stopped), guardrail nodes resume {run_id} carries it out"
        )


@nodes_app.command("pause")
def pause_command(run_id: str = RUN_ID, config: Path | None = CONFIG, store: str | None = STORE) -> None:
    """Ask a cycle to pause: no node starts any more, the nodes in hand finish. Exit 0; 3 unknown or ended."""
    _request(run_id, config, store, "pause")


@nodes_app.command("abort")
def abort_command(run_id: str = RUN_ID, config: Path | None = CONFIG, store: str | None = STORE) -> None:
    """Abort a cycle: nodes not yet replaced are handed back uncordoned, the others left for a person; a cycle
    with nothing in hand (paused, or halted) ends at once and frees the pool. Exit 0; 3 unknown or ended."""
    _request(run_id, config, store, "abort")


@nodes_app.command("resume")
def resume_command(
    run_id: str = RUN_ID,
    context: str | None = typer.Option(None, "--context", help="kubeconfig context (default: the cycle's own)."),
    kubeconfig: str | None = KUBECONFIG,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> None:
    """Carry a paused or interrupted cycle (a killed process) on from its last completed phase, on its cluster
    and with its replace command. Exit codes as for cycle; a halted cycle stays as it is (exit 1)."""
    from guardrail.adapters.render.nodes_text import render_cycle
    from guardrail.cli.nodes_text import run_line
    from guardrail.services.nodes_runs import resume_pool_cycle

    view = resume_pool_cycle(run_id, load_config(config), store, context=context, kubeconfig=kubeconfig)
    if view.report is not None:
        emit(render_cycle(view.report, color=use_color()))
    emit(run_line(view))
    raise typer.Exit(view.exit_code)
