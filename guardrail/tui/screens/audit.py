"""The Audit screen: browse and filter the hash-chained log, read one event in full, verify the chain."""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from guardrail.adapters.render.rollback import render_text
from guardrail.core.audit import AuditEvent, ChainReport, EventFilter
from guardrail.core.errors import BadInputError
from guardrail.core.queries import EVENT_FILTER_HELP, parse_event_query
from guardrail.core.rollback.plan import RollbackPlan
from guardrail.core.verdict import Decision
from guardrail.services.rollback import RollbackApplied
from guardrail.services.session import EventPage
from guardrail.tui.calls import run_service, tell
from guardrail.tui.inert import Tone, append, inert
from guardrail.tui.widgets.modals import TextModal
from guardrail.tui.widgets.rollback_modal import RollbackModal
from guardrail.tui.wording import short_fingerprint

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp

_COLUMNS = ("seq", "time (UTC)", "actor", "kind", "plan")


class AuditScreen(Screen[None]):
    """Every change guardrail allowed or refused, who did it, sealed in a hash chain."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "verify", "Verify chain"),
        Binding("r", "rollback", "Rollback"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "leave_filter", "Table", show=False),
        Binding("ctrl+r", "refresh_events", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="audit")
        self._selection = EventFilter()
        self._events: tuple[AuditEvent, ...] = ()

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(inert("Audit log", bold=True), id="audit-title", classes="screen-title")
        yield Static(id="audit-banner")
        yield Input(placeholder=f"/ filter: {EVENT_FILTER_HELP}", id="audit-filter")
        yield Static(id="audit-message")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        self.query_one("#audit-banner").display = False
        self._message(None)
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh_events()

    def _message(self, text: str | None, tone: Tone = Tone.BAD) -> None:
        message = self.query_one("#audit-message", Static)
        message.display = bool(text)
        message.update(inert(text or "", tone, self.app.theme_variables))

    # -- the table ------------------------------------------------------------------------------------

    def action_refresh_events(self) -> None:
        call = partial(self.guardrail.session.events, self._selection)
        run_service(self, call, self._show, self._message, group="audit-events")

    def _show(self, page: EventPage) -> None:
        self._events = page.events
        table = self.query_one(DataTable)
        table.clear()
        theme = self.app.theme_variables
        for event in page.events:
            cells = (str(event.seq), event.time[:19].replace("T", " "), event.actor, event.kind)
            row = [inert(cell, Tone.PLAIN, theme) for cell in cells]
            row.append(inert(short_fingerprint(event.fingerprint), Tone.MUTED, theme))
            table.add_row(*row, key=str(event.seq))
        shown = len(page.events)
        if not shown:
            self._message(
                "No events." if self._selection == EventFilter() else "No event matches the filter.", Tone.MUTED
            )
        elif shown < page.total:
            self._message(f"The newest {shown:,} of {page.total:,} events: filter to narrow.", Tone.MUTED)
        else:
            self._message(None)

    @on(Input.Submitted, "#audit-filter")
    def _filter(self, event: Input.Submitted) -> None:
        try:
            self._selection = parse_event_query(event.value, self.guardrail.session.clock())
        except BadInputError as error:
            self._message(str(error))
            return
        self.query_one(DataTable).focus()
        self.action_refresh_events()

    def action_focus_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _open_event(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        call = partial(self.guardrail.session.event, int(event.row_key.value))
        run_service(self, call, self._show_event, self._message, group="audit-event")

    def _show_event(self, event: AuditEvent) -> None:
        self.app.push_screen(TextModal(f"Audit event {event.seq}: {event.kind}", event_text(event)))

    # -- rollback -------------------------------------------------------------------------------------

    def action_rollback(self) -> None:
        """The rollback plan of the apply under the cursor (its apply-end event), planned in a worker."""
        seq = self._selected_seq()
        if seq is None:
            self._message("Select the apply-end event of the apply to roll back.", Tone.MUTED)
            return
        self._message(f"Planning the rollback of the apply of event {seq} …", Tone.ACCENT)
        call = partial(self.guardrail.session.rollback_plan, seq)
        run_service(self, call, partial(self._show_rollback, seq), self._message, group="rollback")

    def _selected_seq(self) -> int | None:
        table = self.query_one(DataTable)
        if not self._events or table.cursor_row < 0 or table.cursor_row >= len(self._events):
            return None
        return self._events[table.cursor_row].seq

    def _show_rollback(self, seq: int, planned: RollbackPlan) -> None:
        self._message(None)
        allowed = planned.report.verdict.decision is Decision.ALLOW
        title = f"Rollback of the apply of event {seq} to {planned.target.commit[:12]}"
        body = lines_text(render_text(planned).splitlines())
        if not allowed:
            append(body, "Not allowed as it stands: approve its fingerprint, or break glass, then open it again.")

        def answered(apply: bool | None) -> None:
            if apply:
                self._message(f"Applying the rollback of event {seq} …", Tone.ACCENT)
                call = partial(self.guardrail.session.rollback_apply, seq)
                run_service(self, call, self._rolled_back, self._message, group="rollback")

        self.app.push_screen(RollbackModal(title, body, can_apply=allowed), answered)

    def _rolled_back(self, done: RollbackApplied) -> None:
        lines = render_text(done.plan, done.result).rstrip().splitlines()
        words = next((line for line in reversed(lines) if not line.startswith("  - ")), lines[-1])
        tone = Tone.GOOD if done.result.verified else Tone.BAD
        tell(self, words, title="Rollback", severity="information" if done.result.verified else "error")

        def listed(page: EventPage) -> None:  # the new events first, then the outcome over the list's note
            self._show(page)
            self._message(words, tone)

        call = partial(self.guardrail.session.events, self._selection)
        run_service(self, call, listed, self._message, group="audit-events")

    # -- verify ---------------------------------------------------------------------------------------

    def action_verify(self) -> None:
        banner = self.query_one("#audit-banner", Static)
        banner.display = True
        banner.set_classes("pending")
        banner.update(inert("Verifying the chain …", Tone.ACCENT, self.app.theme_variables))
        run_service(self, self.guardrail.session.verify, self._verified, self._verify_failed, group="verify")

    def _verified(self, report: ChainReport) -> None:
        banner = self.query_one("#audit-banner", Static)
        if report.ok:
            banner.set_classes("intact")
            words = f"INTACT: {report.count:,} events, head {report.head[:16]}…"
            for note in report.notes:
                words += f"  ({note})"
        else:
            banner.set_classes("broken")
            where = report.broken.seq if report.broken else "?"
            why = report.broken.reason if report.broken else "unknown"
            words = f"BROKEN at event {where}: {why} ({report.count:,} events verified before it)"
        banner.update(inert(words, bold=True))
        tell(self, words, title="Audit chain", severity="information" if report.ok else "error")

    def _verify_failed(self, problem: str) -> None:
        banner = self.query_one("#audit-banner", Static)
        banner.set_classes("broken")
        banner.update(inert(f"Cannot verify: {problem}", bold=True))


def event_text(event: AuditEvent) -> Text:
    """The whole event: fields, then the payload as indented JSON (or as stored when it does not parse)."""
    text = Text(end="")
    for name, value in (
        ("seq", str(event.seq)),
        ("time", event.time),
        ("actor", event.actor),
        ("kind", event.kind),
        ("plan", event.fingerprint or "-"),
        ("prev_hash", event.prev_hash),
        ("hash", event.hash),
    ):
        append(text, f"{name:<10}", Tone.MUTED)
        append(text, value)
        text.append("\n")
    try:
        payload = json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        append(text, "payload (not valid JSON, as stored):", Tone.BAD)
        text.append("\n")
        payload = event.payload_json
    # neutralise() would show each newline of the indented JSON as \n: keep them, escape the rest.
    text.append_text(lines_text(payload.splitlines()))
    return text


def lines_text(lines: list[str]) -> Text:
    """Lines of text kept as lines, each made inert (control characters shown as escapes)."""
    text = Text(end="")
    for line in lines:
        append(text, line)
        text.append("\n")
    return text
