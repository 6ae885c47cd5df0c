"""The Review screen: verdict, grouping, filter, detail; inert hostile names; missing plan or terraform."""

from __future__ import annotations

from guardrail.tui.widgets.change_list import ChangeList
from tests.tui.conftest import Harness
from tests.tui.helpers import clear_input, settle, shown, type_text

HOSTILE = 'aws_s3_bucket.logs["[bold red]boom[/]\\x1b[2J"]'


def _addresses(change_list: ChangeList) -> list[str]:
    return [line.change.address for line in change_list._lines if hasattr(line, "change")]


async def test_opens_with_the_verdict_and_destructive_changes_first(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        verdict = shown(app, "#verdict")
        assert "NEEDS APPROVAL" in verdict
        # The bucket delete and the minor upgrade are irreversible: the reversibility rule adds one each.
        assert "8 findings: 0 hard, 8 soft, 0 advisory" in verdict
        assert "1 delete, 1 replace, 2 update, 1 no-op" in verdict
        assert "rollback: 2 irreversible, 1 lossy, 1 reversible" in verdict
        changes = app.screen.query_one(ChangeList)
        assert _addresses(changes)[:2] == ['aws_s3_bucket.logs["[bold red]boom[/]\x1b[2J"]', "aws_db_instance.orders"]


async def test_filter_narrows_the_list_and_bad_filters_say_why(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "a", "c")  # the keys reach the filter box
        await type_text(pilot, "tion:update")
        changes = app.screen.query_one(ChangeList)
        assert _addresses(changes) == ["azurerm_kubernetes_cluster.staging", "module.prod_network.aws_vpc.main"]
        await clear_input(pilot)
        await type_text(pilot, "finding:soft orders")
        assert _addresses(changes) == ["aws_db_instance.orders"]
        await clear_input(pilot)
        await type_text(pilot, "colour:red")
        assert "unknown filter colour:" in shown(app, "#review-message")


async def test_selecting_a_change_shows_its_diff_reason_findings_and_blast_radius(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # from the deletion to the replace
        head = shown(app, "#detail-head")
        assert "aws_db_instance.orders" in head
        assert "because an attribute that cannot be updated in place changed" in head
        assert "forced by: storage_encrypted" in head
        diff = shown(app, "#detail-diff")
        assert "storage_encrypted: false → true  # forces replacement" in diff
        assert "password: (sensitive) → (sensitive)" in diff
        assert "id = (known after apply)" in diff
        assert "stateful-data" in shown(app, "#detail-findings")
        assert "rollback: lossy · replaced database: it comes back empty" in head
        tree = app.screen.query_one("#detail-blast")
        assert tree.display
        assert "CRITICAL aws_instance.app" in str(tree.root.children[0].label)  # type: ignore[attr-defined]


async def test_hostile_names_and_values_are_shown_inert(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        changes = app.screen.query_one(ChangeList)
        assert HOSTILE in str(changes._text(changes._lines[1]))  # markup as typed, ESC as \x1b
        head = shown(app, "#detail-head")
        assert HOSTILE in head
        assert "\x1b" not in head
        diff = shown(app, "#detail-diff")
        assert 'bucket = "logs-\\u001b]0;pwned\\u0007"' in diff  # JSON's own escapes
        assert "[link=http://x]click[/link]" in diff


async def test_without_a_plan_the_review_says_so_and_the_locks_screen_works(harness: Harness) -> None:
    app = harness.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "No plan loaded" in shown(app, "#verdict")
        await pilot.press("2")
        await settle(pilot)
        assert "No locks" in shown(app, "#locks-message")


async def test_a_directory_without_terraform_is_reported_and_the_app_keeps_working(
    harness: Harness, tmp_path: object, monkeypatch: object
) -> None:
    monkeypatch.setenv("GUARDRAIL_TERRAFORM", "/nonexistent/terraform")  # type: ignore[attr-defined]
    folder = tmp_path / "stack"  # type: ignore[operator]
    folder.mkdir()
    (folder / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    app = harness.app(str(folder))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        message = shown(app, "#review-message")
        assert "Cannot check" in message
        assert "terraform" in message
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.id == "audit"


async def test_an_unreachable_store_is_shown_and_the_plan_is_still_reviewed(harness: Harness) -> None:
    harness.store_url = "sqlite:////dev/null/cannot/store.db"
    app = harness.app("plan.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "NEEDS APPROVAL" in shown(app, "#verdict")
        assert "Store unavailable" in shown(app, "#review-message")
        await pilot.press("2")
        await settle(pilot)
        assert "store" in shown(app, "#locks-message").lower()


async def test_the_detail_says_how_reversible_each_change_is(harness: Harness) -> None:
    app = harness.app("plan.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        head = shown(app, "#detail-head")  # the bucket delete, first in the list
        assert "rollback: irreversible · deleted: bucket names are global" in head
        await pilot.press("down", "down")
        assert "rollback: irreversible · control plane upgrade" in shown(app, "#detail-head")
