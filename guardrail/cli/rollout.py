"""`guardrail rollout ...`: fleet canaries of cluster-wide config. `plan`, `start`, `status`, `pause`,
`resume` and `abort` work on real clusters (kubeconfig contexts of a fleet file) with runs kept in the
store; `rehearse` runs the engine against a simulated fleet: exit 0 when it completed with every cluster
up, 1 when it halted, rolled back or left a cluster down, 3 for a bad fleet file or template."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from guardrail.cli.options import CONFIG, STORE, load_config, sub_app
from guardrail.cli.output import emit
from guardrail.cli.tables import print_json

if TYPE_CHECKING:
    from guardrail.core.runs import RunStatus

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


PATHS = typer.Argument(..., help="Manifest files or folders (jinja2 templates when they end in .j2).")
FLEET = typer.Option(..., "--fleet", help="Fleet file: the clusters (kubeconfig contexts) and their values.")
RUN_ID = typer.Argument(..., help="The rollout's id (guardrail rollout status lists them).")


@rollout_app.command("plan")
def plan_command(
    paths: list[Path] = PATHS,
    fleet: Path = FLEET,
    config: Path | None = CONFIG,
) -> int:
    """The steps a rollout would take on each cluster of the fleet, read from the live clusters; nothing
    changes."""
    from guardrail.cli.rollout_runs_text import plan_text
    from guardrail.services.rollout_runs import FleetRequest, plan_rollout

    emit(plan_text(plan_rollout(FleetRequest(paths, fleet, load_config(config)))))
    return 0


@rollout_app.command("start")
def start_command(
    paths: list[Path] = PATHS,
    fleet: Path = FLEET,
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> int:
    """The gate (as kube check judges the objects, with locks, approvals and break-glass), then the steps
    with health gates, driven here until done: exit 0 completed (or paused), 1 refused, halted or rolled
    back, 2 the gate needs approval."""
    from guardrail.cli.output import use_color
    from guardrail.cli.rollout_runs_text import ended_text
    from guardrail.core.report import EXIT_CODES
    from guardrail.services import wiring
    from guardrail.services.rollout_runs import FleetRequest, opened_run_store, rollout_status, start_rollout

    settings = load_config(config)
    with opened_run_store(settings, store) as opened:
        started = start_rollout(FleetRequest(paths, fleet, settings), opened)
        if started.run is None:
            emit(wiring.renderer("text", color=use_color()).render(started.gate))
            return EXIT_CODES[started.gate.verdict.decision]
        (view,) = rollout_status(opened, started.run.id)
    emit(ended_text(view))
    return _exit(view.record.status)


@rollout_app.command("status")
def status_command(
    run_id: str | None = typer.Argument(None, help="A rollout's id: its clusters, gates and projection."),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
    config: Path | None = CONFIG,
    store: str | None = STORE,
) -> int:
    """Every rollout, newest first; or one in full."""
    from guardrail.cli.rollout_runs_text import run_json, run_text, runs_text
    from guardrail.services.rollout_runs import opened_run_store, rollout_status

    with opened_run_store(load_config(config), store) as opened:
        views = rollout_status(opened, run_id)
    if output_format is OutputFormat.json:
        print_json([run_json(v) for v in views] if run_id is None else run_json(views[0]))
    else:
        emit(run_text(views[0]) if run_id is not None else runs_text(views))
    return 0


@rollout_app.command("pause")
def pause_command(run_id: str = RUN_ID, config: Path | None = CONFIG, store: str | None = STORE) -> int:
    """Ask the process that drives the rollout to pause after its current action."""
    from guardrail.core.runs import RunRequest
    from guardrail.services.rollout_runs import opened_run_store, request_rollout

    with opened_run_store(load_config(config), store) as opened:
        request_rollout(opened, run_id, RunRequest.PAUSE)
    emit(f"pause of {run_id} requested: it pauses after its current action")
    return 0


@rollout_app.command("resume")
def resume_command(run_id: str = RUN_ID, config: Path | None = CONFIG, store: str | None = STORE) -> int:
    """Drive the rollout here from its last completed step: after a pause, a crash or kill -9."""
    from guardrail.cli.rollout_runs_text import ended_text
    from guardrail.services.rollout_runs import opened_run_store, resume_rollout, rollout_status

    settings = load_config(config)
    with opened_run_store(settings, store) as opened:
        resume_rollout(opened, run_id, settings)
        (view,) = rollout_status(opened, run_id)
    emit(ended_text(view))
    return _exit(view.record.status)


@rollout_app.command("abort")
def abort_command(run_id: str = RUN_ID, config: Path | None = CONFIG, store: str | None = STORE) -> int:
    """Roll the rollout back: its driving process does between actions; one nobody drives is rolled back
    here. Exit 0 when rolled back and verified (or handed to its driver), 1 when the rollback is not verified."""
    from guardrail.cli.rollout_runs_text import ended_text
    from guardrail.core.runs import RunStatus
    from guardrail.services.rollout_runs import abort_rollout, opened_run_store, rollout_status

    settings = load_config(config)
    with opened_run_store(settings, store) as opened:
        record = abort_rollout(opened, run_id, settings)
        if record.status.active:
            emit(f"abort of {run_id} requested: the process driving it rolls it back after its current action")
            return 0
        (view,) = rollout_status(opened, run_id)
    emit(ended_text(view))
    verified = view.state.rollback is None or view.state.rollback.startswith("verified")
    return 0 if record.status is RunStatus.ABORTED and verified else 1


def _exit(status: RunStatus) -> int:
    from guardrail.core.runs import RunStatus

    return 0 if status in (RunStatus.COMPLETED, RunStatus.PAUSED) else 1
