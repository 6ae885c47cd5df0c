"""One node cycle on the Nodes screen: where it stands and why, each stratum's progress, its phase timings
against their budgets (a p95 past the warning line stands out), and every failure.

Built as inert rich Text from the cycle's report (core.nodes.report), the same report the CLI prints: the
timings table has the CLI's columns and cells (adapters.render.nodes_text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from guardrail.adapters.render.nodes_text import TIMING_HEADER, timing_row
from guardrail.core.nodes.preflight import PreflightFinding
from guardrail.core.nodes.report import CycleReport, StratumReport, StratumState
from guardrail.core.runs import RunRecord, RunStatus
from guardrail.tui.inert import Tone, inert
from guardrail.tui.inert import append as append_inert

STATUS_TONES = {
    RunStatus.RUNNING: Tone.ACCENT,
    RunStatus.PAUSED: Tone.WARN,
    RunStatus.HALTED: Tone.BAD,
    RunStatus.COMPLETED: Tone.GOOD,
    RunStatus.ROLLED_BACK: Tone.WARN,
    RunStatus.ABORTED: Tone.WARN,
}
STRATUM_TONES = {
    StratumState.PENDING: Tone.MUTED,
    StratumState.CANARY: Tone.ACCENT,
    StratumState.CYCLING: Tone.ACCENT,
    StratumState.COMPLETED: Tone.GOOD,
    StratumState.FAILED: Tone.BAD,
    StratumState.STOPPED: Tone.WARN,
}
_BAR = 12
_HEADING = Tone.ACCENT


@dataclass(frozen=True)
class ShownCycle:
    """What the detail shows: the run (as stored, or a rehearsal's), its report, and for a rehearsal its
    pool file and pre-flight."""

    record: RunRecord
    report: CycleReport | None
    problem: str | None = None
    rehearsal: str | None = None  # the pool file rehearsed; None for a real cycle
    preflight: Sequence[PreflightFinding] = ()


def append(text: Text, words: str, tone: Tone = Tone.PLAIN, theme: Mapping[str, str] | None = None) -> None:
    """`words` made inert line by line: the line breaks written here stay line breaks, while any control
    character inside a name from the cluster is shown as an escape."""
    for index, line in enumerate(words.split("\n")):
        if index:
            text.append("\n")
        if line:
            append_inert(text, line, tone, theme)


def progress_bar(done: int, failed: int, total: int, width: int = _BAR) -> str:
    """`███████░░░░░░░░░░░░░` for `done` of `total`, a `✗` per failed node's share at the end of the bar."""
    if total <= 0:
        return "░" * width
    full = round(width * done / total)
    bad = min(width - full, max(1 if failed else 0, round(width * failed / total)))
    return "█" * full + "✗" * bad + "░" * (width - full - bad)


def cycle_text(shown: ShownCycle, theme: Mapping[str, str] | None) -> Text:
    """The whole detail of one cycle (see the module docstring)."""
    record, report = shown.record, shown.report
    text = Text(end="")
    title = f"Rehearsal of {shown.rehearsal}" if shown.rehearsal else f"Run {record.id} of {record.subject}"
    text.append_text(inert(title, bold=True))
    text.append("\n")
    append(text, "Status: ")
    append(text, record.status.value.upper(), STATUS_TONES[record.status], theme)
    if record.requested is not None:
        append(text, f"  ({record.requested.value} asked, not acted on yet)", Tone.WARN, theme)
    append(text, f"  by {record.actor}\n", Tone.MUTED, theme)
    if report is None:
        append(text, f"Its state cannot be read: {shown.problem}\n", Tone.BAD, theme)
        return text
    why = Tone.BAD if record.status is RunStatus.HALTED else Tone.PLAIN
    append(text, f"{report.reason}\n", why, theme)
    append(
        text,
        f"{report.nodes_cycled} node(s) cycled, {report.nodes_lost} lost; lowest capacity {report.min_capacity:.1%} "
        f"of the pool's GPUs (floor {report.floor:.0%})\n",
        Tone.BAD if report.min_capacity < report.floor else Tone.PLAIN,
        theme,
    )
    if shown.preflight:
        append(text, "\nPre-flight\n", _HEADING, theme)
        for finding in shown.preflight:
            tone = Tone.BAD if finding.blocking else Tone.WARN
            append(text, f"  {'!' if finding.blocking else '-'} {finding.stratum}: {finding.check}: ", tone, theme)
            append(text, f"{finding.message}\n", Tone.PLAIN, theme)
    append(text, "\nStrata\n", _HEADING, theme)
    width = max((len(s.key.label) for s in report.strata), default=0)
    for stratum in report.strata:
        _stratum_line(text, stratum, width, theme)
    append(text, "\nPhase timings against budgets", _HEADING, theme)
    warn_ratio = next((t.warn_ratio for s in report.strata for t in s.timings), None)
    if warn_ratio is not None:
        append(text, f"  (! p95 past {warn_ratio:.0%} of its budget)", Tone.WARN, theme)
    append(text, "\n")
    for stratum in report.strata:
        _timings(text, stratum, theme)
    if report.failures:
        append(text, "\nFailures\n", _HEADING, theme)
        for failure in report.failures:
            append(text, f"  {failure}\n", Tone.BAD, theme)
    if report.released:
        append(text, f"\nHanded back unreplaced: {', '.join(report.released)}\n", Tone.MUTED, theme)
    return text


def _stratum_line(text: Text, stratum: StratumReport, width: int, theme: Mapping[str, str] | None) -> None:
    tone = STRATUM_TONES[stratum.state]
    append(text, f"  {stratum.key.label.ljust(width)}  ")
    append(text, f"{stratum.state.value:<9}", tone, theme)
    append(text, f" {progress_bar(stratum.cycled, stratum.failed, stratum.nodes)} ", tone, theme)
    counts = f"{stratum.cycled}/{stratum.nodes}"
    if stratum.in_hand:
        counts += f", {stratum.in_hand} in hand"
    if stratum.failed:
        counts += f", {stratum.failed} failed"
    append(text, counts + "\n")


def _timings(text: Text, stratum: StratumReport, theme: Mapping[str, str] | None) -> None:
    if not stratum.timings:
        return
    append(text, f"  {stratum.key.label}\n", Tone.MUTED, theme)
    rows = [TIMING_HEADER, *(timing_row(t) for t in stratum.timings)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TIMING_HEADER))]
    for row, timing in zip(rows, (None, *stratum.timings), strict=True):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        line = "  " + " ".join(cells)
        if timing is None:
            append(text, line + "\n", Tone.MUTED, theme)
        elif timing.warning:
            append(text, line + " !\n", Tone.WARN, theme)
        else:
            append(text, line + "\n")
