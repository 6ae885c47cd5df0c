"""The detail of one change: why Terraform plans it, its findings, its attributes before and after, and
the collapsible tree of what depends on it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode as TreeItem

from guardrail.core.attribute_diff import AttributeDiff, Difference, attribute_diff, shown_value
from guardrail.core.blast.impact import Impact
from guardrail.core.blast.tree import TreeNode, build_tree, node_notes
from guardrail.core.change import Action
from guardrail.core.queries import ChangeRow
from guardrail.core.reasons import plan_symbol, planned_because
from guardrail.core.rollback.reversibility import ChangeReversibility
from guardrail.core.values import format_path
from guardrail.core.verdict import UNKNOWN_OUTCOME_WORDS
from guardrail.tui.inert import Tone, append, inert
from guardrail.tui.wording import ACTION_TONES, ENFORCEMENT_TONES, REVERSIBILITY_TONES

# Past this, a value is cut: a 40 kB policy document would bury every other attribute.
MAX_VALUE_CHARS = 400
# Past this, the rest of a change's attributes are counted: the pane must open instantly.
MAX_ATTRIBUTES = 400
_MARKS = {
    Difference.ADDED: ("+", Tone.GOOD),
    Difference.REMOVED: ("-", Tone.BAD),
    Difference.CHANGED: ("~", Tone.WARN),
    Difference.HIDDEN: ("?", Tone.MUTED),
    Difference.UNCHANGED: (" ", Tone.MUTED),
}


class ChangeDetail(VerticalScroll):
    """Everything about the change under the list's cursor."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-head")
        yield Static(id="detail-findings")
        yield Static(id="detail-diff")
        tree: Tree[None] = Tree("blast radius", id="detail-blast")
        tree.display = False
        yield tree

    def show(
        self,
        row: ChangeRow | None,
        impact: Impact | None,
        *,
        all_attributes: bool = False,
        way_back: ChangeReversibility | None = None,
    ) -> None:
        """Show `row` (None: nothing selected), how reversible it is, and for a destructive change its impact."""
        head = self.query_one("#detail-head", Static)
        findings = self.query_one("#detail-findings", Static)
        diff = self.query_one("#detail-diff", Static)
        tree = self.query_one("#detail-blast", Tree)
        if row is None:
            head.update(inert("No change selected.", Tone.MUTED))
            findings.update("")
            diff.update("")
            tree.display = False
            return
        head.update(self._head(row, way_back))
        findings.update(self._findings(row))
        diff.update(self._diff(row, all_attributes))
        self._tree(tree, impact)
        self.scroll_home(animate=False)

    def _head(self, row: ChangeRow, way_back: ChangeReversibility | None = None) -> Text:
        theme = self.app.theme_variables
        change = row.change
        text = inert(f"{plan_symbol(change)} ", ACTION_TONES[change.action], theme)
        append(text, change.address, Tone.PLAIN, theme).stylize("bold", 0)
        text.append("\n")
        append(text, f"{change.action.value}", ACTION_TONES[change.action], theme)
        append(text, f" · {change.type}", Tone.MUTED, theme)
        if change.moved_from:
            text.append("\n")
            append(text, f"moved from {change.moved_from}", Tone.ACCENT, theme)
        if change.deposed:
            text.append("\n")
            append(text, f"deposed object {change.deposed}", Tone.WARN, theme)
        why = planned_because(change)
        for phrase, tone in ((why.order, Tone.WARN), (why.reason, Tone.PLAIN), (why.forced_by, Tone.WARN)):
            if phrase:
                text.append("\n")
                append(text, phrase, tone, theme)
        if way_back is not None:
            text.append("\n")
            append(text, "rollback: ", Tone.MUTED, theme)
            append(text, way_back.reversibility.value, REVERSIBILITY_TONES[way_back.reversibility], theme)
            append(text, f" · {way_back.reason}", Tone.PLAIN, theme)
        return text

    def _findings(self, row: ChangeRow) -> Text:
        theme = self.app.theme_variables
        if not row.findings:
            return inert("No findings.", Tone.MUTED, theme)
        text = Text(end="")
        for index, finding in enumerate(row.findings):
            if index:
                text.append("\n")
            append(text, finding.enforcement.value.upper(), ENFORCEMENT_TONES[finding.enforcement], theme)
            append(text, f" {finding.rule}: {finding.message}", Tone.PLAIN, theme)
            if finding.unknown:
                append(text, f" ({UNKNOWN_OUTCOME_WORDS})", Tone.WARN, theme)
        return text

    def _diff(self, row: ChangeRow, all_attributes: bool) -> Text:
        theme = self.app.theme_variables
        entries = attribute_diff(row.change, include_unchanged=all_attributes)
        if not entries:
            return inert("No attribute changes." if not all_attributes else "No attributes.", Tone.MUTED, theme)
        text = inert("Attributes" + (" (all)" if all_attributes else " (changed)"), bold=True)
        for entry in entries[:MAX_ATTRIBUTES]:
            text.append("\n")
            self._entry(text, entry)
        if len(entries) > MAX_ATTRIBUTES:
            text.append("\n")
            append(text, f"… {len(entries) - MAX_ATTRIBUTES:,} more attributes", Tone.MUTED, theme)
        return text

    def _entry(self, text: Text, entry: AttributeDiff) -> None:
        theme = self.app.theme_variables
        mark, tone = _MARKS[entry.difference]
        append(text, f"{mark} {format_path(entry.path)}", tone, theme)
        if entry.difference is Difference.ADDED:
            append(text, f" = {_cut(shown_value(entry.after))}", Tone.PLAIN, theme)
        elif entry.difference is Difference.REMOVED:
            append(text, f" = {_cut(shown_value(entry.before))}", Tone.PLAIN, theme)
        elif entry.difference is Difference.UNCHANGED:
            append(text, f" = {_cut(shown_value(entry.after))}", Tone.MUTED, theme)
        else:
            before, after = _cut(shown_value(entry.before)), _cut(shown_value(entry.after))
            append(text, f": {before} → {after}", Tone.PLAIN, theme)
        if entry.forces_replacement:
            append(text, "  # forces replacement", Tone.BAD, theme)

    def _tree(self, tree: Tree[None], impact: Impact | None) -> None:
        tree.clear()
        if impact is None:
            tree.display = False
            return
        theme = self.app.theme_variables
        built = build_tree(impact)
        tree.display = True
        tree.root.set_label(inert(f"Blast radius: {built.summary}", Tone.PLAIN, theme, bold=True))
        _add_children(tree.root, built.root, theme)
        tree.root.expand()


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + f"… ({len(value):,} chars)"


def _add_children(item: TreeItem[None], node: TreeNode, theme: dict[str, str]) -> None:
    for child in node.children:
        label = _label(child, theme)
        if child.children or child.hidden:
            branch = item.add(label, expand=child.critical or child.critical_below > 0)
            _add_children(branch, child, theme)
        else:
            item.add_leaf(label)
    if node.hidden:
        item.add_leaf(inert(f"… {node.hidden:,} more", Tone.MUTED, theme))


def _label(node: TreeNode, theme: dict[str, str]) -> Text:
    text = Text(end="")
    if node.critical:
        append(text, "CRITICAL ", Tone.BAD, theme)
    append(text, node.address, Tone.PLAIN, theme)
    notes = node_notes(node)
    if notes:
        append(text, f"  ({'; '.join(notes)})", ACTION_TONES.get(node.action or Action.NO_OP, Tone.MUTED), theme)
    return text
