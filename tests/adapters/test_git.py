"""The git adapter on real repositories: provenance, what counts as dirty, remotes without credentials,
identity, worktrees that are removed even on error, and the cost of not being in a repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guardrail.adapters.git import GitSourceControl, _name_status, _porcelain_v2
from guardrail.adapters.identity import git_user_email
from guardrail.core.errors import BadInputError
from guardrail.core.provenance import DIRTY_FILES_SHOWN, Provenance, is_working_file, without_credentials
from guardrail.core.source_control import FileChange
from tests.cli.gitrepo import commit_files, git, new_repo

SCM = GitSourceControl()


def test_provenance_of_a_clean_repository(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r", remote="https://user:p4ss@example.com/org/infra.git")
    head = commit_files(repo, {"stack/main.tf": "# x\n"}, "one")
    found = SCM.provenance(repo / "stack")
    assert found == Provenance(
        repository=str(repo.resolve()),
        remote="https://example.com/org/infra.git",
        commit=head,
        branch="main",
    )
    assert found.describe() == f"repo {repo.resolve()} at {head[:12]} (main), clean"


def test_dirty_files_count_untracked_staged_and_modified_but_not_what_terraform_writes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    commit_files(repo, {"stack/main.tf": "# x\n", "other.txt": "a"}, "one")
    (repo / "stack" / "main.tf").write_text("# changed\n")
    (repo / "other.txt").unlink()
    (repo / "staged.tf").write_text("# new\n")
    git(repo, "add", "staged.tf")
    for written in (".terraform/providers/x", ".guardrail/rollback/a.tfstate", "terraform.tfstate", "plan.tfplan"):
        (repo / "stack" / written).parent.mkdir(parents=True, exist_ok=True)
        (repo / "stack" / written).write_text("{}")
    found = SCM.provenance(repo / "stack", plan_files=[repo / "stack" / "plan.tfplan"])
    assert found.dirty
    assert sorted(found.dirty_files) == ["other.txt", "stack/main.tf", "staged.tf"]
    assert found.dirty_count == 3


def test_dirty_files_are_capped_and_counted(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    commit_files(repo, {"main.tf": "# x\n"}, "one")
    for number in range(DIRTY_FILES_SHOWN + 5):
        (repo / f"f{number:02}.txt").write_text("x")
    found = SCM.provenance(repo)
    assert (len(found.dirty_files), found.dirty_count) == (DIRTY_FILES_SHOWN, DIRTY_FILES_SHOWN + 5)
    assert found.describe().endswith("and 5 more")


def test_detached_head_and_a_repository_without_commits(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    empty = SCM.provenance(repo)
    assert (empty.repository, empty.commit, empty.branch) == (str(repo.resolve()), None, "main")
    first = commit_files(repo, {"a.tf": "#\n"}, "one")
    commit_files(repo, {"a.tf": "# 2\n"}, "two")
    git(repo, "checkout", "-q", "--detach", first)
    detached = SCM.provenance(repo)
    assert (detached.commit, detached.branch) == (first, None)
    assert "(detached HEAD)" in detached.describe()


def test_outside_a_repository_nothing_fails(tmp_path: Path) -> None:
    assert SCM.provenance(tmp_path) == Provenance()
    assert SCM.user_email(tmp_path) is None
    with pytest.raises(BadInputError, match="not in a git repository"):
        SCM.resolve(tmp_path, "HEAD")


def test_a_broken_repository_is_recorded_as_such_not_fatal(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /nowhere/at/all\n")
    found = SCM.provenance(tmp_path)
    assert found.repository is None
    assert found.problem


def test_worktree_is_removed_even_when_the_block_fails(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    first = commit_files(repo, {"a.tf": "# one\n"}, "one")
    commit_files(repo, {"a.tf": "# two\n"}, "two")
    seen: list[Path] = []

    def fail_inside() -> None:
        with SCM.worktree(repo, first) as tree:
            seen.append(tree)
            assert (tree / "a.tf").read_text() == "# one\n"
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert not seen[0].exists()
    assert git(repo, "worktree", "list").count("\n") == 0


def test_identity_from_the_repository_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "r")
    git(repo, "config", "user.email", "dev@example.com")
    assert SCM.user_email(repo) == "dev@example.com"
    assert git_user_email(repo) == "dev@example.com"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".gitconfig").write_text("[user]\n\temail = global@example.com\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    assert git_user_email(outside) == "global@example.com"  # the user's file, read by git itself


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://tok3n@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://user:pa55@host:8443/r.git", "https://host:8443/r.git"),
        ("ssh://git:pa55@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, clean: str) -> None:
    assert without_credentials(url) == clean


def test_status_and_diff_parsing() -> None:
    status = (
        "# branch.oid 1a2b\0# branch.head main\0"
        "1 .M N... 100644 100644 100644 aa bb a b.tf\0"
        "2 R. N... 100644 100644 100644 aa bb R100 new name.tf\0old.tf\0"
        "u UU N... 100644 100644 100644 100644 aa bb cc both.tf\0"
        "? x y.txt\0"
    )
    assert _porcelain_v2(status) == ("1a2b", "main", ["a b.tf", "new name.tf", "both.tf", "x y.txt"])
    assert _porcelain_v2("# branch.oid (initial)\0# branch.head (detached)\0") == (None, None, [])
    assert _name_status("M\0a.tf\0R087\0old/b.tf\0new/b.tf\0D\0gone.tf\0") == [
        FileChange("M", "a.tf"),
        FileChange("R", "new/b.tf", "old/b.tf"),
        FileChange("D", "gone.tf"),
    ]


@pytest.mark.parametrize(
    ("path", "working"),
    [
        ("stack/.terraform/providers/x", True),
        ("stack/terraform.tfstate.backup", True),
        (".guardrail/guardrail.db", True),
        ("stack/main.tf", False),
        ("stack/terraform.tfvars", False),
    ],
)
def test_working_files(path: str, working: bool) -> None:
    assert is_working_file(path) is working


def test_a_check_outside_a_repository_never_imports_gitpython(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from guardrail.services.provenance import gather\n"
        f"print(gather(Path({str(tmp_path)!r}), None).describe())\n"
        "print('git' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split("\n")[:2] == ["not in a git repository", "False"]


def test_help_and_every_command_module_leave_gitpython_unloaded() -> None:
    code = (
        "import sys\n"
        "from guardrail.cli import main\n"
        "main._register_commands()\n"
        "import guardrail.services.rollback, guardrail.services.roots, guardrail.services.review\n"
        "print('\\n'.join(sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert "guardrail.cli.rollback" in loaded
    assert [m for m in loaded if m in {"git", "gitdb"} or m.startswith(("git.", "gitdb."))] == []
