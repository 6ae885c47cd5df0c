"""The Approvals screen: the plan's fingerprint, its author, who approved (and whether it counts), and
approve or break glass, each confirmed with what it will record."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from guardrail.core.approvals import DEFAULT_BREAK_GLASS_TTL, Approval, BreakGlass
from guardrail.core.locks import parse_duration
from guardrail.core.verdict import VERDICT_WORDS
from guardrail.services.session import Review
from guardrail.tui.calls import run_service, tell
from guardrail.tui.inert import Tone, append, inert
from guardrail.tui.widgets.modals import ActionModal, FormField, ModalText
from guardrail.tui.wording import (
    VERDICT_TONES,
    approve_words,
    break_glass_words,
    duration_words,
    when,
)

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp


class ApprovalsScreen(Screen[None]):
    """Approvals count for one exact plan; the author's never do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve"),
        Binding("b", "break_glass", "Break glass"),
        Binding("ctrl+r", "refresh_status", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="approvals")

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(inert("Approvals", bold=True), id="approvals-title", classes="screen-title")
        yield Static(id="approvals-error")
        with VerticalScroll(id="approvals-body"):
            yield Static(id="approvals-status")
        yield Footer()

    def on_mount(self) -> None:
        self._error(None)
        self.watch(self.guardrail, "review", self._show)

    def _error(self, text: str | None) -> None:
        error = self.query_one("#approvals-error", Static)
        error.display = bool(text)
        error.update(inert(text or "", Tone.BAD, self.app.theme_variables))

    def _show(self, review: Review | None) -> None:
        status = self.query_one("#approvals-status", Static)
        if review is None:
            status.update(inert("No plan loaded: approvals are given to one plan. Press o to open one.", Tone.MUTED))
            return
        status.update(self._status(review))

    def _status(self, review: Review) -> Text:
        theme = self.app.theme_variables
        report = review.report
        decision = report.verdict.decision
        text = inert("Plan         ", Tone.MUTED, theme)
        append(text, str(review.plan), Tone.PLAIN, theme)
        text.append("\n")
        append(text, "Fingerprint  ", Tone.MUTED, theme)
        append(text, review.fingerprint, Tone.PLAIN, theme)
        text.append("\n")
        append(text, "Verdict      ", Tone.MUTED, theme)
        append(text, VERDICT_WORDS[decision], VERDICT_TONES[decision], theme)
        rules = review.unsettled.verdict.decision
        if rules is not decision:
            append(text, f" (the rules alone say {VERDICT_WORDS[rules]})", Tone.MUTED, theme)
        if review.store_problem:
            text.append("\n\n")
            append(text, f"Store unavailable: {review.store_problem}", Tone.BAD, theme)
            return text
        text.append("\n")
        append(text, "Author       ", Tone.MUTED, theme)
        append(text, review.author or "-", Tone.PLAIN, theme)
        text.append("\n")
        append(text, "You are      ", Tone.MUTED, theme)
        append(text, review.actor or "-", Tone.PLAIN, theme)
        status = review.status
        if status is not None:
            tone = Tone.GOOD if status.satisfied else Tone.WARN
            text.append("\n\n")
            append(text, f"Approvals: {len(status.counted)} of {status.required} required", tone, theme)
            for approval in status.counted:
                self._approval(text, approval, "counted", Tone.GOOD)
            for approval, why in status.ignored:
                self._approval(text, approval, f"ignored: {why}", Tone.MUTED)
            if not status.counted and not status.ignored:
                text.append("\n")
                append(text, "  none yet", Tone.MUTED, theme)
        text.append("\n\n")
        append(text, "Break-glass passes", Tone.PLAIN, theme)
        for grant in review.passes:
            self._grant(text, grant)
        if not review.passes:
            text.append("\n")
            append(text, "  none", Tone.MUTED, theme)
        for note in report.notes:
            text.append("\n\n")
            append(text, f"{note}", Tone.ACCENT, theme)
        return text

    def _approval(self, text: Text, approval: Approval, state: str, tone: Tone) -> None:
        theme = self.app.theme_variables
        text.append("\n")
        append(text, f"  {approval.actor}", Tone.PLAIN, theme)
        append(text, f"  {when(approval.time)}  ", Tone.MUTED, theme)
        append(text, state, tone, theme)
        if approval.comment:
            text.append("\n")
            append(text, f"    “{approval.comment}”", Tone.MUTED, theme)

    def _grant(self, text: Text, grant: BreakGlass) -> None:
        theme = self.app.theme_variables
        now = self.guardrail.session.clock()
        state = "used" if grant.used_at else ("usable" if grant.is_usable(now) else "expired")
        text.append("\n")
        append(text, f"  {grant.id} by {grant.actor}, until {when(grant.expires_at)}: ", Tone.PLAIN, theme)
        append(text, state, Tone.BAD if state == "usable" else Tone.MUTED, theme)
        text.append("\n")
        append(text, f"    {grant.reason}", Tone.MUTED, theme)

    # -- actions --------------------------------------------------------------------------------------

    def _current(self) -> Review | None:
        review = self.guardrail.review
        if review is None:
            tell(self, "No plan loaded: open one first (o).", severity="warning")
        return review

    def action_refresh_status(self) -> None:
        self.guardrail.resettle()

    def action_approve(self) -> None:
        review = self._current()
        if review is None:
            return
        counted, required = (len(review.status.counted), review.status.required) if review.status else (0, 1)
        body = approve_words(review.fingerprint, review.actor or "?", counted, required)
        comment = FormField("comment", "Comment", placeholder="optional")
        modal = ActionModal(ModalText("Approve this plan?", body, "Approve", fields=(comment,)))
        self.app.push_screen(modal, partial(self._approve, review.fingerprint))

    def _approve(self, fingerprint: str, values: dict[str, str] | None) -> None:
        if values is not None:
            call = partial(self.guardrail.session.approve, fingerprint, values["comment"])
            run_service(self, call, lambda _: self._recorded("Approval recorded"), self._refused, group="approve")

    def action_break_glass(self) -> None:
        review = self._current()
        if review is None:
            return
        default_ttl = duration_words(DEFAULT_BREAK_GLASS_TTL)
        fields = (
            FormField("reason", "Reason (recorded in the audit log)", required=True, placeholder="the incident"),
            FormField("ttl", "Usable for", required=True, value=default_ttl, check=parse_duration),
        )
        body = break_glass_words(review.fingerprint, review.actor or "?", default_ttl)
        modal = ActionModal(ModalText("Break glass?", body, "Break glass", danger=True, fields=fields))
        self.app.push_screen(modal, partial(self._break_glass, review.fingerprint))

    def _break_glass(self, fingerprint: str, values: dict[str, str] | None) -> None:
        if values is not None:
            ttl = parse_duration(values["ttl"])
            call = partial(self.guardrail.session.break_glass, fingerprint, values["reason"], ttl)
            run_service(self, call, lambda _: self._recorded("Break-glass pass granted"), self._refused, group="bg")

    def _recorded(self, words: str) -> None:
        self._error(None)
        tell(self, words, title="Approvals")
        self.guardrail.resettle()

    def _refused(self, problem: str) -> None:
        self._error(problem)
        tell(self, problem, title="Refused", severity="error")
