"""Smoke test in a real terminal: the app started in tmux, keys sent, the screen read back, a clean quit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.tui.conftest import PLANS

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _screen(session: str, *, escapes: bool = False) -> str:
    """The visible screen; with `escapes`, with the escape sequences that draw it (tmux -e)."""
    return _tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", session)


def _wait_for(session: str, text: str, timeout: float = 30.0, *, gone: str | None = None) -> str:
    """The screen once `text` shows (and `gone`, when given, no longer does)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if text in screen and (gone is None or gone not in screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} (without {gone!r}) never appeared; the screen shows:\n{screen}")


def test_the_app_runs_in_a_real_terminal_and_quits_cleanly(tmp_path: Path) -> None:
    session = f"guardrail-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "status"
    command = (
        f"cd {PLANS} && GUARDRAIL_ACTOR=alice@example.com {sys.executable} -m guardrail tui plan.json "
        f"--config guardrail.yaml --store sqlite:///{tmp_path / 'store.db'}; echo $? > {status}"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    try:
        screen = _wait_for(session, "NEEDS APPROVAL")
        assert "aws_db_instance.orders" in screen
        assert "Replace (1)" in screen
        # The app draws with colour (SGR, ending in "m") and nothing else: a plan's escape sequences are
        # shown as text, never sent to the terminal.
        drawn = _screen(session, escapes=True)
        assert set(re.findall(r"\x1b\[[0-9;:]*([A-Za-z])", drawn)) <= {"m"}
        _tmux("send-keys", "-t", session, "/")
        time.sleep(1.0)  # as a person would: keys typed before the focus moves would go to the list
        _tmux("send-keys", "-t", session, "-l", "action:update")
        screen = _wait_for(session, "Update in place (2)", gone="Replace (1)")
        assert "aws_db_instance.orders" not in screen  # the replaced database is filtered out
        _tmux("send-keys", "-t", session, "Enter")  # back to the list (ESC then q could read as alt+q)
        time.sleep(1.0)  # likewise: a `q` sent at once would be typed into the filter
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while not (status.exists() and status.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status.exists(), f"the app did not quit; the screen shows:\n{_screen(session)}"
        assert status.read_text().strip() == "0"  # the exit code of `guardrail tui`
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
