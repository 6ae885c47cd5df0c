"""The Nodes screen: cycles from the store and rehearsals, the selected one in full, and pause, resume and
abort, each confirmed in a modal first; a cancelled confirmation changes nothing."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from guardrail.core.runs import RunRequest, RunStatus, StoreWithRuns
from guardrail.services.session import OperatorSession
from guardrail.tui.app import make_app
from guardrail.tui.screens.nodes import NodesScreen
from guardrail.tui.widgets.modals import ActionModal, ConfirmModal
from tests.tui.conftest import Harness
from tests.tui.helpers import press_each, settle, shown, type_text
from tests.tui.node_cycles import HALTED, RUNNING, pool_file, seed_cycles

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _seed(harness: Harness, folder: Path) -> None:
    store = harness.open_store()
    try:
        seed_cycles(store, folder)
    finally:
        store.close()


def _run(harness: Harness, run_id: str) -> tuple[RunStatus, RunRequest | None]:
    store: StoreWithRuns = harness.open_store()
    try:
        record = store.run(run_id)
    finally:
        store.close()
    assert record is not None
    return record.status, record.requested


def _rows(app: object) -> list[str]:
    from guardrail.tui.app import GuardrailApp

    assert isinstance(app, GuardrailApp)
    table = app.screen.query_one("#cycles-table", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_the_cycles_are_listed_and_the_selected_one_shown_in_full(harness: Harness, tmp_path: Path) -> None:
    _seed(harness, tmp_path)
    app = harness.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await press_each(pilot, "6")
        assert isinstance(app.screen, NodesScreen)
        assert _rows(app) == [RUNNING, HALTED]  # newest first
        detail = shown(app, "#cycle-text")
        assert f"Run {RUNNING} of node-pool/simulated/gpu-east/gpu-east" in detail
        assert "Status: RUNNING" in detail
        assert "1 in hand" in detail
        await press_each(pilot, "down")
        detail = shown(app, "#cycle-text")
        assert "Status: HALTED" in detail
        assert "failed in phase register after 15m0s, boot budget 15m0s" in detail
        assert "Standard_ND96asr_v4 eastus-1   completed" in detail
        assert "███" in detail  # per-stratum progress
        boot = next(line for line in detail.splitlines() if line.strip().startswith("boot"))
        assert boot.split()[-2:] == ["83%", "!"]  # the eastus boots (12m30s of 15m) are past the warning line


async def test_pause_then_resume_are_asked_of_the_running_cycle_after_confirmation(
    harness: Harness, tmp_path: Path
) -> None:
    _seed(harness, tmp_path)
    app = harness.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await press_each(pilot, "6", "p")
        assert isinstance(app.screen, ConfirmModal)
        assert f"Pause node cycle {RUNNING} of node-pool/simulated/gpu-east/gpu-east" in shown(app, "#modal-text")
        await pilot.press("escape")  # cancelled: nothing asked
        await settle(pilot)
        assert _run(harness, RUNNING) == (RunStatus.RUNNING, None)

        await press_each(pilot, "p")
        await pilot.click("#confirm")
        await settle(pilot)
        assert _run(harness, RUNNING) == (RunStatus.RUNNING, RunRequest.PAUSE)
        assert "(pause asked, not acted on yet)" in shown(app, "#cycle-text")

        await press_each(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        assert f"guardrail nodes resume {RUNNING}" in shown(app, "#modal-text")
        await pilot.click("#confirm")
        await settle(pilot)
        assert _run(harness, RUNNING) == (RunStatus.RUNNING, RunRequest.RESUME)


async def test_resume_of_a_cycle_that_is_not_paused_is_refused_on_screen(harness: Harness, tmp_path: Path) -> None:
    _seed(harness, tmp_path)
    app = harness.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await press_each(pilot, "6", "r")
        await pilot.click("#confirm")
        await settle(pilot)
        assert f"run {RUNNING} is running, not paused: nothing to resume" in shown(app, "#nodes-message")
        assert _run(harness, RUNNING) == (RunStatus.RUNNING, None)


async def test_aborting_the_halted_cycle_frees_the_pool_at_once(harness: Harness, tmp_path: Path) -> None:
    _seed(harness, tmp_path)
    app = harness.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await press_each(pilot, "6", "down", "x")
        assert isinstance(app.screen, ConfirmModal)
        assert f"ABORT node cycle {HALTED}" in shown(app, "#modal-text")
        await pilot.press("enter")  # the focus is on Cancel: a stray Enter aborts nothing
        await settle(pilot)
        assert _run(harness, HALTED) == (RunStatus.HALTED, None)
        await press_each(pilot, "x")
        await pilot.click("#confirm")
        await settle(pilot)
        assert _run(harness, HALTED) == (RunStatus.ABORTED, None)
        assert "Status: ABORTED" in shown(app, "#cycle-text")
        await press_each(pilot, "x")  # an ended cycle asks nothing
        assert isinstance(app.screen, NodesScreen)


async def test_a_rehearsal_of_the_outage_pool_is_shown_beside_the_store_s_cycles(
    harness: Harness, tmp_path: Path
) -> None:
    session = OperatorSession(
        harness.settings,
        actor=lambda: harness.actors[-1],
        open_store=harness.open_store,
        pool_files=(EXAMPLES / "nodes" / "outage.yaml",),
    )
    app = make_app(session)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await press_each(pilot, "6")
        await settle(pilot)
        assert _rows(app) == ["rehearsal"]
        detail = shown(app, "#cycle-text")
        assert "Rehearsal of " in detail
        assert "outage.yaml" in detail
        assert "Status: HALTED" in detail
        assert "stratum Standard_ND96asr_v4 westus2-1: node" in detail
        assert "never-passed" in detail  # the rehearsal's pre-flight
        await press_each(pilot, "p")
        assert isinstance(app.screen, NodesScreen)  # a rehearsal has ended: nothing to pause

        await press_each(pilot, "h")
        assert isinstance(app.screen, ActionModal)
        healthy = pool_file(tmp_path, "small", "3m")
        app.screen.query_one("#path", Input).value = ""
        await type_text(pilot, str(healthy))
        await pilot.press("enter")
        await settle(pilot)
        assert _rows(app) == ["rehearsal", "rehearsal"]
        assert "Status: COMPLETED" in shown(app, "#cycle-text")


async def test_the_palette_shows_the_nodes_screen_and_asks_which_pool_to_rehearse(harness: Harness) -> None:
    app = harness.app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Show Nodes" in titles
        assert "Rehearse a node pool…" in titles
        app.rehearse_pool()
        await settle(pilot)
        assert isinstance(app.screen, ActionModal)
        assert app.screen.query_one("#path", Input).value == "examples/nodes/outage.yaml"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, NodesScreen)
