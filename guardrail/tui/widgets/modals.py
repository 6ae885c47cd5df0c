"""Modal screens: every change to the store is confirmed in one that says exactly what it will do.

`ActionModal` is a confirmation with optional fields (a required reason, an optional comment, a time
limit); it returns the values typed, or None when cancelled. Validators are pure functions: a bad value
is shown under the form and the modal stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from guardrail.core.errors import BadInputError
from guardrail.tui.inert import Tone, inert

Validator = Callable[[str], object]  # raises BadInputError saying what is wrong; the result is unused


@dataclass(frozen=True)
class FormField:
    """One value the modal asks for. `choices` makes it a list to pick from instead of a text box."""

    name: str
    label: str
    required: bool = False
    value: str = ""
    placeholder: str = ""
    choices: Sequence[str] = ()
    check: Validator | None = None


@dataclass(frozen=True)
class ModalText:
    """What the modal says: a title, what will happen, and the button that makes it happen."""

    title: str
    body: str
    confirm: str = "Confirm"
    danger: bool = False
    fields: Sequence[FormField] = field(default=())


class ActionModal(ModalScreen[dict[str, str] | None]):
    """Confirm an action, after filling in its fields. Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, text: ModalText, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box", classes="danger" if self.text.danger else ""):
            yield Label(inert(self.text.title, bold=True), id="modal-title")
            with VerticalScroll(id="modal-body"):
                yield Static(inert(self.text.body), id="modal-text")
                for spec in self.text.fields:
                    suffix = " (required)" if spec.required else ""
                    yield Label(inert(spec.label + suffix), classes="field-label")
                    if spec.choices:
                        options = [(inert(c), c) for c in spec.choices]
                        yield Select(
                            options, value=spec.value or spec.choices[0], allow_blank=False, id=spec.name, compact=True
                        )
                    else:
                        yield Input(spec.value, placeholder=spec.placeholder, id=spec.name, compact=True)
            yield Static(id="modal-error")
            with Horizontal(id="modal-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self.text.confirm, id="confirm", variant="error" if self.text.danger else "primary", compact=True
                )

    def on_mount(self) -> None:
        first = self.query(Input).first() if self.query(Input) else None
        (first or self.query_one("#confirm", Button)).focus()

    def values(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for spec in self.text.fields:
            if spec.choices:
                found[spec.name] = str(self.query_one(f"#{spec.name}", Select).value)
            else:
                found[spec.name] = self.query_one(f"#{spec.name}", Input).value.strip()
        return found

    def problem(self, values: Mapping[str, str]) -> tuple[str, str] | None:
        """The first field whose value is wrong and what is wrong with it, or None."""
        for spec in self.text.fields:
            value = values[spec.name]
            if spec.required and not value:
                return spec.name, f"{spec.label}: required"
            if value and spec.check is not None:
                try:
                    spec.check(value)
                except BadInputError as error:
                    return spec.name, str(error)
        return None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    @on(Button.Pressed, "#confirm")
    def _pressed_confirm(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _confirm(self) -> None:
        values = self.values()
        problem = self.problem(values)
        if problem is not None:
            name, words = problem
            self.query_one("#modal-error", Static).update(inert(words, Tone.BAD, self.app.theme_variables))
            self.query_one(f"#{name}").focus()
            return
        self.dismiss(values)


class TextModal(ModalScreen[None]):
    """Read-only text (an audit event in full); Escape or Enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box", classes="wide"):
            yield Label(inert(self.title_text, bold=True), id="modal-title")
            with VerticalScroll(id="modal-body"):
                yield Static(self.body, id="modal-text")
            with Horizontal(id="modal-buttons"):
                yield Button("Close", id="close", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#modal-body").focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """Yes or no to one action that changes something (pause, resume or abort a rollout or a node cycle): True only when
    its button is pressed. Escape, or the Cancel button, says no."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, text: ModalText) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box", classes="danger" if self.text.danger else ""):
            yield Label(inert(self.text.title, bold=True), id="modal-title")
            with VerticalScroll(id="modal-body"):
                yield Static(inert(self.text.body), id="modal-text")
            with Horizontal(id="modal-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self.text.confirm, id="confirm", variant="error" if self.text.danger else "primary", compact=True
                )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # a stray Enter must not abort a cycle

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
