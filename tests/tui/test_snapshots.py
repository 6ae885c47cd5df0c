"""Snapshots of the first four screens at 80x24, the Review screen larger and in a light theme, and the
Nodes screen with a halted cycle selected.

Deterministic: the fixture plan, a fixed clock and actor, locks and approvals written with fixed ids.
Update with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.locks import Lock, LockTarget
from tests.tui.conftest import NOW, Harness
from tests.tui.helpers import press_each, settle
from tests.tui.node_cycles import seed_cycles

Snap = Callable[..., bool]


def _seed_locks(harness: Harness) -> None:
    store = harness.open_store()
    try:
        for lock in (
            Lock(
                "lk-0001",
                LockTarget.ADDRESS,
                "module.prod_network.*",
                "bob@example.com",
                "network freeze",
                NOW,
                NOW + timedelta(hours=2),
            ),
            Lock("lk-0002", LockTarget.TAG, "env=prod", "carol@example.com", "quarter-end close", NOW),
        ):
            store.add_lock(lock, EventDraft(lock.owner, EventKind.LOCK, {"lock_id": lock.id}))
    finally:
        store.close()


def _keys(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run


def test_review_80x24(snap_compare: Snap, harness: Harness) -> None:
    assert snap_compare(harness.app("plan.json"), terminal_size=(80, 24), run_before=_keys("down"))


def test_review_large_light_theme(snap_compare: Snap, harness: Harness) -> None:
    app = harness.app("plan.json")
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=(140, 45), run_before=_keys("down"))


def test_locks_80x24(snap_compare: Snap, harness: Harness) -> None:
    _seed_locks(harness)
    assert snap_compare(harness.app("plan.json"), terminal_size=(80, 24), run_before=_keys("2"))


def test_approvals_80x24(snap_compare: Snap, harness: Harness) -> None:
    app = harness.app("plan.json")

    async def approve_as_bob(pilot: Pilot[Any]) -> None:
        await settle(pilot)  # alice, the actor at start, checked the plan first: she is its author
        harness.actors.append("bob@example.com")
        await press_each(pilot, "3", "a", "enter")
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=approve_as_bob)


def test_audit_80x24(snap_compare: Snap, harness: Harness) -> None:
    _seed_locks(harness)
    assert snap_compare(harness.app("plan.json"), terminal_size=(80, 24), run_before=_keys("4"))


def test_rollouts_100x30(snap_compare: Snap, harness: Harness) -> None:
    from tests.tui.rollout_runs import simulated_run

    simulated_run(harness)
    assert snap_compare(harness.app(), terminal_size=(100, 30), run_before=_keys("5"))


def test_rehearsals_side_by_side_140x45(snap_compare: Snap, harness: Harness) -> None:
    from tests.tui.test_rollouts import DECEMBER

    app = harness.app()
    app.session.fleet_file = DECEMBER
    assert snap_compare(app, terminal_size=(140, 45), run_before=_keys("5"))


def test_nodes_halted_cycle_120x36(snap_compare: Snap, harness: Harness, tmp_path: Path) -> None:
    store = harness.open_store()
    try:
        seed_cycles(store, tmp_path)
    finally:
        store.close()
    assert snap_compare(harness.app(), terminal_size=(120, 36), run_before=_keys("6", "down"))
