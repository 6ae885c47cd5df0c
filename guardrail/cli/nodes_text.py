"""What `guardrail nodes plan`, `cycle` and `status` print: text for people and JSON for machines.

Every name that comes from a cluster or the store goes through `inert`, so an escape sequence in a label
cannot repaint the terminal.
"""

from __future__ import annotations

from typing import Any

from guardrail.cli.output import inert
from guardrail.core.audit import iso_utc
from guardrail.core.nodes.batches import BatchPlan
from guardrail.core.nodes.gate import NODE_PREFLIGHT
from guardrail.core.nodes.records import format_seconds
from guardrail.core.nodes.settings import Budgets
from guardrail.core.nodes.state import StratumPlan
from guardrail.core.verdict import VERDICT_WORDS, Decision, Enforcement, Finding
from guardrail.services.nodes_plan import DELETE_NODE, PoolPlan
from guardrail.services.nodes_runs import CycleView


def plan_text(plan: PoolPlan) -> str:
    """The plan for a person: the capacity and batches, each stratum in order, the pre-flight, the gate."""
    state, batches = plan.cycle.state, plan.batches
    nodes = sum(len(s.nodes) for s in state.strata)
    lines = [
        f"Node-pool cycle plan of {inert(state.pool)} on {inert(plan.cluster)}: {nodes} node(s) in "
        f"{len(state.strata)} strata, {state.total_gpus} GPUs; nothing was changed",
        f"  capacity: {batches.available} GPUs serve now; the floor {state.settings.capacity_floor:g} keeps "
        f"{state.minimum_gpus}; headroom {batches.headroom} GPUs",
        (
            f"  first: the canaries {_names(batches.canaries)} (one per stratum, as the headroom allows)"
            if batches.canaries
            else "  first: no canary fits the headroom: the cycle would halt at once"
        ),
        f"  once every canary passed: up to {batches.widest} node(s) at once ({_widened(state.strata, batches)})",
        f"  machines replaced by: {_replacement(plan.replacement)}",
        f"  fingerprint: {plan.fingerprint}",
        "",
        "Strata, in order (the first node of each is its canary)",
    ]
    preview = dict(plan.replace_preview)
    for index, stratum in enumerate(state.strata, start=1):
        canary = stratum.nodes[0]
        lines += [
            f"  {index}. {inert(stratum.key.describe())}: {len(stratum.nodes)} node(s) of {stratum.gpus} GPUs: "
            f"{_names(stratum.nodes)}",
            f"     budgets: {budgets_text(stratum.budgets)}; warn at {state.settings.warn_ratio:.0%}",
            f"     replace {inert(canary)}: {inert(preview.get(canary, ''))}",
        ]
    lines += ["", _history_line(plan)]
    findings = sorted(plan.cycle.preflight, key=lambda f: (not f.blocking, f.stratum, f.check))
    lines += [
        f"  {'!' if f.blocking else '-'} {inert(f.stratum)}: {f.check}: {inert(f.message)}" for f in findings
    ] or ["  clean"]
    # The pre-flight's findings are listed above: the gate names the others (approval, locks).
    others = tuple(f for f in plan.verdict.findings if f.rule != NODE_PREFLIGHT)
    lines += ["", *gate_lines(plan.verdict.decision, others, plan)]
    held = sum(1 for f in plan.findings if f.rule == NODE_PREFLIGHT and f.enforcement is Enforcement.SOFT)
    if held:
        lines.append(f"  soft: {held} pre-flight finding(s) marked ! above: the cycle would halt on them")
    return "\n".join(lines) + "\n"


def gate_lines(
    decision: Decision, findings: tuple[Finding, ...], plan: PoolPlan, notes: tuple[str, ...] = ()
) -> list[str]:
    """What the gate says of the cycle: its verdict, the findings that weigh, and how to go on."""
    lines = [f"Gate: {VERDICT_WORDS[decision]}"]
    for finding in findings:
        lines.append(f"  {finding.enforcement.value}: {inert(finding.message)}")
    lines.extend(f"  note: {inert(note)}" for note in notes)
    if decision is Decision.NEEDS_APPROVAL and not notes:
        lines.append(
            f"  approve with: guardrail approve {plan.fingerprint} (once `guardrail nodes cycle` recorded the plan)"
        )
    return lines


def budgets_text(budgets: Budgets) -> str:
    return (
        f"drain {format_seconds(budgets.drain)}, replace {format_seconds(budgets.replace)}, boot "
        f"{format_seconds(budgets.boot)}, gpu {format_seconds(budgets.gpu)}, validation "
        f"{format_seconds(budgets.validation)}, cordon/uncordon {format_seconds(budgets.api)}"
    )


def plan_json(plan: PoolPlan) -> dict[str, Any]:
    """The plan for machines."""
    state, batches = plan.cycle.state, plan.batches
    preview = dict(plan.replace_preview)
    history = plan.cycle.history
    return {
        "pool": state.pool,
        "cluster": plan.cluster,
        "subject": plan.cycle.subject,
        "fingerprint": plan.fingerprint,
        "nodes": sum(len(s.nodes) for s in state.strata),
        "total_gpus": state.total_gpus,
        "serving_gpus": batches.available,
        "minimum_gpus": state.minimum_gpus,
        "capacity_floor": state.settings.capacity_floor,
        "headroom_gpus": batches.headroom,
        "batches": {"canaries": list(batches.canaries), "widened": list(batches.widened), "widest": batches.widest},
        "strata": [
            {
                **s.key.to_json(),
                "label": s.key.label,
                "nodes": list(s.nodes),
                "canary": s.nodes[0],
                "gpus": s.gpus,
                "budgets": s.budgets.to_json(),
                "replace_canary": preview.get(s.nodes[0], ""),
            }
            for s in state.strata
        ],
        "preflight": [
            {"stratum": f.stratum, "check": f.check, "message": f.message, "blocking": f.blocking}
            for f in plan.cycle.preflight
        ],
        "history": {"store": plan.store, "cycles": history.cycles if history is not None else None},
        "replace": {
            "by": "delete-node" if plan.replacement == DELETE_NODE else "command",
            "command": None if plan.replacement == DELETE_NODE else plan.replacement.removeprefix("command: "),
        },
        "gate": {
            "decision": plan.verdict.decision.value,
            "findings": [
                {"rule": f.rule, "enforcement": f.enforcement.value, "message": f.message}
                for f in plan.verdict.findings
            ],
        },
    }


def run_rows(views: list[CycleView]) -> list[list[str]]:
    """One row per cycle: id, subject, status, progress, the request waiting, last change."""
    rows = []
    for view in views:
        record, report = view.record, view.report
        total = sum(s.nodes for s in report.strata) if report is not None else 0
        progress = f"{report.nodes_cycled}/{total}" if report is not None else "?"
        lost = str(report.nodes_lost) if report is not None else "?"
        requested = record.requested.value if record.requested is not None else ""
        rows.append(
            [record.id, record.subject, record.status.value, progress, lost, requested, iso_utc(record.updated_at)]
        )
    return rows


RUN_COLUMNS = ("id", "subject", "status", "cycled", "lost", "requested", "updated")


def view_json(view: CycleView) -> dict[str, Any]:
    """A cycle for machines: the run and the report of the `rehearse --format json` contract."""
    record = view.record
    return {
        "id": record.id,
        "subject": record.subject,
        "status": record.status.value,
        "step": record.step,
        "actor": record.actor,
        "requested": record.requested.value if record.requested is not None else None,
        "created_at": iso_utc(record.created_at),
        "updated_at": iso_utc(record.updated_at),
        "report": view.report.to_json() if view.report is not None else None,
        "problem": view.problem,
    }


def run_line(view: CycleView) -> str:
    """One line saying where a run stands and what can be done with it."""
    record = view.record
    asked = f"; {record.requested.value} asked" if record.requested is not None else ""
    line = f"run {record.id} of {inert(record.subject)}: {record.status.value}{asked}"
    if record.status.active:
        line += f" (guardrail nodes status {record.id}; pause, resume or abort {record.id})"
    return line


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(inert(n) for n in names[:6])
    return shown + (f" and {len(names) - 6} more" if len(names) > 6 else "") if names else "none"


def _widened(strata: tuple[StratumPlan, ...], batches: BatchPlan) -> str:
    return ", ".join(f"{inert(s.key.label)}: {n}" for s, n in zip(strata, batches.widened, strict=True))


def _replacement(replacement: str) -> str:
    if replacement == DELETE_NODE:
        return "deleting each Node (the managed pool re-creates its machine)"
    return f"the command {inert(replacement.removeprefix('command: '))} (no shell)"


def _history_line(plan: PoolPlan) -> str:
    history = plan.cycle.history
    if history is None:
        return "Pre-flight (no store: earlier cycles not read)"
    return f"Pre-flight (earlier cycles read from {inert(plan.store or 'the store')}: {history.cycles} found)"
