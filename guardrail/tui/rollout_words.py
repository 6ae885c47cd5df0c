"""The words of the Rollouts screen: one line per cluster, a run's summary, the projection, and what each
confirmed action will do. Pure: tested without an app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrail.core.rollout.gates import GateStatus
from guardrail.core.rollout.rehearsal import ClusterResult, ClusterState, RehearsalReport
from guardrail.core.runs import RunStatus
from guardrail.services.rollout_status import ClusterProgress, RunView
from guardrail.tui.inert import Tone

# Utilisation 1 is an API server at its limit: a sparkline's full bar.
FULL_SCALE = 1.0
STATUS_TONES = {
    RunStatus.RUNNING: Tone.ACCENT,
    RunStatus.AWAITING_APPROVAL: Tone.WARN,
    RunStatus.PAUSED: Tone.WARN,
    RunStatus.HALTED: Tone.BAD,
    RunStatus.COMPLETED: Tone.GOOD,
    RunStatus.ROLLED_BACK: Tone.BAD,
    RunStatus.ABORTED: Tone.MUTED,
}
CLUSTER_TONES = {
    "done": Tone.GOOD,
    "rolling": Tone.ACCENT,
    "rolled back": Tone.BAD,
    "rolling back": Tone.BAD,
    "prepared": Tone.MUTED,
    "waiting": Tone.MUTED,
}
REHEARSED_TONES = {
    ClusterState.COMPLETED: Tone.GOOD,
    ClusterState.PARTIAL: Tone.WARN,
    ClusterState.NOT_STARTED: Tone.MUTED,
    ClusterState.ROLLED_BACK: Tone.WARN,
    ClusterState.DOWN: Tone.BAD,
}


def cluster_line(cluster: ClusterProgress) -> str:
    """`dev-1  rolling  10%  5/50 nodes (10%)  gates 11/11 pass  utilisation 0.24`"""
    failing = [g for g in cluster.gates if g.status is not GateStatus.PASS]
    gates = f"gates {len(cluster.gates) - len(failing)}/{len(cluster.gates)} pass" if cluster.gates else "no gates yet"
    last = f"  utilisation {cluster.utilisation[-1]:.2f}" if cluster.utilisation else ""
    return (
        f"{cluster.name}  {cluster.state}  {cluster.step or '-'}  {cluster.deployed:,}/{cluster.nodes:,} nodes "
        f"({cluster.coverage:.0%})  {gates}{last}"
    )


def failing_gates(cluster: ClusterProgress) -> list[str]:
    return [f"{g.status.value}: {g.gate}: {g.detail}" for g in cluster.gates if g.status is not GateStatus.PASS]


def summary_lines(view: RunView) -> list[str]:
    """The run: status, what it rolls out, where it is, why it stopped, what to approve."""
    record, state = view.record, view.state
    lines = [f"{view.id}  {record.status.value.upper()}  {state.mode.value} {record.subject}  ({view.where})"]
    if record.requested is not None:
        lines.append(f"{record.requested.value} requested: the driving process acts on it between actions")
    if state.reason:
        lines.append(f"reason: {state.reason}")
    if state.rollback:
        lines.append(f"rollback {state.rollback}")
    if view.fingerprint is not None:
        lines.append(f"approve the widening: guardrail approve {view.fingerprint}")
    return lines


def projection_lines(payload: Mapping[str, Any] | None) -> list[str]:
    """The load gate's last arithmetic: the model, the next step, each cluster at 100%."""
    if payload is None:
        return []
    if payload.get("projection") == "none yet":
        return ["projection: none yet (the canary has not been measured)"]
    lines = [f"projection ({payload.get('decision')}): {payload.get('model', '')}"]
    if "next" in payload:
        lines.append(f"  next step   {payload['next']['arithmetic']}")
    lines += [f"  at 100%     {p['arithmetic']}" for p in payload.get("fleet", [])]
    return lines


def rehearsal_title(report: RehearsalReport) -> str:
    return f"{report.strategy.value.upper()}: {report.outcome}"


def rehearsed_line(result: ClusterResult) -> str:
    return (
        f"{result.name}  {result.state.value}  peak {result.peak_utilisation:.2f}  coverage {result.coverage:.0%}"
        f"  DNS failures {result.dns_failures:,}"
    )


def pause_words(run_id: str) -> str:
    return (
        f"Pause rollout {run_id}: the process driving it stops after its current action and keeps every cluster "
        "as it is (nothing is rolled back). Resume continues from the last completed step."
    )


def resume_words(run_id: str) -> str:
    return (
        f"Resume rollout {run_id} here: this terminal drives it from its last completed step until it ends or "
        "pauses, recording every step. Quitting leaves it as a killed process would: guardrail rollout resume "
        "continues it."
    )


def abort_words(run_id: str) -> str:
    return (
        f"Abort rollout {run_id}: roll back every cluster it changed (the DaemonSet removed or restored, the "
        "nodes released) and wait until the gates are back at their baseline. The process driving it does so "
        "after its current action; if nobody drives it, this terminal does."
    )
