"""The report for a person at a terminal: verdict first, deletions next, every finding beside its change.

Plain strings with ANSI colour codes when asked for (the CLI decides: a TTY without NO_COLOR). Nothing
is passed through a markup interpreter, so `[bold]` in a resource name prints as typed, and every string
from the plan or a policy goes through `neutralise`, so an escape sequence in it cannot repaint the screen.

Long plans stay readable: every destructive change and every change with a finding is listed; the rest
are listed up to `max_items` per action, then counted ("... and 1,626 more to update").
"""

from __future__ import annotations

from guardrail.adapters.render.blast_section import blast_section
from guardrail.adapters.render.common import (
    ACTION_TITLES,
    ORDER_WORDS,
    SafeReport,
    counts_line,
    neutralise,
)
from guardrail.core.change import Action, ResourceChange
from guardrail.core.reasons import plan_symbol, reason_words
from guardrail.core.report import CheckReport
from guardrail.core.values import format_path
from guardrail.core.verdict import Decision, Enforcement, Finding

# Enough to see what kind of creates and updates a plan makes without scrolling past its deletions.
DEFAULT_MAX_ITEMS = 50

_RESET = "\x1b[0m"
_VERDICT_STYLE = {Decision.ALLOW: "1;32", Decision.DENY: "1;31", Decision.NEEDS_APPROVAL: "1;33"}
_VERDICT_WORDS = {Decision.ALLOW: "ALLOW", Decision.DENY: "DENY", Decision.NEEDS_APPROVAL: "NEEDS APPROVAL"}
_ENFORCEMENT_STYLE = {Enforcement.HARD: "1;31", Enforcement.SOFT: "1;33", Enforcement.ADVISORY: "36"}
_ACTION_STYLE = {
    Action.DELETE: "31",
    Action.REPLACE: "35",
    Action.FORGET: "33",
    Action.UPDATE: "33",
    Action.CREATE: "32",
    Action.READ: "36",
    Action.NO_OP: "2",
}
_MORE_WORDS = {
    Action.DELETE: "to delete",
    Action.REPLACE: "to replace",
    Action.FORGET: "to forget",
    Action.UPDATE: "to update",
    Action.CREATE: "to create",
    Action.READ: "to read",
    Action.NO_OP: "unchanged",
}


class TextRenderer:
    """Renders a CheckReport for a terminal.

    `color` adds ANSI colours; `max_items` caps how many changes of one action that are neither
    destructive nor carry a finding get listed (None lists them all).
    """

    def __init__(self, *, color: bool = False, max_items: int | None = DEFAULT_MAX_ITEMS) -> None:
        self.color = color
        self.max_items = max_items

    def render(self, report: CheckReport) -> str:
        """The whole report as text ending in a newline."""
        safe = SafeReport.of(report)
        lines: list[str] = []
        self._header(lines, safe)
        self._loose_findings(lines, safe)
        self._blast(lines, safe)
        self._changes(lines, safe)
        self._notes(lines, safe)
        lines.append("")
        lines.append(f"fingerprint: {report.changeset.fingerprint}")
        return "\n".join(lines) + "\n"

    def _paint(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.color else text

    @staticmethod
    def _clean(safe: SafeReport, text: str) -> str:
        return neutralise(safe.text(text))

    def _header(self, lines: list[str], safe: SafeReport) -> None:
        report = safe.report
        decision = report.verdict.decision
        verdict = self._paint(_VERDICT_WORDS[decision], _VERDICT_STYLE[decision])
        total = len(report.verdict.findings)
        lines.append(f"guardrail: {verdict} (exit {report.exit_code}) - {total} findings: {counts_line(report)}")
        changeset = report.changeset
        version = f", terraform {self._clean(safe, changeset.terraform_version)}" if changeset.terraform_version else ""
        plan_format = self._clean(safe, changeset.format_version)
        lines.append(f"plan: {self._clean(safe, changeset.source)} (format {plan_format}{version})")
        summary = changeset.summary()
        lines.append("changes: " + ", ".join(f"{count:,} {action}" for action, count in summary.items()))

    def _loose_findings(self, lines: list[str], safe: SafeReport) -> None:
        if safe.plan_level:
            lines.extend(["", self._paint("Plan-wide findings", "1")])
            lines.extend(self._finding(safe, f, indent="  ") for f in safe.plan_level)
        orphans = safe.orphans(safe.report.changeset.changes)
        if orphans:
            lines.extend(["", self._paint("Findings on resources this plan does not change", "1")])
            for finding in orphans:
                lines.append(f"  {self._clean(safe, finding.address or '')}")
                lines.append(self._finding(safe, finding, indent="      "))

    def _blast(self, lines: list[str], safe: SafeReport) -> None:
        section = blast_section(safe.report.blast, safe.text)
        if section is None:
            return
        lines.extend(["", self._paint("Blast radius", "1") + f": {section.headline}"])
        for view in section.trees:
            style = "1;31" if view.critical or view.downtime else "1"
            lines.append("  " + self._paint(view.summary, style))
            lines.extend(f"    {line}" for line in view.lines)
        if section.not_shown:
            lines.append(
                self._paint(f"  ... and {section.not_shown:,} more with dependents (all in the json output)", "2")
            )
        if section.isolated:
            plural = "" if section.isolated == 1 else "s"
            quiet = f"  {section.isolated:,} destructive change{plural} nothing depends on (not drawn)"
            lines.append(self._paint(quiet, "2"))

    def _changes(self, lines: list[str], safe: SafeReport) -> None:
        for action, changes in safe.report.changeset.by_action():
            lines.append("")
            title = f"{ACTION_TITLES[action]} ({len(changes):,})"
            lines.append(self._paint(title, f"1;{_ACTION_STYLE[action]}"))
            listed_plain = 0
            hidden = 0
            # No-ops are noise unless a rule found something on them.
            limit = 0 if action is Action.NO_OP else self.max_items
            for change in changes:
                findings = safe.findings_for(change)
                if not (findings or change.is_destructive):
                    if limit is not None and listed_plain >= limit:
                        hidden += 1
                        continue
                    listed_plain += 1
                self._change(lines, safe, change, findings)
            if hidden:
                more = f"  ... and {hidden:,} more {_MORE_WORDS[action]}, not listed (all are in the json output)"
                lines.append(self._paint(more, "2"))

    def _change(self, lines: list[str], safe: SafeReport, change: ResourceChange, findings: list[Finding]) -> None:
        symbol = plan_symbol(change)
        head = f"  {self._paint(symbol, _ACTION_STYLE[change.action])} {self._clean(safe, change.address)}"
        if change.moved_from:
            head += f" (moved from {self._clean(safe, change.moved_from)})"
        if change.deposed:
            head += f" (deposed object {self._clean(safe, change.deposed)})"
        lines.append(head)
        why = self._why(safe, change)
        if why:
            lines.append(f"      {why}")
        lines.extend(self._finding(safe, f, indent="      ") for f in findings)

    def _why(self, safe: SafeReport, change: ResourceChange) -> str:
        """Why Terraform plans this action: shown for a replace even when it is blocked."""
        parts: list[str] = []
        if change.replace_order is not None:
            parts.append(ORDER_WORDS[change.replace_order])
        words = reason_words(change.action_reason)
        if words:
            parts.append(f"because {self._clean(safe, words)}")
        if change.replace_paths:
            paths = ", ".join(self._clean(safe, format_path(p)) for p in change.replace_paths)
            parts.append(f"forced by: {paths}")
        return "; ".join(parts)

    def _finding(self, safe: SafeReport, finding: Finding, *, indent: str) -> str:
        level = self._paint(finding.enforcement.value.upper(), _ENFORCEMENT_STYLE[finding.enforcement])
        text = f"{indent}[{level}] {self._clean(safe, finding.rule)}: {self._clean(safe, finding.message)}"
        if finding.unknown:
            text += " (outcome unknown until apply)"
        if finding.source:
            text += f" (from {self._clean(safe, finding.source)})"
        return text

    def _notes(self, lines: list[str], safe: SafeReport) -> None:
        notes = (*safe.report.notes, *safe.report.provenance())
        if notes:
            lines.extend(["", self._paint("Notes", "1")])
            lines.extend(f"  - {self._clean(safe, note)}" for note in notes)
