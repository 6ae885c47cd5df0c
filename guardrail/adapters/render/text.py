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
    SafeReport,
    counts_line,
    neutralise,
    rollback_line,
)
from guardrail.adapters.render.kube_section import kube_section
from guardrail.core.change import Action, ResourceChange
from guardrail.core.reasons import plan_symbol, planned_because
from guardrail.core.report import CheckReport
from guardrail.core.rollback.reversibility import Reversibility
from guardrail.core.verdict import UNKNOWN_OUTCOME_WORDS, VERDICT_WORDS, Decision, Enforcement, Finding

# Enough to see what kind of creates and updates a plan makes without scrolling past its deletions.
DEFAULT_MAX_ITEMS = 50

_RESET = "\x1b[0m"
_VERDICT_STYLE = {Decision.ALLOW: "1;32", Decision.DENY: "1;31", Decision.NEEDS_APPROVAL: "1;33"}
_ENFORCEMENT_STYLE = {Enforcement.HARD: "1;31", Enforcement.SOFT: "1;33", Enforcement.ADVISORY: "36"}
# Fields of a Kubernetes update named under it; the json output has them all.
_PATHS_SHOWN = 6
_ACTION_STYLE = {
    Action.DELETE: "31",
    Action.REPLACE: "35",
    Action.FORGET: "33",
    Action.UPDATE: "33",
    Action.CREATE: "32",
    Action.READ: "36",
    Action.NO_OP: "2",
}
_REVERSIBILITY_STYLE = {Reversibility.IRREVERSIBLE: "1;31", Reversibility.LOSSY: "33", Reversibility.REVERSIBLE: "2"}
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
        self._kube(lines, safe)
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
        """Free text (a message, a note): scrubbed and made inert."""
        return neutralise(safe.text(text))

    @staticmethod
    def _name(safe: SafeReport, name: str) -> str:
        """A name (an address, a rule id, a path): made inert, never scrubbed."""
        return neutralise(safe.name(name))

    def _header(self, lines: list[str], safe: SafeReport) -> None:
        report = safe.report
        decision = report.verdict.decision
        verdict = self._paint(VERDICT_WORDS[decision], _VERDICT_STYLE[decision])
        total = len(report.verdict.findings)
        lines.append(f"guardrail: {verdict} (exit {report.exit_code}) - {total} findings: {counts_line(report)}")
        changeset = report.changeset
        version = f", terraform {self._name(safe, changeset.terraform_version)}" if changeset.terraform_version else ""
        plan_format = self._name(safe, changeset.format_version)
        if report.kube is not None:
            lines.append(f"manifests: {self._name(safe, changeset.source)} (kubernetes)")
        else:
            lines.append(f"plan: {self._name(safe, changeset.source)} (format {plan_format}{version})")
        summary = changeset.summary()
        lines.append("changes: " + ", ".join(f"{count:,} {action}" for action, count in summary.items()))
        rollback = rollback_line(report)
        if rollback is not None:
            lines.append(f"rollback: {rollback}")

    def _loose_findings(self, lines: list[str], safe: SafeReport) -> None:
        if safe.plan_level:
            lines.extend(["", self._paint("Plan-wide findings", "1")])
            lines.extend(self._finding(safe, f, indent="  ") for f in safe.plan_level)
        orphans = safe.orphans(safe.report.changeset.changes)
        if orphans:
            lines.extend(["", self._paint("Findings on resources this plan does not change", "1")])
            for finding in orphans:
                lines.append(f"  {self._name(safe, finding.address or '')}")
                lines.append(self._finding(safe, finding, indent="      "))

    def _kube(self, lines: list[str], safe: SafeReport) -> None:
        section = kube_section(safe.report.kube, safe.name)
        if section is None:
            return
        lines.extend(["", self._paint("Clusters", "1")])
        lines.extend(f"  {line}" for line in section.clusters)
        if section.reach:
            lines.extend(["", self._paint("Reach", "1") + ": nodes each per-node workload will run on"])
            lines.extend(f"  {line}" for line in section.reach)
        if section.reach_hidden:
            lines.append(self._paint(f"  ... and {section.reach_hidden:,} more (all in the json output)", "2"))

    def _blast(self, lines: list[str], safe: SafeReport) -> None:
        section = blast_section(safe.report.blast, safe.name)
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
        head = f"  {self._paint(symbol, _ACTION_STYLE[change.action])} {self._name(safe, change.address)}"
        if change.moved_from:
            head += f" (moved from {self._name(safe, change.moved_from)})"
        if change.deposed:
            head += f" (deposed object {self._name(safe, change.deposed)})"
        lines.append(head)
        why = self._why(change)
        if why:
            lines.append(f"      {why}")
        changed = change.cluster_object.changed_paths if change.cluster_object is not None else ()
        if changed:
            more = f" and {len(changed) - _PATHS_SHOWN:,} more" if len(changed) > _PATHS_SHOWN else ""
            lines.append(f"      changes {self._name(safe, ', '.join(changed[:_PATHS_SHOWN]))}{more}")
        way_back = safe.reversibility(change)
        if way_back is not None:
            style = _REVERSIBILITY_STYLE[way_back.reversibility]
            word = self._paint(way_back.reversibility.value, style)
            lines.append(f"      rollback: {word}: {self._clean(safe, way_back.reason)}")
        lines.extend(self._finding(safe, f, indent="      ") for f in findings)

    @staticmethod
    def _why(change: ResourceChange) -> str:
        """Why Terraform plans this action: shown for a replace even when it is blocked."""
        return neutralise(planned_because(change).sentence())

    def _finding(self, safe: SafeReport, finding: Finding, *, indent: str) -> str:
        level = self._paint(finding.enforcement.value.upper(), _ENFORCEMENT_STYLE[finding.enforcement])
        text = f"{indent}[{level}] {self._name(safe, finding.rule)}: {self._clean(safe, finding.message)}"
        if finding.unknown:
            text += f" ({UNKNOWN_OUTCOME_WORDS})"
        if finding.source:
            text += f" (from {self._name(safe, finding.source)})"
        return text

    def _notes(self, lines: list[str], safe: SafeReport) -> None:
        notes = (*safe.report.notes, *safe.report.provenance())
        if notes:
            lines.extend(["", self._paint("Notes", "1")])
            lines.extend(f"  - {self._clean(safe, note)}" for note in notes)
