"""Forward apply of a commit that creates, updates, replaces and deletes; rollback to the previous commit,
restored and verified; with real git and real terraform (offline: terraform_data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result
from tests.cli.gitrepo import commit_files, git, new_repo
from tests.cli.real import raw_store_dump, state_inputs

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
Cli = Callable[..., Result]

SECRET = "tok-rollback-5ecret-77aa"
VARIABLES = f"""
variable "token" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}
resource "terraform_data" "secret" {{ input = var.token }}
"""
BEFORE = (
    VARIABLES
    + """
resource "terraform_data" "keep" { input = "same" }
resource "terraform_data" "update" { input = "v1" }
resource "terraform_data" "replace" {
  input            = "r"
  triggers_replace = "t1"
}
resource "terraform_data" "delete" { input = "deleted-by-the-forward-apply" }
"""
)
AFTER = (
    VARIABLES
    + """
resource "terraform_data" "keep" { input = "same" }
resource "terraform_data" "update" { input = "v2" }
resource "terraform_data" "replace" {
  input            = "r"
  triggers_replace = "t2"
}
resource "terraform_data" "create" { input = "created-by-the-forward-apply" }
"""
)
EXPECTED_BEFORE = {
    "secret": SECRET,
    "keep": "same",
    "update": "v1",
    "replace": "r",
    "delete": "deleted-by-the-forward-apply",
}


def plan_and_apply(cli: Cli, infra: Path, *extra: str) -> Result:
    plan = infra / "plan.tfplan"
    planned = cli("plan", infra, "--out", plan)
    assert planned.code == 0, planned.stdout + planned.stderr
    return cli("apply", plan, *extra)


def replaced_id(terraform_bin: str, infra: Path) -> str:
    from tests.cli.real import terraform

    state = json.loads(terraform(terraform_bin, infra, "state", "pull").stdout)
    return str(next(r["instances"][0]["attributes"]["id"] for r in state["resources"] if r["name"] == "replace"))


def test_forward_apply_then_rollback_to_the_previous_commit_is_verified(
    cli: Cli, terraform_bin: str, tmp_path: Path, isolated_store: str
) -> None:
    repo = new_repo(tmp_path / "repo", remote="https://ci-user:s3cr3t-t0ken@git.example.com/infra.git")
    first = commit_files(repo, {"stacks/app/main.tf": BEFORE}, "the app as it was")
    infra = repo / "stacks" / "app"
    outputs: list[Result] = []

    applied = plan_and_apply(cli, infra)
    outputs.append(applied)
    assert applied.code == 0, applied.stderr
    assert state_inputs(terraform_bin, infra) == EXPECTED_BEFORE
    replaced_before = replaced_id(terraform_bin, infra)

    second = commit_files(repo, {"stacks/app/main.tf": AFTER}, "update, replace, delete and create")
    actions = apply_forward(cli, terraform_bin, infra, outputs)

    state_file = infra / "terraform.tfstate"
    untouched = (state_file.read_bytes(), state_file.stat().st_mtime_ns)
    planned = cli("rollback", "plan", infra, "-f", "json")
    outputs.append(planned)
    assert planned.code == 0, planned.stdout + planned.stderr
    rollback = json.loads(planned.stdout)["rollback"]
    assert rollback["to"]["commit"] == first
    assert rollback["undoes"]["commit"] == second
    assert rollback["undone"] == sorted(actions)
    assert rollback["cannot_undo"] == []
    # The rollback plan read the original state and wrote nothing to it.
    assert (state_file.read_bytes(), state_file.stat().st_mtime_ns) == untouched
    assert not list(infra.glob("*.tfplan.*"))
    assert not (infra / "zz_guardrail_rollback_override.tf").exists()

    undone = cli("rollback", "apply", infra)
    outputs.append(undone)
    assert undone.code == 0, undone.stdout + undone.stderr
    assert "rollback verified" in undone.stdout
    assert f"plan: {infra} at {first[:12]} (" in undone.stdout  # the commit it puts back, not a temporary file
    assert state_inputs(terraform_bin, infra) == EXPECTED_BEFORE
    assert replaced_id(terraform_bin, infra) != replaced_before  # replaced again, as the old trigger wants
    assert git(repo, "worktree", "list").count("\n") == 0  # the temporary worktree is gone

    assert_linked([json.loads(line) for line in cli("audit", "export").stdout.splitlines()], repo, first, second)
    assert cli("audit", "verify").code == 0
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr
        assert "s3cr3t-t0ken" not in result.stdout + result.stderr
    dump = raw_store_dump(isolated_store, tmp_path)
    assert SECRET not in dump
    assert "s3cr3t-t0ken" not in dump


def apply_forward(cli: Cli, terraform_bin: str, infra: Path, outputs: list[Result]) -> dict[str, str]:
    """Plan and apply the second commit: an update, a replace, a delete and a create, all reversible."""
    forward = cli("plan", infra, "--out", infra / "plan.tfplan", "-f", "json")
    outputs.append(forward)
    report = json.loads(forward.stdout)
    actions = {c["address"]: c["action"] for c in report["changes"] if c["action"] != "no-op"}
    assert actions == {
        "terraform_data.update": "update",
        "terraform_data.replace": "replace",
        "terraform_data.delete": "delete",
        "terraform_data.create": "create",
    }
    assert {e["reversibility"] for e in report["rollback"]} == {"reversible"}
    applied = cli("apply", infra / "plan.tfplan")
    outputs.append(applied)
    assert applied.code == 0, applied.stderr
    after_forward = state_inputs(terraform_bin, infra)
    assert after_forward["create"] == "created-by-the-forward-apply"
    assert "delete" not in after_forward

    return actions


def assert_linked(events: list[dict[str, Any]], repo: Path, first: str, second: str) -> None:
    """Each apply records the commit it put in place; the rollback names the apply it undoes."""
    applies = [e for e in events if e["kind"] == "apply-end"]
    assert [e["payload"]["provenance"]["commit"] for e in applies] == [first, second, first]
    assert applies[1]["payload"]["provenance"]["remote"] == "https://git.example.com/infra.git"
    forward_seq = applies[1]["seq"]
    verify = next(e for e in events if e["kind"] == "rollback-verify")
    assert verify["payload"]["undoes"] == {
        "seq": forward_seq,
        "fingerprint": applies[1]["fingerprint"],
        "commit": second,
    }
    assert verify["payload"]["to_commit"] == first
    assert verify["payload"]["verified"] is True
    assert applies[2]["payload"]["rollback_of"]["undoes"]["seq"] == forward_seq
    checks = [e["payload"]["provenance"] for e in events if e["kind"] == "check"]
    assert checks[-1]["repository"] == str(repo.resolve())
    assert any(c.get("last_applied_commit") == first for c in checks)


def test_a_plan_made_from_a_dirty_tree_is_refused_unless_allowed(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    commit_files(repo, {"main.tf": BEFORE}, "start")
    assert plan_and_apply(cli, repo).code == 0  # terraform's and guardrail's own files do not make it dirty
    (repo / "main.tf").write_text(AFTER)  # not committed
    (repo / "notes.txt").write_text("untracked too")
    plan = repo / "plan.tfplan"
    planned = cli("plan", repo, "--out", plan)
    assert planned.code == 0
    assert "made from a dirty tree" in planned.stdout
    assert "main.tf" in planned.stdout
    assert "notes.txt" in planned.stdout

    refused = cli("apply", plan)
    assert refused.code == 1
    assert "was made from a dirty tree" in refused.stderr
    assert "--allow-dirty" in refused.stderr
    assert "create" not in state_inputs_of(repo)

    allowed = cli("apply", plan, "--allow-dirty")
    assert allowed.code == 0, allowed.stderr
    end = [json.loads(line) for line in cli("audit", "export").stdout.splitlines() if '"apply-end"' in line][-1]
    assert end["payload"]["allow_dirty"] is True
    assert end["payload"]["provenance"]["dirty"] is True
    assert end["payload"]["provenance"]["dirty_files"] == ["main.tf", "notes.txt"]


def state_inputs_of(directory: Path) -> dict[str, object]:
    from tests.cli.real import inputs

    return inputs((directory / "terraform.tfstate").read_text())


def test_outside_a_repository_provenance_says_so_and_nothing_fails(cli: Cli, tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(BEFORE)
    assert plan_and_apply(cli, infra).code == 0
    events = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    end = next(e for e in events if e["kind"] == "apply-end")
    assert end["payload"]["provenance"] == {"repository": None, "note": "not in a git repository", "problem": None}
    missing = cli("rollback", "plan", infra)
    assert missing.code == 3
    assert "not in a git repository" in missing.stderr


def test_rollback_without_an_earlier_apply_says_so(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    commit_files(repo, {"main.tf": BEFORE}, "start")
    assert plan_and_apply(cli, repo).code == 0
    refused = cli("rollback", "plan", repo)
    assert refused.code == 3
    assert "no earlier successful apply" in refused.stderr
    assert "--to REF" in refused.stderr
    bad_ref = cli("rollback", "plan", repo, "--to", "no-such-branch")
    assert bad_ref.code == 3
    assert "'no-such-branch': not a commit" in bad_ref.stderr


def test_a_rollback_whose_configuration_no_longer_plans_exits_with_the_reason(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    broken = commit_files(repo, {"main.tf": 'resource "terraform_data" "x" { input = var.missing }\n'}, "broken")
    commit_files(repo, {"main.tf": BEFORE}, "fixed")
    assert plan_and_apply(cli, repo).code == 0
    failed = cli("rollback", "apply", repo, "--to", broken)
    assert failed.code == 3
    assert "Reference to undeclared input variable" in failed.stderr
    assert state_inputs_of(repo) == EXPECTED_BEFORE


def test_a_rollback_that_does_not_converge_lists_what_still_differs(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    moving = commit_files(
        repo, {"main.tf": BEFORE + 'resource "terraform_data" "clock" { input = timestamp() }\n'}, "a moving target"
    )
    commit_files(repo, {"main.tf": BEFORE}, "steady")
    assert plan_and_apply(cli, repo).code == 0
    undone = cli("rollback", "apply", repo, "--to", moving)
    assert undone.code == 1, undone.stdout + undone.stderr
    assert "rollback NOT verified" in undone.stdout
    assert "  - terraform_data.clock" in undone.stdout


RECREATE_NEEDS_APPROVAL = """
protect:
  - addresses: ["terraform_data.delete"]
    actions: [create]
    enforcement: soft
    reason: bringing it back needs a second pair of eyes
"""


def test_a_rollback_from_elsewhere_meets_the_directorys_configuration_and_store(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARDRAIL_STORE")  # the store is the configuration's own default one
    repo = new_repo(tmp_path / "repo")
    first = commit_files(repo, {"infra/main.tf": BEFORE}, "start")
    infra = repo / "infra"
    assert plan_and_apply(cli, infra).code == 0
    commit_files(repo, {"infra/main.tf": AFTER, "infra/guardrail.yaml": RECREATE_NEEDS_APPROVAL}, "forward")
    assert plan_and_apply(cli, infra).code == 0  # the forward apply deletes it: allowed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    planned = cli("rollback", "plan", infra, "-f", "json")
    assert planned.code == 2, planned.stdout + planned.stderr  # the rollback re-creates it: needs approval
    document = json.loads(planned.stdout)
    assert document["rollback"]["to"]["commit"] == first  # found in the store of the forward applies
    assert document["report"]["config"] == str(infra / "guardrail.yaml")
    assert document["report"]["store"] == f"sqlite:///{infra / '.guardrail' / 'guardrail.db'}"
    refused = cli("rollback", "apply", infra)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert "delete" not in state_inputs_of(infra)  # nothing applied
    assert not (elsewhere / ".guardrail").exists()  # no stray store where the command happened to run


NAMED_LIKE_A_SECRET = """
variable "colour" {
  type      = string
  sensitive = true
  default   = "blue"
}
resource "terraform_data" "secret" { input = var.colour }
resource "terraform_data" "blue_app" { input = "%s" }
"""


def test_a_rollback_keeps_addresses_whole_that_hold_a_secret_word(cli: Cli, tmp_path: Path) -> None:
    """Addresses are names, never secrets: a sensitive "blue" must not turn terraform_data.blue_app into
    terraform_data.(sensitive value)_app in the rollback's report or its events."""
    repo = new_repo(tmp_path / "repo")
    commit_files(repo, {"main.tf": NAMED_LIKE_A_SECRET % "v1"}, "start")
    assert plan_and_apply(cli, repo).code == 0
    extra = 'resource "terraform_data" "blue_db" { input = "x" }\n'
    commit_files(repo, {"main.tf": NAMED_LIKE_A_SECRET % "v2" + extra}, "forward")
    assert plan_and_apply(cli, repo).code == 0

    planned = cli("rollback", "plan", repo)
    assert "undone (2): terraform_data.blue_app, terraform_data.blue_db" in planned.stdout, planned.stdout
    as_json = json.loads(cli("rollback", "plan", repo, "-f", "json").stdout)
    assert as_json["rollback"]["undone"] == ["terraform_data.blue_app", "terraform_data.blue_db"]
    undone = cli("rollback", "apply", repo, "-f", "json")
    assert undone.code == 0, undone.stdout + undone.stderr
    events = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    recorded = [e["payload"]["undone"] for e in events if e["kind"] in ("rollback-plan", "rollback-verify")]
    assert recorded == [["terraform_data.blue_app", "terraform_data.blue_db"]] * 3
    for output in (planned.stdout, json.dumps(as_json), undone.stdout, undone.stderr, json.dumps(events)):
        assert '"blue"' not in output  # the value itself is never shown
        assert "(sensitive value)_" not in output
