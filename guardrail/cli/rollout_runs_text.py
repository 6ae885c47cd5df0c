"""Real rollouts for people: the plan, the gate's stop, a run's status (each cluster's step, coverage,
gates and utilisation, the projection's arithmetic, what to approve), and how a run ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guardrail.cli.output import inert
from guardrail.core.rollout.gates import GateStatus
from guardrail.core.runs import RunStatus
from guardrail.services.rollout_runs import Planned
from guardrail.services.rollout_status import RunView

_BARS = " ▁▂▃▄▅▆▇█"


def plan_text(planned: Planned) -> str:
    lines = [
        f"{planned.mode.value} rollout of {planned.workload}, clusters smallest first "
        f"(nodes held with label {planned.label} until their batch)",
        "",
    ]
    for cluster in planned.clusters:
        total = planned.nodes.get(cluster.name, cluster.nodes)
        lines.append(f"{cluster.name}: reaches {cluster.nodes:,} of {total:,} nodes")
        if not cluster.steps:
            lines.append("  nothing to roll out: the DaemonSet reaches no node")
        for step in cluster.steps:
            wide = ", cluster-wide" if step.cluster_wide else ""
            lines.append(f"  {step.label:>7}  {step.nodes:>6,} nodes  soak {_duration(step.soak_seconds)}{wide}")
    return _lines(lines)


def runs_text(views: Sequence[RunView]) -> str:
    if not views:
        return "no rollouts\n"
    lines = [f"{'run':<12} {'status':<18} {'updated (UTC)':<20} {'workload':<44} at"]
    for view in views:
        updated = view.record.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{view.id:<12} {view.record.status.value:<18} {updated:<20} {view.record.subject:<44} {view.where}"
        )
    return _lines(lines)


def run_text(view: RunView) -> str:
    state, record = view.state, view.record
    lines = [
        f"rollout {view.id}: {record.status.value} ({state.phase.value}), {state.mode.value} {record.subject}",
        f"started by {record.actor} at {record.created_at:%Y-%m-%d %H:%M:%S} UTC, step {record.step}",
    ]
    if record.requested is not None:
        lines.append(f"requested: {record.requested.value} (the driving process acts on it between actions)")
    if state.reason:
        lines.append(f"reason: {state.reason}")
    if state.rollback:
        lines.append(f"rollback {state.rollback}")
    if view.fingerprint is not None and state.awaiting is not None:
        awaiting = state.awaiting
        lines += [
            f"awaiting approval to widen {awaiting['cluster']} to {awaiting['step']} ({awaiting['nodes']:,} nodes):",
            f"  guardrail approve {view.fingerprint}",
        ]
    lines += ["", f"{'cluster':<16} {'state':<13} {'step':<8} {'coverage':>9}  utilisation"]
    for c in view.clusters:
        spark = sparkline(c.utilisation)
        last = f" {c.utilisation[-1]:.2f}" if c.utilisation else ""
        lines.append(f"{c.name:<16} {c.state:<13} {c.step or '-':<8} {c.coverage:>9.1%}  {spark}{last}")
        failing = [g for g in c.gates if g.status is not GateStatus.PASS]
        if c.gates:
            lines.append(f"  gates: {len(c.gates) - len(failing)}/{len(c.gates)} pass")
        lines += [f"    {g.status.value}: {g.gate}: {g.detail}" for g in failing]
    lines += _projection(view.projection)
    return _lines(lines)


def ended_text(view: RunView) -> str:
    """How a run this process drove ended, and what to do next."""
    record, state = view.record, view.state
    if record.status is RunStatus.PAUSED:
        return _lines([f"rollout {view.id} paused at {view.where}: guardrail rollout resume {view.id}"])
    lines = [f"rollout {view.id} {record.status.value}: {state.reason}"]
    if state.rollback:
        lines.append(f"rollback {state.rollback}")
    if record.status is RunStatus.HALTED:
        lines.append(f"halted and rolled back; guardrail rollout abort {view.id} closes it")
    return _lines(lines)


def run_json(view: RunView) -> dict[str, Any]:
    """A run for machines (`status --format json`)."""
    record, state = view.record, view.state
    return {
        "id": record.id,
        "status": record.status.value,
        "workload": record.subject,
        "phase": state.phase.value,
        "mode": state.mode.value,
        "actor": record.actor,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "requested": record.requested.value if record.requested else None,
        "reason": state.reason,
        "rollback": state.rollback,
        "awaiting": state.awaiting,
        "approve": view.fingerprint,
        "clusters": [
            {
                "name": c.name,
                "nodes": c.nodes,
                "state": c.state,
                "step": c.step,
                "coverage": round(c.coverage, 4),
                "gates": [g.to_json() for g in c.gates],
                "utilisation": list(c.utilisation),
            }
            for c in view.clusters
        ],
        "projection": view.projection,
    }


def sparkline(values: Sequence[float]) -> str:
    """Utilisation (0 to 1, higher clipped) as one character per value."""
    return "".join(_BARS[min(len(_BARS) - 1, max(0, round(v * (len(_BARS) - 1))))] for v in values[-60:])


def _projection(payload: Mapping[str, Any] | None) -> list[str]:
    if payload is None:
        return []
    lines = ["", f"load gate ({payload.get('decision')}):"]
    if "model" in payload:
        lines.append(f"  {payload['model']}")
    if "next" in payload:
        lines.append(f"  next step  {payload['next']['arithmetic']}")
    lines += [f"  full fleet {p['arithmetic']}" for p in payload.get("fleet", [])]
    if payload.get("projection") == "none yet":
        lines.append("  no projection yet: the canary has not been measured")
    return lines


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _lines(lines: list[str]) -> str:
    return "\n".join(inert(line) for line in lines) + "\n"
