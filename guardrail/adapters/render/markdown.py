"""The pull-request comment, rendered from `guardrail/templates/pr-comment.md.j2`.

Everything from the plan or a policy is escaped here, before the template sees it: Markdown punctuation
gets a backslash, `&`, `<` and `>` become entities, `@` is kept from mentioning anyone, and control
characters are shown as escapes. A resource named `a|b`, `<script>` or with backticks stays text.

GitHub refuses a comment longer than 65,536 characters. The comment is fitted below that: the changes
list and the findings table are cut (changes get at least half the room when both are long) and a note
at the end says how much is not shown. The json output always has everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2
from markupsafe import Markup

import guardrail
from guardrail.adapters.render.blast_section import blast_section
from guardrail.adapters.render.common import (
    ACTION_TITLES,
    SafeReport,
    neutralise,
    rollback_line,
)
from guardrail.adapters.render.kube_section import kube_section
from guardrail.core.change import Action, ResourceChange
from guardrail.core.reasons import planned_because
from guardrail.core.report import CheckReport
from guardrail.core.rollback.reversibility import Reversibility
from guardrail.core.verdict import UNKNOWN_OUTCOME_WORDS, Decision, Enforcement, Finding

COMMENT_LIMIT = 65_536
# Any one message or note longer than this is cut: one runaway policy message must not crowd out the rest.
MAX_CELL = 1_000
_HEADLINES = {
    Decision.ALLOW: "✅ guardrail: allowed",
    Decision.DENY: "⛔ guardrail: denied",
    Decision.NEEDS_APPROVAL: "✋ guardrail: needs approval",
}
_ICONS = {Enforcement.HARD: "⛔", Enforcement.SOFT: "⚠️", Enforcement.ADVISORY: "ℹ️"}  # noqa: RUF001
# Only what is special in the middle of a line: items and cells never start one, and newlines are escaped.
# `$` starts GitHub's inline maths.
_ESCAPES = {ord(c): "\\" + c for c in "\\`*_[]~|$"}
_ESCAPES.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("@"): "@&#8203;"})
# Room for the headline, the tables' heads, the <details> wrappers and the closing note.
_LAYOUT_ROOM = 3_000


def md(text: str) -> Markup:
    """Plain text (already scrubbed) made inert in Markdown, HTML and a table cell."""
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL] + "…"
    return Markup(neutralise(text).translate(_ESCAPES))


def utf16_length(text: str) -> int:
    """Length as GitHub may count it: characters outside the BMP (emoji) count twice."""
    return len(text.encode("utf-16-le")) // 2


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("guardrail", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("pr-comment.md.j2")


@dataclass(frozen=True)
class _Row:
    icon: str
    enforcement: str
    rule: Markup
    address: Markup
    message: Markup

    @property
    def size(self) -> int:
        return len(self.rule) + len(self.address) + len(self.message) + 30


@dataclass(frozen=True)
class _Group:
    title: str
    count: str
    items: list[Markup]
    hidden: str  # "" when every change of the group is listed
    open: bool


@dataclass(frozen=True)
class _Summary:
    title: str
    count: str


class MarkdownRenderer:
    """Renders a CheckReport as a pull-request comment that fits in `limit` characters."""

    def __init__(self, *, limit: int = COMMENT_LIMIT) -> None:
        self.limit = limit

    def render(self, report: CheckReport) -> str:
        """The comment, Markdown with a little HTML, always shorter than `limit`."""
        safe = SafeReport.of(report)
        rows = [self._row(safe, f) for f in report.verdict.findings]
        groups: list[tuple[Action, list[ResourceChange]]] = [
            (a, changes) for a, changes in report.changeset.by_action() if a is not Action.NO_OP
        ]
        blast = _blast(safe, self.limit // 4)
        budget = self.limit - _LAYOUT_ROOM - blast.size
        while True:
            text = self._render(safe, rows, groups, blast, budget)
            excess = utf16_length(text) - self.limit + 1
            if excess <= 0 or budget <= 0:
                return text
            budget = max(budget - excess - 500, 0)

    def _render(
        self,
        safe: SafeReport,
        rows: list[_Row],
        groups: list[tuple[Action, list[ResourceChange]]],
        blast: _Blast,
        budget: int,
    ) -> str:
        report = safe.report
        wanted = sum(row.size for row in rows)
        change_budget = budget - min(wanted, budget // 2)
        shown_groups, hidden_changes, used = self._fit_changes(safe, groups, change_budget)
        shown_rows = _take(rows, budget - used)
        hidden_findings = len(rows) - len(shown_rows)
        omitted = []
        if hidden_changes:
            omitted.append(f"{hidden_changes:,} changes not shown")
        if hidden_findings:
            omitted.append(f"{hidden_findings:,} findings not shown")
        verdict = report.verdict
        counts = ", ".join(f"{verdict.count(level):,} {level.value}" for level in _ICONS)
        changeset = report.changeset
        lead = Markup("{} findings ({}) on {} resource changes in <code>{}</code>.").format(
            f"{len(verdict.findings):,}", counts, f"{len(changeset.changes):,}", md(safe.name(changeset.source))
        )
        return _template().render(
            headline=_HEADLINES[verdict.decision],
            lead=lead,
            rollback=md(rollback_line(report) or ""),
            summary=[_Summary(a.capitalize(), f"{n:,}") for a, n in changeset.summary().items()],
            findings=shown_rows,
            hidden_findings=f"{hidden_findings:,}" if hidden_findings else "",
            groups=shown_groups,
            blast=blast,
            kube=_kube(safe),
            notes=[md(safe.text(note)) for note in report.notes],
            fingerprint=changeset.fingerprint,
            version=guardrail.__version__,
            omitted="; ".join(omitted) + "; see the json output." if omitted else "",
        )

    def _fit_changes(
        self, safe: SafeReport, groups: list[tuple[Action, list[ResourceChange]]], budget: int
    ) -> tuple[list[_Group], int, int]:
        """Changes in order, deletions first, until the budget is spent: (groups, hidden count, size used)."""
        used = 0
        hidden_total = 0
        shown: list[_Group] = []
        full = False
        for action, changes in groups:
            items: list[Markup] = []
            for change in changes:
                if full:
                    break
                item = self._item(safe, change)
                if used + len(item) + 4 > budget:
                    full = True
                    break
                used += len(item) + 4
                items.append(item)
            hidden = len(changes) - len(items)
            hidden_total += hidden
            more = f"{hidden:,}" if hidden else ""
            shown.append(_Group(ACTION_TITLES[action], f"{len(changes):,}", items, more, action in _OPEN))
        return shown, hidden_total, used

    @staticmethod
    def _item(safe: SafeReport, change: ResourceChange) -> Markup:
        item = Markup("<code>{}</code>").format(md(safe.name(change.address)))
        if change.moved_from:
            item += Markup(" (moved from <code>{}</code>)").format(md(safe.name(change.moved_from)))
        why = planned_because(change).sentence()
        if why:
            item += Markup(" — ") + md(why)
        way_back = safe.reversibility(change)
        if way_back is not None:
            item += Markup(" · rollback: <b>{}</b>").format(way_back.reversibility.value)
            if way_back.reversibility is not Reversibility.REVERSIBLE:
                item += Markup(" ({})").format(md(safe.text(way_back.reason)))
        return item

    @staticmethod
    def _row(safe: SafeReport, finding: Finding) -> _Row:
        message = md(safe.text(finding.message))
        if finding.unknown:
            message += Markup(" <i>({})</i>").format(UNKNOWN_OUTCOME_WORDS)
        if finding.source:
            message += Markup(" <i>(from {})</i>").format(md(safe.name(finding.source)))
        address = (
            Markup("<code>{}</code>").format(md(safe.name(finding.address)))
            if finding.address is not None
            else Markup("<i>whole plan</i>")
        )
        return _Row(
            _ICONS[finding.enforcement], finding.enforcement.value, md(safe.name(finding.rule)), address, message
        )


_OPEN = frozenset({Action.DELETE, Action.REPLACE, Action.FORGET})


@dataclass(frozen=True)
class _Tree:
    summary: Markup
    body: Markup  # inside <pre>: HTML-escaped lines
    open: bool


@dataclass(frozen=True)
class _Blast:
    headline: Markup
    trees: list[_Tree]
    more: str  # trees left out, as a count; "" when none

    @property
    def size(self) -> int:
        return len(self.headline) + sum(len(t.summary) + len(t.body) + 60 for t in self.trees) + 200


def _blast(safe: SafeReport, budget: int) -> _Blast:
    """The blast-radius trees that fit in `budget`, critical and widest first; each one collapsible."""
    section = blast_section(safe.report.blast, safe.name)
    if section is None:
        return _Blast(Markup(""), [], "")
    trees: list[_Tree] = []
    used = 0
    for view in section.trees:
        body = Markup("\n".join(_pre(line) for line in view.lines))
        tree = _Tree(md(view.summary), body, open=view.critical or view.downtime)
        used += len(tree.summary) + len(tree.body) + 60
        if used > budget:
            break
        trees.append(tree)
    more = len(section.trees) - len(trees) + section.not_shown
    headline = md(section.headline)
    if section.isolated:
        headline += Markup("; {} with nothing depending on them").format(f"{section.isolated:,}")
    return _Blast(headline, trees, f"{more:,}" if more else "")


@dataclass(frozen=True)
class _Kube:
    clusters: list[Markup]
    reach: list[Markup]
    more: str  # reach records left out, as a count; "" when none


def _kube(safe: SafeReport) -> _Kube | None:
    """The clusters and reach of a Kubernetes report; None for a Terraform plan."""
    section = kube_section(safe.report.kube, safe.name)
    if section is None:
        return None
    more = f"{section.reach_hidden:,}" if section.reach_hidden else ""
    return _Kube([md(line) for line in section.clusters], [md(line) for line in section.reach], more)


def _pre(line: str) -> Markup:
    # Inside <pre> only HTML is special; `@` is kept from mentioning anyone.
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
    return Markup(escaped[:MAX_CELL])


def _take(rows: list[_Row], budget: int) -> list[_Row]:
    """The leading rows (hard findings come first) that fit in the budget."""
    taken: list[_Row] = []
    used = 0
    for row in rows:
        used += row.size
        if used > budget:
            break
        taken.append(row)
    return taken
