"""Driving the app in tests: wait for its service calls, read what a widget shows."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input


async def settle(pilot: Pilot[Any]) -> None:
    """Every worker finished and its result painted (a result may start another call: wait again)."""
    app: App[Any] = pilot.app
    for _ in range(4):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def press_each(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys one at a time, each after the screen or modal the previous one opened is up and its
    workers are done: a key sent while a screen is still mounting goes elsewhere on a loaded machine."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def shown(app: App[Any], selector: str) -> str:
    """The plain text a Static (or any widget) on the current screen renders."""
    widget: Widget = app.screen.query_one(selector)
    return str(widget.render())


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type into the focused Input: one key per character would make tests slow for no added coverage."""
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"expected a focused Input, got {focused!r}"
    focused.insert_text_at_cursor(text)
    await pilot.pause()


async def clear_input(pilot: Pilot[Any]) -> None:
    focused = pilot.app.focused
    assert isinstance(focused, Input)
    focused.value = ""
    await pilot.pause()
