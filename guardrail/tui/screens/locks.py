"""The Locks screen: the locks in force (or all of them), add one, release one; each confirmed first."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from guardrail.core.errors import BadInputError
from guardrail.core.locks import Lock, LockTarget, parse_duration, parse_tag
from guardrail.tui.calls import run_service, tell
from guardrail.tui.inert import Tone, inert
from guardrail.tui.widgets.modals import ActionModal, FormField, ModalText
from guardrail.tui.wording import lock_release_words, lock_request_words, lock_state, when

if TYPE_CHECKING:
    from guardrail.tui.app import GuardrailApp

_COLUMNS = ("id", "on", "pattern", "state", "owner", "reason", "since")


class LocksScreen(Screen[None]):
    """Locks freeze every change to what they match, until released or expired."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add lock"),
        Binding("x", "release", "Release"),
        Binding("t", "toggle_inactive", "Show all"),
        Binding("ctrl+r", "refresh_locks", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="locks")
        self.include_inactive = False
        self._locks: list[Lock] = []

    @property
    def guardrail(self) -> GuardrailApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="locks-title", classes="screen-title")
        yield Static(id="locks-message")
        table: DataTable[object] = DataTable(id="locks-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        self.query_one("#locks-message").display = False
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh_locks()

    def _title(self) -> None:
        which = "all locks, released and expired included" if self.include_inactive else "locks in force"
        self.query_one("#locks-title", Static).update(inert(f"Locks: {which}", bold=True))

    def _message(self, text: str | None, tone: Tone = Tone.BAD) -> None:
        message = self.query_one("#locks-message", Static)
        message.display = bool(text)
        message.update(inert(text or "", tone, self.app.theme_variables))

    def action_refresh_locks(self) -> None:
        self._title()
        call = partial(self.guardrail.session.locks, include_inactive=self.include_inactive)
        run_service(self, call, self._show, self._failed, group="locks")

    def _failed(self, problem: str) -> None:
        self._message(problem)
        tell(self, problem, title="Locks", severity="error")

    def _show(self, locks: list[Lock]) -> None:
        self._message(None if locks else "No locks. Press a to add one.", Tone.MUTED)
        self._locks = locks
        table = self.query_one(DataTable)
        table.clear()
        now = self.guardrail.session.clock()
        theme = self.app.theme_variables
        for lock in locks:
            state = lock_state(lock, now)
            tone = Tone.BAD if lock.is_active(now) else Tone.MUTED
            cells = (lock.id, lock.target.value, lock.pattern, state, lock.owner, lock.reason, when(lock.created_at))
            table.add_row(
                *(
                    inert(cell, tone if column == "state" else Tone.PLAIN, theme)
                    for column, cell in zip(_COLUMNS, cells, strict=True)
                ),
                key=lock.id,
            )

    def action_toggle_inactive(self) -> None:
        self.include_inactive = not self.include_inactive
        self.action_refresh_locks()

    # -- add ------------------------------------------------------------------------------------------

    def action_add(self) -> None:
        fields = (
            FormField("target", "Lock resources by", choices=[t.value for t in LockTarget]),
            FormField("pattern", "Address glob, type, or tag key=value", required=True, placeholder="module.db.*"),
            FormField("reason", "Reason", required=True, placeholder="why changes must wait"),
            FormField("expires", "Expires after (empty: until released)", placeholder="2h", check=parse_duration),
        )
        text = ModalText("Add a lock", "Every change to what the lock matches is denied while it holds.", "Next")
        self.app.push_screen(ActionModal(ModalText(text.title, text.body, text.confirm, fields=fields)), self._add_form)

    def _add_form(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        target = LockTarget(values["target"])
        if target is LockTarget.TAG:
            try:
                parse_tag(values["pattern"])
            except BadInputError as error:
                self._failed(str(error))
                return
        expires = parse_duration(values["expires"]) if values["expires"] else None
        sentence = lock_request_words(target, values["pattern"], values["reason"], expires)
        confirm = ModalText("Add this lock?", sentence, "Add lock", danger=True)
        add = partial(self.guardrail.session.add_lock, target, values["pattern"], values["reason"], expires)
        self.app.push_screen(ActionModal(confirm), partial(self._confirmed, add, "Lock added"))

    # -- release --------------------------------------------------------------------------------------

    def action_release(self) -> None:
        lock = self._selected()
        if lock is None:
            tell(self, "Select a lock to release first.", severity="warning")
            return
        reason = FormField("reason", "Reason", required=True, placeholder="why it may go")
        text = ModalText("Release this lock?", lock_release_words(lock), "Release", danger=True, fields=(reason,))
        self.app.push_screen(ActionModal(text), partial(self._release_answer, lock))

    def _release_answer(self, lock: Lock, values: dict[str, str] | None) -> None:
        if values is not None:
            release = partial(self.guardrail.session.release_lock, lock.id, values["reason"])
            self._confirmed(release, "Lock released", {})

    def _selected(self) -> Lock | None:
        table = self.query_one(DataTable)
        if not self._locks or table.cursor_row < 0 or table.cursor_row >= len(self._locks):
            return None
        return self._locks[table.cursor_row]

    # -- after a confirmed change ---------------------------------------------------------------------

    def _confirmed(self, call: partial[Lock], done_words: str, values: dict[str, str] | None) -> None:
        if values is None:
            return
        run_service(self, call, partial(self._changed, done_words), self._failed, group="lock-change")

    def _changed(self, done_words: str, lock: Lock) -> None:
        tell(self, f"{done_words}: {lock.describe()}", title="Locks")
        self._message(None)
        self.action_refresh_locks()
        self.guardrail.resettle()  # a lock may block (or stop blocking) the plan under review

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        lock = self._selected()
        if lock is not None:
            tell(self, lock.describe(), title=lock.id)
