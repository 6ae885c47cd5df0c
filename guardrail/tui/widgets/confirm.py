"""A yes-or-no confirmation (ModalScreen[bool]) for actions that change a rollout: it says exactly what
will happen; Escape or Cancel answers no."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from guardrail.tui.inert import inert


class ConfirmModal(ModalScreen[bool]):
    """True when confirmed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, body: str, confirm: str, *, danger: bool = False) -> None:
        super().__init__()
        self.title_text, self.body, self.confirm, self.danger = title, body, confirm, danger

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box", classes="danger" if self.danger else ""):
            yield Label(inert(self.title_text, bold=True), id="modal-title")
            yield Static(inert(self.body), id="modal-text")
            with Horizontal(id="modal-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self.confirm, id="confirm", variant="error" if self.danger else "primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
