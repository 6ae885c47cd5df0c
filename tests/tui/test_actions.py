"""Approve, break glass, lock and release, verify the audit chain: each through its confirmation modal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from guardrail.adapters.store import open_store
from guardrail.tui.widgets.modals import ActionModal
from tests.tui.conftest import AUTHOR, Harness
from tests.tui.helpers import press_each, settle, shown, type_text


async def test_the_author_is_refused_and_a_second_person_approves(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert f"Author       {AUTHOR}" in shown(app, "#approvals-status")
        await pilot.press("a")
        assert isinstance(app.screen, ActionModal)
        assert "Approve plan sha256:" in shown(app, "#modal-text")
        await pilot.press("enter")  # the comment is optional
        await settle(pilot)
        assert "is the author of this plan and cannot approve it" in shown(app, "#approvals-error")

        harness.actors.append("bob@example.com")
        await pilot.press("a")
        await type_text(pilot, "looks right")
        await pilot.click("#confirm")
        await settle(pilot)
        status = shown(app, "#approvals-status")
        assert "Verdict      ALLOW (the rules alone say NEEDS APPROVAL)" in status
        assert "Approvals: 1 of 1 required" in status
        assert "bob@example.com" in status
        assert "looks right" in status
        await pilot.press("1")
        assert "ALLOW" in shown(app, "#verdict")


async def test_cancelling_a_confirmation_changes_nothing(harness: Harness) -> None:
    app = harness.app("plan.json")
    harness.actors.append("bob@example.com")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press_each(pilot, "3", "a", "escape")
        await settle(pilot)
        assert "Approvals: 0 of 1 required" in shown(app, "#approvals-status")


async def test_break_glass_needs_a_reason_and_is_ready_for_the_apply(harness: Harness) -> None:
    harness.actors.append("carol@example.com")  # allowed to break glass by the fixture's guardrail.yaml
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press_each(pilot, "3", "b")
        assert "BREAK GLASS for plan sha256:" in shown(app, "#modal-text")
        await pilot.click("#confirm")
        assert isinstance(app.screen, ActionModal)  # still open: no reason given
        assert "required" in shown(app, "#modal-error")
        await pilot.pause()  # the reason box has the focus now
        await type_text(pilot, "incident 42: restore service")
        await pilot.press("enter")
        await settle(pilot)
        status = shown(app, "#approvals-status")
        assert "Verdict      ALLOW" not in status  # a check never spends the pass: `guardrail apply` does
        assert "by carol@example.com" in status
        assert "usable" in status
        assert "by carol@example.com (incident 42: restore service) is ready: guardrail apply" in status


async def test_a_lock_is_added_and_released_after_confirmation(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press_each(pilot, "2", "a")
        await type_text(pilot, "module.prod_network.*")
        await pilot.press("tab")
        await type_text(pilot, "network freeze")
        await pilot.press("tab")
        await type_text(pilot, "2h")
        await pilot.press("enter")
        words = shown(app, "#modal-text")
        assert words == (
            "Lock every change to resources matching address module.prod_network.* for 2h, reason: network freeze"
        )
        await pilot.press("enter")  # the confirmation's button has the focus
        await settle(pilot)
        store = open_store(harness.store_url)
        try:
            (lock,) = store.locks()
        finally:
            store.close()
        assert (lock.pattern, lock.reason, lock.owner) == ("module.prod_network.*", "network freeze", AUTHOR)
        assert "DENY" in str(app.review.report.verdict.decision).upper()  # type: ignore[union-attr]

        await pilot.press("x")
        assert f"Release lock {lock.id}" in shown(app, "#modal-text")
        await pilot.press("enter")
        assert "required" in shown(app, "#modal-error")
        await type_text(pilot, "change window open")
        await pilot.press("enter")
        await settle(pilot)
        store = open_store(harness.store_url)
        try:
            (released,) = store.locks()
        finally:
            store.close()
        assert released.release_reason == "change window open"
        assert "No locks" in shown(app, "#locks-message")


async def test_audit_verify_shows_intact_then_broken_after_tampering(harness: Harness, tmp_path: Path) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert shown(app, "#audit-banner").startswith("INTACT: 1 events, head ")
        assert app.screen.query_one("#audit-banner").has_class("intact")

        with sqlite3.connect(tmp_path / "store.db") as db:
            db.execute("UPDATE audit_events SET actor = 'mallory@example.com' WHERE seq = 1")
        await pilot.press("v")
        await settle(pilot)
        assert shown(app, "#audit-banner").startswith("BROKEN at event 1: content does not match its hash")
        assert app.screen.query_one("#audit-banner").has_class("broken")


async def test_audit_filter_and_the_full_event(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "kind:approval")
        await pilot.press("enter")
        await settle(pilot)
        assert "No event matches the filter." in shown(app, "#audit-message")
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "kind:check")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # the first row: the check the app recorded on opening the plan
        await settle(pilot)
        event = shown(app, "#modal-text")
        assert f"actor     {AUTHOR}" in event
        assert '"decision": "needs-approval"' in event
