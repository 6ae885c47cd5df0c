"""An app on a fixture plan and a SQLite store in tmp_path, with a fixed clock and a settable actor."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardrail.adapters.store import initialise_store, open_store
from guardrail.config import Settings, load_settings
from guardrail.core.runs import StoreWithRuns
from guardrail.services.session import OperatorSession
from guardrail.tui.app import GuardrailApp, make_app

PLANS = Path(__file__).resolve().parent / "plans"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
AUTHOR = "alice@example.com"


@dataclass
class Harness:
    """What a test drives: the app's session pieces, and a way to build the app."""

    store_url: str
    settings: Settings
    actors: list[str] = field(default_factory=lambda: [AUTHOR])

    def open_store(self, _explicit: str | None = None, _settings: Settings | None = None) -> StoreWithRuns:
        return open_store(self.store_url, clock=lambda: NOW)

    def session(self) -> OperatorSession:
        return OperatorSession(
            self.settings, clock=lambda: NOW, actor=lambda: self.actors[-1], open_store=self.open_store
        )

    def app(self, *plans: str) -> GuardrailApp:
        return make_app(self.session(), [Path(p) for p in plans])


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    # Plans are given relative to their folder, as an operator would type them: the screens show the path.
    monkeypatch.chdir(PLANS)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    initialise_store(url)  # as `guardrail store init` does: opening a store never creates it
    return Harness(url, load_settings(PLANS / "guardrail.yaml", required=True))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests on a fresh event loop (Textual's pilot is async; no plugin needed for that)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True
