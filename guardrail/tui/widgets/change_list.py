"""The change list: grouped by action, deletions first, drawn one visible line at a time.

A plan can hold tens of thousands of changes; Textual's list widgets measure every item up front, this
one only ever renders the lines on screen (the Line API), so filling it or filtering it costs the same
whatever the plan's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from guardrail.adapters.render.common import ACTION_TITLES
from guardrail.core.change import Action
from guardrail.core.queries import ChangeGroup, ChangeRow
from guardrail.core.reasons import plan_symbol
from guardrail.tui.inert import Tone, append, style_for
from guardrail.tui.wording import ACTION_TONES, ENFORCEMENT_LETTERS, ENFORCEMENT_TONES


@dataclass(frozen=True, slots=True)
class _Heading:
    action: Action
    shown: int
    total: int


_Line = _Heading | ChangeRow


class ChangeList(ScrollView, can_focus=True):
    """Changes under action headings; the cursor moves over changes only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"change-list--cursor"}

    cursor: reactive[int] = reactive(-1, always_update=True, init=False)

    @dataclass
    class Highlighted(Message):
        """The change under the cursor changed (None: the list is empty)."""

        change_list: ChangeList
        row: ChangeRow | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[_Line] = []
        self._row_count = 0

    @property
    def row_count(self) -> int:
        """The changes listed (headings aside); kept by `show`, not counted again on every call."""
        return self._row_count

    @property
    def current(self) -> ChangeRow | None:
        if 0 <= self.cursor < len(self._lines):
            line = self._lines[self.cursor]
            return line if isinstance(line, ChangeRow) else None
        return None

    def show(self, groups: list[ChangeGroup], keep: str | None = None) -> None:
        """Replace the lines; the cursor stays on the change at address `keep` when it is still listed."""
        lines: list[_Line] = []
        target = -1
        for group in groups:
            lines.append(_Heading(group.action, len(group.rows), group.total))
            for row in group.rows:
                if row.change.address == keep and target < 0:
                    target = len(lines)
                lines.append(row)
        self._lines = lines
        self._row_count = sum(len(group.rows) for group in groups)
        self.virtual_size = Size(0, len(lines))
        first = next((i for i, line in enumerate(lines) if isinstance(line, ChangeRow)), -1)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = target if target >= 0 else first
        self.refresh()

    def watch_cursor(self, cursor: int) -> None:
        self._reveal(cursor)
        self.refresh()
        self.post_message(self.Highlighted(self, self.current))

    def _reveal(self, index: int) -> None:
        top, height = round(self.scroll_offset.y), max(self.scrollable_content_region.height, 1)
        if index < top:
            self.scroll_to(y=max(index - 1, 0), animate=False, immediate=True)  # keep its heading in view
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def _step_to(self, start: int, direction: int) -> int:
        """The nearest change at or beyond `start` going `direction`; the current cursor when there is none."""
        index = start
        while 0 <= index < len(self._lines):
            if isinstance(self._lines[index], ChangeRow):
                return index
            index += direction
        return self.cursor

    def action_move(self, delta: int) -> None:
        self.cursor = self._step_to(self.cursor + delta, 1 if delta > 0 else -1)

    def action_page(self, direction: int) -> None:
        height = max(self.scrollable_content_region.height - 1, 1)
        target = min(max(self.cursor + direction * height, 0), max(len(self._lines) - 1, 0))
        self.cursor = self._step_to(target, direction)

    def action_edge(self, direction: int) -> None:
        self.cursor = self._step_to(len(self._lines) - 1 if direction > 0 else 0, -direction)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            index = offset.y + round(self.scroll_offset.y)
            if 0 <= index < len(self._lines) and isinstance(self._lines[index], ChangeRow):
                self.cursor = index

    def render_line(self, y: int) -> Strip:
        index = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("change-list--cursor")
        # Segment styles sit on top of the line's: colours by meaning, background from the cursor.
        strip = Strip(list(self._text(self._lines[index]).render(self.app.console))).apply_style(style)
        return strip.crop_extend(0, width, style)

    def _text(self, line: _Line) -> Text:
        theme = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if isinstance(line, _Heading):
            count = f"{line.shown:,}" if line.shown == line.total else f"{line.shown:,} of {line.total:,}"
            text.append(f"{ACTION_TITLES[line.action]} ({count})", style=style_for(Tone.PLAIN, theme, bold=True))
            return text
        change = line.change
        append(text, f" {plan_symbol(change):>3} ", ACTION_TONES[change.action], theme)
        worst = line.worst
        if worst is None:
            text.append("  ")
        else:
            append(text, ENFORCEMENT_LETTERS[worst], ENFORCEMENT_TONES[worst], theme)
            text.append(" ")
        append(text, change.address, Tone.PLAIN, theme)
        if change.deposed:
            append(text, " (deposed)", Tone.MUTED, theme)
        return text
