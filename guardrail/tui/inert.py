"""Text from plans, policies and the store, made inert for the screen.

Resource names, values and messages are data: a `[bold]` in an address must print as typed and an
escape sequence must not repaint the terminal. Everything shown goes through `inert`, which builds a
rich Text (never parsed as markup) from text whose control and reordering characters are shown as
escapes (ESC becomes `\\x1b`). Colours come from the active theme, by meaning, so light and dark themes
both stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from rich.style import Style
from rich.text import Text

from guardrail.adapters.render.common import neutralise


class Tone(StrEnum):
    """What a piece of text means; the theme decides its colour."""

    PLAIN = ""
    GOOD = "text-success"
    BAD = "text-error"
    WARN = "text-warning"
    ACCENT = "text-accent"
    MUTED = "text-muted"


# Bold where colour alone would carry the meaning: words stay readable without colour.
_BOLD = frozenset({Tone.GOOD, Tone.BAD, Tone.WARN})


def inert(text: str, tone: Tone = Tone.PLAIN, theme: Mapping[str, str] | None = None, *, bold: bool = False) -> Text:
    """`text` as rich Text that no markup parser reads and no terminal acts on, coloured by `tone`."""
    return Text(neutralise(text), style=style_for(tone, theme, bold=bold), end="")


def style_for(tone: Tone, theme: Mapping[str, str] | None, *, bold: bool = False) -> Style:
    """The rich style of `tone` in the theme's variables (App.theme_variables); plain without a theme."""
    weight = bold or tone in _BOLD
    colour = theme.get(tone.value) if theme is not None and tone is not Tone.PLAIN else None
    if colour is not None and not colour.startswith("#"):
        colour = None  # "auto 60%" and other computed values are not rich colours
    if tone is Tone.MUTED and colour is None:
        return Style(dim=True, bold=weight)
    return Style(color=colour, bold=weight)


def append(line: Text, text: str, tone: Tone = Tone.PLAIN, theme: Mapping[str, str] | None = None) -> Text:
    """Add inert `text` to `line` (returned, for chaining)."""
    line.append(neutralise(text), style=style_for(tone, theme))
    return line
