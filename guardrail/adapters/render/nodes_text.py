"""A node-pool cycle for a person at a terminal: the outcome and why first, then the pre-flight findings,
then every stratum with its phase timings against their budgets (a p95 past the warning line is marked),
then every failure and the nodes handed back unreplaced.

Plain strings with ANSI colour codes when asked for; every name that comes from a cluster or a pool file
goes through `neutralise`, so an escape sequence in a label cannot repaint the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from guardrail.adapters.render.common import neutralise
from guardrail.core.nodes.preflight import PreflightFinding
from guardrail.core.nodes.records import Outcome, format_seconds
from guardrail.core.nodes.report import CycleReport, StratumReport, StratumState
from guardrail.core.nodes.timings import SpanTiming

_RESET = "\x1b[0m"
_OUTCOME_STYLE = {Outcome.COMPLETED: "1;32", Outcome.HALTED: "1;31", Outcome.ABORTED: "1;33"}
_STATE_STYLE = {
    StratumState.COMPLETED: "32",
    StratumState.FAILED: "1;31",
    StratumState.STOPPED: "33",
    StratumState.CYCLING: "36",
    StratumState.CANARY: "36",
    StratumState.PENDING: "2",
}
# A stratum's timings table: the columns, and each span's cells (the TUI's Nodes screen shows the same).
TIMING_HEADER = ("phase", "nodes", "median", "p95", "longest", "budget", "p95/budget")


def render_cycle(
    report: CycleReport,
    preflight: Sequence[PreflightFinding] = (),
    *,
    color: bool = False,
    simulated_seconds: float | None = None,
) -> str:
    """The report as text (see the module docstring)."""

    def paint(text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if color else text

    outcome = report.outcome.value.upper() if report.outcome is not None else "RUNNING"
    style = _OUTCOME_STYLE.get(report.outcome, "1") if report.outcome is not None else "1"
    lines = [f"Node-pool cycle of {neutralise(report.pool)}: {paint(outcome, style)}", f"  {neutralise(report.reason)}"]
    took = f"; {format_seconds(simulated_seconds)} simulated" if simulated_seconds is not None else ""
    lines.append(
        f"  {report.nodes_cycled} node(s) cycled, {report.nodes_lost} lost; lowest capacity "
        f"{report.min_capacity:.1%} of the pool's GPUs (floor {report.floor:.0%}){took}"
    )
    if preflight:
        lines += ["", "Pre-flight"]
        for finding in sorted(preflight, key=lambda f: (not f.blocking, f.stratum, f.check)):
            mark = paint("!", "1;31") if finding.blocking else "-"
            lines.append(f"  {mark} {neutralise(finding.stratum)}: {finding.check}: {neutralise(finding.message)}")
    lines += ["", "Strata"]
    for stratum in report.strata:
        lines.extend(_stratum(stratum, paint))
    if report.failures:
        lines += ["", "Failures"]
        lines.extend(f"  {neutralise(failure)}" for failure in report.failures)
    if report.released:
        released = ", ".join(neutralise(name) for name in report.released)
        lines += ["", f"Handed back unreplaced when the cycle stopped: {released}"]
    return "\n".join(lines) + "\n"


def _stratum(stratum: StratumReport, paint: Callable[[str, str], str]) -> list[str]:
    state = paint(stratum.state.value, _STATE_STYLE[stratum.state])
    lines = [
        f"  {neutralise(stratum.key.describe())}: {state}, {stratum.cycled}/{stratum.nodes} cycled, "
        f"{stratum.failed} failed" + (f", {stratum.in_hand} in hand" if stratum.in_hand else "")
    ]
    if not stratum.timings:
        return lines
    rows = [TIMING_HEADER, *(timing_row(t) for t in stratum.timings)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TIMING_HEADER))]
    for row, timing in zip(rows, (None, *stratum.timings), strict=True):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        text = "      " + "  ".join(cells)
        if timing is not None and timing.warning:
            text += "  " + paint(f"WARNING: p95 past {timing.warn_ratio:.0%} of the budget", "1;33")
        lines.append(text)
    return lines


def timing_row(timing: SpanTiming) -> tuple[str, ...]:
    """The cells of one span under TIMING_HEADER."""
    return (
        timing.span,
        str(timing.count),
        format_seconds(timing.median),
        format_seconds(timing.p95),
        format_seconds(timing.longest),
        format_seconds(timing.budget),
        f"{timing.share:.0%}",
    )
