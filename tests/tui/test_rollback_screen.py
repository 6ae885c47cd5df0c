"""The audit screen opens an apply's rollback: planned in a worker, shown in full, applied only after the
operator confirms in the modal (real git and terraform)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable

from guardrail.cli.main import run
from guardrail.config import Settings
from guardrail.services.session import OperatorSession
from guardrail.tui.app import make_app
from guardrail.tui.widgets.rollback_modal import RollbackModal
from tests.cli.gitrepo import commit_files, new_repo
from tests.cli.real import state_inputs
from tests.tui.conftest import NOW, Harness
from tests.tui.helpers import press_each, settle, shown

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


def guardrail(*argv: str | Path) -> None:
    with pytest.raises(SystemExit) as exited:
        run([str(a) for a in argv])
    assert exited.value.code == 0


def two_applies(repo: Path) -> None:
    commit_files(repo, {"main.tf": 'resource "terraform_data" "app" { input = "v1" }\n'}, "v1")
    guardrail("plan", repo, "--out", repo / "plan.tfplan")
    guardrail("apply", repo / "plan.tfplan")
    commit_files(repo, {"main.tf": 'resource "terraform_data" "app" { input = "v2" }\n'}, "v2")
    guardrail("plan", repo, "--out", repo / "plan.tfplan")
    guardrail("apply", repo / "plan.tfplan")


async def test_rollback_of_the_apply_under_the_cursor_needs_the_confirmation(
    harness: Harness, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAIL_STORE", harness.store_url)
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    repo = new_repo(tmp_path / "repo")
    two_applies(repo)
    assert state_inputs(terraform_bin, repo) == {"app": "v2"}
    session = OperatorSession(
        Settings(), store_url=harness.store_url, terraform_bin=terraform_bin, clock=lambda: NOW, actor=lambda: "bob"
    )
    app = make_app(session, [])
    async with app.run_test(size=(120, 40)) as pilot:
        await press_each(pilot, "4")
        select_newest(app.screen.query_one(DataTable), "apply-end")  # the forward apply
        await press_each(pilot, "r")
        assert isinstance(app.screen, RollbackModal), shown(app, "#audit-message")
        text = shown(app, "#modal-text")
        assert "undone (1): terraform_data.app" in text
        assert "ALLOW" in text
        await press_each(pilot, "escape")  # closing is not applying
        assert state_inputs(terraform_bin, repo) == {"app": "v2"}

        select_newest(app.screen.query_one(DataTable), "apply-end")  # the list grew: the rollback was planned
        await press_each(pilot, "r")
        assert isinstance(app.screen, RollbackModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "rollback verified" in shown(app, "#audit-message")
    assert state_inputs(terraform_bin, repo) == {"app": "v1"}
    exported = [json.loads(line) for line in _export(harness.store_url)]
    assert [e["actor"] for e in exported if e["kind"] == "rollback-verify"] == ["bob"]


def select_newest(table: DataTable[object], kind: str) -> None:
    kinds = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
    table.move_cursor(row=kinds.index(kind))


def _export(store_url: str) -> list[str]:
    from guardrail.adapters.store import open_store
    from guardrail.services.audit import export_jsonl

    store = open_store(store_url)
    try:
        return list(export_jsonl(store))
    finally:
        store.close()
