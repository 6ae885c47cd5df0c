"""The rollback plan of an apply, read in full, with the one button that applies it: a ModalScreen[bool]
that answers True only when the operator confirms the apply."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from guardrail.tui.inert import inert


class RollbackModal(ModalScreen[bool]):
    """`body`: the rollback plan as text. Escape or Close answers False; "Apply rollback" answers True
    (offered only when `can_apply`: a plan the gate would not let through is only shown)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, body: Text, *, can_apply: bool) -> None:
        super().__init__(id="rollback-modal")
        self.title_text = title
        self.body = body
        self.can_apply = can_apply

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box", classes="wide danger"):
            yield Label(inert(self.title_text, bold=True), id="modal-title")
            with VerticalScroll(id="modal-body"):
                yield Static(self.body, id="modal-text")
            with Horizontal(id="modal-buttons"):
                yield Button("Close", id="close", compact=True)
                if self.can_apply:
                    yield Button("Apply rollback", id="confirm", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()  # the safe choice has the focus: Enter never applies

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)
