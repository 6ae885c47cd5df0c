"""The Rollouts screen: runs and their clusters (step, coverage, gates, utilisation), pause, resume and
abort each through its confirmation, and the guarded and naive rehearsals side by side."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from guardrail.core.runs import RunRequest, RunStatus
from guardrail.tui.screens.rollouts import RolloutsScreen
from guardrail.tui.widgets.modals import ConfirmModal
from guardrail.tui.widgets.rollout_cards import ClusterCard, RehearsalPanel
from tests.tui.conftest import Harness
from tests.tui.helpers import press_each, settle, shown
from tests.tui.rollout_runs import SIMULATED, killed_real_run, simulated_run

DECEMBER = Path(__file__).resolve().parents[2] / "examples" / "rollout" / "december.yaml"


def _status(harness: Harness, run_id: str) -> tuple[RunStatus, RunRequest | None]:
    store = harness.open_store()
    try:
        record = store.run(run_id) or pytest.fail(f"no run {run_id}")
        return record.status, record.requested
    finally:
        store.close()


async def _driven(screen: RolloutsScreen) -> None:
    """Wait, off the event loop, for the run this screen drives to end or pause."""
    assert screen.driving is not None
    await asyncio.to_thread(screen.driving.join, 300)
    assert not screen.driving.is_alive()


async def test_a_run_shows_each_clusters_step_coverage_gates_and_utilisation(harness: Harness) -> None:
    simulated_run(harness)
    app = harness.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await press_each(pilot, "5")
        assert isinstance(app.screen, RolloutsScreen)
        summary = shown(app, "#rollout-summary")
        assert summary.startswith(f"{SIMULATED}  RUNNING  new daemonset.apps/telemetry/agent  (dev-1 ")
        cards = list(app.screen.query(ClusterCard))
        assert [c.cluster.name for c in cards] == ["dev-1", "prod-1"]
        dev = cards[0].cluster
        assert (dev.state, dev.deployed, dev.nodes) == ("rolling", 10, 20)
        assert len(dev.gates) >= 10
        assert len(dev.utilisation) == 15  # one a minute, read from the measurement events
        assert "dev-1  rolling  50%  10/20 nodes (50%)  gates" in str(cards[0].query_one(".cluster-line").render())
        projection = shown(app, "#rollout-projection")
        assert projection.startswith("projection (widen): cost per pod")
        assert "  at 100%     prod-1: 0.3" in projection


async def test_pause_is_confirmed_then_requested_and_cancel_changes_nothing(harness: Harness) -> None:
    simulated_run(harness)
    app = harness.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await press_each(pilot, "5", "x")
        assert isinstance(app.screen, ConfirmModal)
        assert "roll back every cluster it changed" in shown(app, "#modal-text")
        await press_each(pilot, "escape")
        assert _status(harness, SIMULATED) == (RunStatus.RUNNING, None)
        await press_each(pilot, "p")
        assert isinstance(app.screen, ConfirmModal)
        assert "nothing is rolled back" in shown(app, "#modal-text")
        await press_each(pilot, "tab", "enter")  # the focus starts on Cancel
        assert _status(harness, SIMULATED) == (RunStatus.RUNNING, RunRequest.PAUSE)
        await settle(pilot)
        assert "pause requested: the driving process acts on it" in shown(app, "#rollout-summary")


async def test_resume_of_a_run_that_keeps_no_fleet_says_why(harness: Harness) -> None:
    simulated_run(harness)
    app = harness.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await press_each(pilot, "5", "r", "tab", "enter")
        screen = app.screen
        assert isinstance(screen, RolloutsScreen)
        await _driven(screen)
        await settle(pilot)
        assert "the run keeps no fleet a process can reconnect to" in shown(app, "#rollouts-message")
        assert _status(harness, SIMULATED)[0] is RunStatus.RUNNING


async def test_resume_drives_a_killed_run_to_its_end_from_here(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with killed_real_run(harness, tmp_path, monkeypatch) as run_id:
        assert _status(harness, run_id)[0] is RunStatus.RUNNING
        app = harness.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await press_each(pilot, "5", "r")
            assert "this terminal drives it from its last completed step" in shown(app, "#modal-text")
            await press_each(pilot, "tab", "enter")
            screen = app.screen
            assert isinstance(screen, RolloutsScreen)
            await _driven(screen)
            await settle(pilot)
            assert _status(harness, run_id) == (RunStatus.COMPLETED, None)
            assert shown(app, "#rollout-summary").startswith(f"{run_id}  COMPLETED")
            assert [c.cluster.state for c in app.screen.query(ClusterCard)] == ["done", "done"]


async def test_abort_rolls_back_a_run_nobody_drives(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with killed_real_run(harness, tmp_path, monkeypatch) as run_id:
        app = harness.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await press_each(pilot, "5", "x", "tab", "enter")
            screen = app.screen
            assert isinstance(screen, RolloutsScreen)
            await _driven(screen)
            await settle(pilot)
            assert _status(harness, run_id) == (RunStatus.ABORTED, None)
            summary = shown(app, "#rollout-summary")
            assert "reason: aborted by request" in summary
            assert "rollback verified" in summary
            await press_each(pilot, "p")
            assert not isinstance(app.screen, ConfirmModal)  # an ended run is not paused
            assert "has ended (aborted)" in shown(app, "#rollouts-message")


async def test_the_december_fleet_rehearsed_both_ways_side_by_side(harness: Harness) -> None:
    app = harness.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_each(pilot, "5", "h")
        focused = app.focused
        assert focused is not None
        focused.value = str(DECEMBER)  # type: ignore[attr-defined]
        await press_each(pilot, "enter")
        await settle(pilot)
        panels = list(app.screen.query(RehearsalPanel))
        assert [(p.report.strategy.value, p.report.outcome) for p in panels] == [
            ("guarded", "halted"),
            ("naive", "completed"),
        ]
        naive = {c.name: c.state.value for c in panels[1].report.clusters}
        assert naive["prod-eu-1"] == "down"
        assert "prod-eu-1  down  peak 2.46" in str(panels[1].query(".rehearsal-cluster").last().render())
        assert len(panels[0].report.clusters[2].timeline) == 361  # a sample a simulated minute, for 6 hours


async def test_a_fleet_given_to_the_app_is_rehearsed_when_the_screen_opens(harness: Harness) -> None:
    app = harness.app()
    app.session.fleet_file = DECEMBER
    async with app.run_test(size=(160, 48)) as pilot:
        await press_each(pilot, "5")
        await settle(pilot)
        assert len(app.screen.query(RehearsalPanel)) == 2
