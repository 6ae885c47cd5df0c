"""An apply and a rollback find what they need in the audit log (the plan's last check, the workspace's last
applies) through the log's indexes, never by reading the whole log: real git, real terraform, a real store
whose `events()` (the whole log) is refused while they run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import guardrail.services.wiring
from guardrail.core.audit import AuditEvent
from guardrail.core.store_ports import Store
from tests.cli.conftest import Result
from tests.cli.gitrepo import commit_files, git, new_repo
from tests.cli.test_rollback_real import AFTER, BEFORE, EXPECTED_BEFORE, plan_and_apply, state_inputs_of

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
Cli = Callable[..., Result]


class WholeLogRefused:
    """The Store port of the real store, except that reading the whole log is a test failure."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def events(self, after_seq: int = 0) -> Iterator[AuditEvent]:
        raise AssertionError(f"the whole audit log was read (events after {after_seq})")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@contextmanager
def whole_log_refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While the block runs, every store the wiring opens refuses to read its whole log."""
    real = guardrail.services.wiring.open_store

    def refusing(url: str, **options: Any) -> WholeLogRefused:
        return WholeLogRefused(real(url, **options))

    with monkeypatch.context() as patched:
        patched.setattr(guardrail.services.wiring, "open_store", refusing)
        yield


def test_an_apply_judges_the_plan_by_its_own_check_read_through_the_plans_index(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, examples: Path
) -> None:
    repo = new_repo(tmp_path / "repo")
    first = commit_files(repo, {"main.tf": BEFORE}, "start")
    assert plan_and_apply(cli, repo).code == 0
    (repo / "main.tf").write_text(AFTER)  # not committed: the plan below is made from a dirty tree
    plan = repo / "plan.tfplan"
    planned = cli("plan", repo, "--out", plan, "-f", "json")
    assert "made from a dirty tree" in " ".join(json.loads(planned.stdout)["notes"])
    for _ in range(3):  # later checks of other plans, clean or not, are not this plan's
        assert cli("check", examples / "allowed" / "plan.json").code == 0
    second = commit_files(repo, {}, "the change, committed after the plan was made")
    assert git(repo, "status", "--porcelain") == ""  # the tree is clean now

    with whole_log_refused(monkeypatch):
        refused = cli("apply", plan)
        assert refused.code == 1, refused.stdout + refused.stderr
        assert "was made from a dirty tree" in refused.stderr  # the tree then, not the tree now
        assert state_inputs_of(repo) == EXPECTED_BEFORE
        allowed = cli("apply", plan, "--allow-dirty")
        assert allowed.code == 0, allowed.stdout + allowed.stderr

    end = [json.loads(line) for line in cli("audit", "export").stdout.splitlines() if '"apply-end"' in line][-1]
    assert end["payload"]["provenance"]["dirty_files"] == ["main.tf"]
    assert end["payload"]["provenance"]["commit"] == first  # made from the first commit, with main.tf changed
    now = end["payload"]["provenance_at_apply"]
    assert (now["commit"], now["dirty"], now["last_applied_commit"]) == (second, False, first)


def test_a_rollback_finds_the_applies_and_the_check_it_undoes_through_the_indexes(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repo(tmp_path / "repo")
    first = commit_files(repo, {"main.tf": BEFORE}, "start")
    assert plan_and_apply(cli, repo).code == 0
    second = commit_files(repo, {"main.tf": AFTER}, "forward")
    assert plan_and_apply(cli, repo).code == 0

    with whole_log_refused(monkeypatch):
        planned = cli("rollback", "plan", repo, "-f", "json")
        assert planned.code == 0, planned.stdout + planned.stderr
        undone = cli("rollback", "apply", repo)
        assert undone.code == 0, undone.stdout + undone.stderr
    rollback = json.loads(planned.stdout)["rollback"]
    assert (rollback["to"]["commit"], rollback["undoes"]["commit"]) == (first, second)
    assert rollback["undone"] == sorted(
        ["terraform_data.create", "terraform_data.delete", "terraform_data.replace", "terraform_data.update"]
    )
    assert state_inputs_of(repo) == EXPECTED_BEFORE
