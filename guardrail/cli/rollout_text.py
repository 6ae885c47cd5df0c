"""The rehearsal report for people: the outcome and why, one line per cluster, the load gate's
arithmetic, and the steps in simulated time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guardrail.cli.output import inert
from guardrail.core.kube.wording import plural
from guardrail.core.rollout.rehearsal import RehearsalReport, RehearsalStep, clock_text


def rehearsal_text(report: RehearsalReport, fleet: Path) -> str:
    lines = [
        f"rehearsal of {fleet} ({report.strategy.value}, {clock_text(report.duration_seconds)} simulated)",
        f"outcome: {report.outcome}",
        f"reason:  {report.reason}",
        "",
        f"{'cluster':<20} {'nodes':>7} {'coverage':>9} {'peak utilisation':>17} {'DNS failures':>13}  state",
    ]
    for c in report.clusters:
        lines.append(
            f"{c.name:<20} {c.nodes:>7,} {c.coverage:>9.1%} {c.peak_utilisation:>17.2f} {c.dns_failures:>13,}"
            f"  {c.state.value}"
        )
    projection = _last_projection(report.steps)
    if projection is not None:
        lines += ["", "load gate (the last projection):", f"  {projection.get('model', '')}"]
        lines += [f"  next step  {projection['next']['arithmetic']}"] if "next" in projection else []
        lines += [f"  full fleet {p['arithmetic']}" for p in projection.get("fleet", [])]
    lines += ["", "steps:"]
    lines += [f"  {clock_text(s.elapsed):>8}  {s.kind:<11} {_summary(s.payload)}" for s in report.steps if _shown(s)]
    return "\n".join(inert(line) for line in lines) + "\n"


def _last_projection(steps: tuple[RehearsalStep, ...]) -> Mapping[str, Any] | None:
    decisions = [s.payload for s in steps if s.kind == "decision" and "fleet" in s.payload]
    return decisions[-1] if decisions else None


def _shown(step: RehearsalStep) -> bool:
    return not step.payload.get("starting") and step.payload.get("action") != "capture"


def _summary(payload: Mapping[str, Any]) -> str:
    if "decision" in payload:
        return _decision(payload)
    if "action" in payload:
        where = f"{payload.get('cluster')}" + (
            f" {payload['step']} ({plural(payload['nodes'], 'node')})" if "step" in payload else ""
        )
        status = "" if payload.get("ok", True) else f": failed: {payload.get('detail')}"
        return f"{payload['action']} {where}{status}"
    if "cost" in payload:
        cost = payload["cost"]
        return (
            f"{payload.get('cluster')} {payload.get('step')}: {plural(cost['pods'], 'new pod')} cost "
            f"{cost['seats_per_pod']:.6f} seats each at {cost['objects']:,.0f} objects ({cost['method']})"
        )
    if "baseline" in payload:
        baseline = payload["baseline"]
        return (
            f"{payload.get('cluster')} baseline: utilisation {baseline['utilisation']:.2f} of {baseline['seats']:,.0f} "
            f"seats, {baseline['nodes_ready']:,} nodes Ready, {baseline['objects']:,.0f} objects"
        )
    if "gates_failed" in payload:
        return "gates failed: " + "; ".join(payload["gates_failed"])
    if "rollback" in payload:
        return f"rollback {payload['rollback']}"
    if "plan" in payload:
        plan = ", ".join(f"{c['name']} ({len(c['steps'])} steps)" for c in payload["plan"])
        return f"{payload.get('mode')} {payload.get('workload')}: {plan}"
    return ", ".join(f"{k}={v}" for k, v in payload.items())


def _decision(payload: Mapping[str, Any]) -> str:
    decision = payload["decision"]
    if decision in ("widen", "await-approval"):
        target = payload.get("widen_to", {})
        detail = f"{target.get('cluster')} to {target.get('step')} ({plural(int(target.get('nodes', 0)), 'node')})"
        if "next" in payload:
            detail += f": projected {payload['next']['utilisation']:.3f} <= {payload['limit']:.2f}"
        return f"widen {detail}" if decision == "widen" else f"await approval to widen {detail}"
    if decision == "approved":
        return "approved by " + ", ".join(str(who) for who in payload.get("by", []))
    if decision in ("halt", "roll-back"):
        return f"{decision} at {payload.get('cluster')} {payload.get('step')}: {payload.get('reason')}"
    if decision == "done":
        return f"done: {payload.get('what')}"
    return str(decision) + "".join(f" {k}={v}" for k, v in payload.items() if k != "decision")
