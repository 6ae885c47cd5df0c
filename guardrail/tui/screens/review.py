"""The Review screen: the verdict and its counts, the changes by action, and the selected change's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from guardrail.core.blast.impact import Impact
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.queries import (
    CHANGE_FILTER_HELP,
    ChangeQuery,
    ChangeRow,
    filter_groups,
    parse_change_query,
    review_rows,
)
from guardrail.core.rollback.reversibility import RollbackAssessment
from guardrail.core.verdict import VERDICT_WORDS
from guardrail.services.session import Review
from guardrail.tui.inert import Tone, append, inert
from guardrail.tui.widgets.change_list import ChangeList
from guardrail.tui.widgets.diff import ChangeDetail
from guardrail.tui.wording import VERDICT_TONES, short_fingerprint

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp


class ReviewScreen(Screen[None]):
    """What the plan does, deletions first, and why it is allowed, denied or waiting for approval."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "leave_filter", "List", show=False),
        Binding("d", "toggle_all", "All attrs"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__(id="review")
        self._groups: list[tuple[Action, list[ChangeRow]]] = []
        self._impacts: dict[str, Impact] = {}
        self._rollback: RollbackAssessment | None = None
        self._query = ChangeQuery()
        self._all_attributes = False

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(inert("No plan loaded: press o to open one.", Tone.MUTED), id="verdict")
        yield Static(id="review-message")
        yield Input(placeholder=f"/ filter: {CHANGE_FILTER_HELP}", id="filter")
        with Horizontal(id="review-body"):
            yield ChangeList(id="changes")
            yield ChangeDetail(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#review-message").display = False
        self.watch(self.guardrail, "review", self._show_review)
        self.watch(self.guardrail, "review_problem", self._show_problem)
        self.watch(self.guardrail, "loading_plan", self._show_loading)
        self.watch(self.app, "theme", lambda _: self._show_review(self.guardrail.review), init=False)
        self.query_one(ChangeList).focus()

    # -- state from the app ---------------------------------------------------------------------------

    def _show_loading(self, plan: str | None) -> None:
        if plan is not None:
            self._message(f"Checking {plan} …", Tone.ACCENT)

    def _show_problem(self, problem: str | None) -> None:
        if problem is not None:
            self._message(problem, Tone.BAD)

    def _message(self, text: str | None, tone: Tone = Tone.PLAIN) -> None:
        message = self.query_one("#review-message", Static)
        message.display = bool(text)
        message.update(inert(text or "", tone, self.app.theme_variables))

    def _show_review(self, review: Review | None) -> None:
        if review is None:
            return
        report = review.report
        self._groups = review_rows(report.changeset, report.verdict.findings)
        self._impacts = {}
        self._rollback = report.rollback
        for impact in report.blast.impacts if report.blast is not None else ():
            self._impacts.setdefault(impact.address, impact)
        self.query_one("#verdict", Static).update(self._verdict(review))
        warning = None
        if review.store_problem:
            warning = f"Store unavailable, locks not checked and approvals not counted: {review.store_problem}"
        self._message(warning, Tone.WARN)
        self._refill()

    def _verdict(self, review: Review) -> Text:
        theme = self.app.theme_variables
        report = review.report
        decision = report.verdict.decision
        text = inert(f" {VERDICT_WORDS[decision]} ", VERDICT_TONES[decision], theme)
        text.stylize("reverse")
        findings = report.verdict.findings
        append(text, f"  {len(findings)} findings: {report.verdict.counts_line()}", Tone.PLAIN, theme)
        append(text, f"  {short_fingerprint(review.fingerprint)}", Tone.MUTED, theme)
        counts = [f"{n:,} {action}" for action, n in report.changeset.summary().items() if n]
        text.append("\n")
        append(text, f"{review.plan}: " + (", ".join(counts) or "no changes"), Tone.PLAIN, theme)
        if report.rollback is not None and report.rollback.changes:
            append(text, f"  rollback: {report.rollback.counts_line()}", Tone.MUTED, theme)
        for note in report.notes:
            text.append("\n")
            append(text, f"{note}", Tone.ACCENT, theme)
        plan_wide = [f for f in findings if f.address is None]
        if plan_wide:
            text.append("\n")
            append(text, f"{len(plan_wide)} plan-wide finding(s): {plan_wide[0].message}", Tone.MUTED, theme)
        return text

    # -- the list and the detail ----------------------------------------------------------------------

    def _refill(self) -> None:
        changes = self.query_one(ChangeList)
        keep = changes.current.change.address if changes.current is not None else None
        changes.show(filter_groups(self._groups, self._query), keep)
        if not changes.row_count:
            self.query_one(ChangeDetail).show(None, None)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self._query = parse_change_query(event.value)
        except BadInputError as error:
            self._message(str(error), Tone.BAD)
            return
        self._message(None)
        self._refill()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(ChangeList).focus()

    @on(ChangeList.Highlighted)
    def _highlighted(self, event: ChangeList.Highlighted) -> None:
        self._detail(event.row)

    def _detail(self, row: ChangeRow | None) -> None:
        impact = self._impacts.get(row.change.address) if row is not None else None
        way_back = None
        if row is not None and self._rollback is not None:
            way_back = self._rollback.of(row.change.address, row.change.deposed)
        self.query_one(ChangeDetail).show(row, impact, all_attributes=self._all_attributes, way_back=way_back)

    # -- actions --------------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(ChangeList).focus()

    def action_toggle_all(self) -> None:
        self._all_attributes = not self._all_attributes
        self._detail(self.query_one(ChangeList).current)

    def action_reload(self) -> None:
        self.guardrail.reload_plan()
