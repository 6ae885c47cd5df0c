"""changed-roots on a real monorepo: several roots, local modules called through other modules, a
deleted root, a renamed root, a registry module, and a module that is also a root (it has a backend)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import Result
from tests.cli.gitrepo import commit_files, git, new_repo

Cli = Callable[..., Result]

BASE: dict[str, str | None] = {
    "envs/prod/main.tf": 'module "app" {\n  source = "../../modules/app"\n}\n',
    "envs/staging/main.tf": (
        'module "app" {\n  source = "../../modules/app"\n}\nmodule "db" {\n  source = "../../modules/db"\n}\n'
    ),
    "envs/dev/main.tf": 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.0.0"\n}\n',
    "envs/legacy/main.tf": 'resource "terraform_data" "old" {}\n',
    "envs/old-name/main.tf": 'resource "terraform_data" "moving" {}\n',
    "modules/app/main.tf": 'module "net" {\n  source = "../net"\n}\n',
    "modules/net/main.tf": 'resource "terraform_data" "net" {}\n',
    "modules/db/main.tf.json": json.dumps({"resource": {"terraform_data": {"db": {}}}}),
    "modules/shared-root/main.tf": 'terraform {\n  backend "local" {}\n}\nresource "terraform_data" "s" {}\n',
    "envs/tools/main.tf": 'module "shared" {\n  source = "../../modules/shared-root"\n}\n',
    "README.md": "the monorepo\n",
}


def roots(cli: Cli, repo: Path, base: str) -> list[dict[str, Any]]:
    found = cli("changed-roots", "--base", base, "--dir", repo, "-f", "json")
    assert found.code == 0, found.stderr
    listed: list[dict[str, Any]] = json.loads(found.stdout)["roots"]
    return listed


def statuses(found: list[dict[str, Any]]) -> dict[str, str]:
    return {r["path"]: r["status"] for r in found}


def test_a_module_two_calls_deep_marks_every_root_that_calls_it(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "mono")
    base = commit_files(repo, BASE, "base")
    commit_files(repo, {"modules/net/main.tf": 'resource "terraform_data" "net" { input = 2 }\n'}, "net change")
    found = roots(cli, repo, base)
    assert statuses(found) == {"envs/prod": "changed", "envs/staging": "changed"}
    prod = next(r for r in found if r["path"] == "envs/prod")
    assert prod["because"] == ["modules/net/main.tf (module modules/net)"]


def test_json_syntax_modules_files_beside_the_code_and_uncommitted_changes_count(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "mono")
    base = commit_files(repo, BASE, "base")
    (repo / "modules/db/main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"db2": {}}}}))
    (repo / "envs/dev/terraform.tfvars").write_text('region = "eu"\n')  # untracked, not ignored
    (repo / "README.md").write_text("docs only\n")
    assert statuses(roots(cli, repo, base)) == {"envs/staging": "changed", "envs/dev": "changed"}


def test_deleted_renamed_and_backend_roots(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "mono")
    base = commit_files(repo, BASE, "base")
    git(repo, "rm", "-q", "-r", "envs/legacy")
    git(repo, "mv", "envs/old-name", "envs/new-name")
    commit_files(
        repo, {"modules/shared-root/main.tf": (BASE["modules/shared-root/main.tf"] or "") + "# tweak\n"}, "moves"
    )
    found = roots(cli, repo, base)
    assert statuses(found) == {
        "envs/legacy": "deleted",
        "envs/new-name": "renamed",
        "envs/tools": "changed",
        "modules/shared-root": "changed",  # called as a module, yet a root of its own: it has a backend
    }
    renamed = next(r for r in found if r["path"] == "envs/new-name")
    assert renamed["renamed_from"] == "envs/old-name"


def test_a_branch_compares_with_its_merge_base_and_text_lists_one_root_a_line(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "mono")
    commit_files(repo, BASE, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"envs/dev/main.tf": (BASE["envs/dev/main.tf"] or "") + "# dev\n"}, "dev only")
    commit_files(repo, {"envs/dev/extra.tf": 'resource "terraform_data" "x" {}\n'}, "dev again")
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"envs/legacy/main.tf": 'resource "terraform_data" "changed_on_main" {}\n'}, "main moves on")
    git(repo, "checkout", "-q", "feature")
    text = cli("changed-roots", "--base", "main", "--dir", repo)
    assert text.code == 0, text.stderr
    assert text.stdout == "envs/dev\tchanged\n"  # main's own later change to legacy is not this branch's


def test_bad_base_and_no_repository_are_exit_3(cli: Cli, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "mono")
    commit_files(repo, BASE, "base")
    bad = cli("changed-roots", "--base", "nope", "--dir", repo)
    assert bad.code == 3
    assert "'nope': not a commit" in bad.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    missing = cli("changed-roots", "--base", "main", "--dir", outside)
    assert missing.code == 3
    assert "not in a git repository" in missing.stderr
