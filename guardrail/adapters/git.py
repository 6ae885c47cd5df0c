"""git through GitPython: provenance, identity, commits, temporary worktrees and diffs (the SourceControl
port, core/source_control.py).

GitPython costs about 0.1 s to import, so it is imported only once a repository has been found by looking
for `.git` from the directory up: outside a repository a check pays nothing for it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.core.errors import BadInputError
from guardrail.core.provenance import DIRTY_FILES_SHOWN, Provenance, is_working_file, without_credentials
from guardrail.core.source_control import FileChange

if TYPE_CHECKING:
    from git import Repo

TERRAFORM_SUFFIXES = (".tf", ".tf.json")
# git honours these to point at a repository from anywhere; then there is no `.git` to find by walking up.
_REPOSITORY_ENV = ("GIT_DIR", "GIT_WORK_TREE")


def find_top_level(directory: Path) -> Path | None:
    """The nearest folder at or above `directory` that holds `.git` (a folder, or a file for worktrees and
    submodules), without importing GitPython; None when there is none."""
    try:
        start = directory.resolve()
    except OSError:
        return None
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _in_repository(directory: Path) -> bool:
    return find_top_level(directory) is not None or any(os.environ.get(name) for name in _REPOSITORY_ENV)


class GitSourceControl:
    """SourceControl over GitPython (which runs the git CLI for what it does not read itself)."""

    def provenance(self, directory: Path, *, plan_files: Sequence[Path] = ()) -> Provenance:
        if not _in_repository(directory):
            return Provenance()
        errors = _errors()
        try:
            repo = _open(directory)
        except errors as exc:
            return Provenance(problem=_short(exc))
        try:
            return _provenance(repo, plan_files)
        except errors as exc:
            top = repo.working_tree_dir
            return Provenance(repository=str(top) if top else None, problem=_short(exc))
        finally:
            repo.close()

    def user_email(self, directory: Path) -> str | None:
        if not _in_repository(directory):
            return None
        try:
            repo = _open(directory)
        except _errors():
            return None
        try:
            email = repo.config_reader().get_value("user", "email", default="")
        except _errors():
            return None
        finally:
            repo.close()
        return str(email).strip() or None

    def top_level(self, directory: Path) -> Path:
        with _repository(directory) as repo:
            return Path(str(repo.working_tree_dir))

    def resolve(self, directory: Path, ref: str) -> str:
        with _repository(directory) as repo:
            return _commit_id(repo, ref)

    @contextmanager
    def worktree(self, directory: Path, commit: str) -> Iterator[Path]:
        from git import GitCommandError

        with _repository(directory) as repo:
            holder = Path(tempfile.mkdtemp(prefix="guardrail-worktree-"))
            tree = holder / "tree"
            try:
                try:
                    repo.git.worktree("add", "--detach", str(tree), _commit_id(repo, commit))
                except GitCommandError as exc:
                    raise BadInputError(f"{directory}: cannot check out {commit}: {_short(exc)}") from None
                yield tree
            finally:
                try:
                    repo.git.worktree("remove", "--force", str(tree))
                except GitCommandError:
                    shutil.rmtree(tree, ignore_errors=True)
                    repo.git.worktree("prune")
                shutil.rmtree(holder, ignore_errors=True)

    def merge_base(self, directory: Path, ref: str) -> str:
        from git import GitCommandError

        with _repository(directory) as repo:
            start = _commit_id(repo, ref)
            try:
                found = repo.merge_base(start, "HEAD")
            except GitCommandError as exc:
                raise BadInputError(f"{directory}: no common history with {ref}: {_short(exc)}") from None
            if not found:
                raise BadInputError(f"{directory}: HEAD and {ref} share no history")
            return str(found[0].hexsha)

    def changes_since(self, directory: Path, commit: str) -> list[FileChange]:
        from git import GitCommandError

        with _repository(directory) as repo:
            since = _commit_id(repo, commit)
            try:
                listed = repo.git.diff("--name-status", "-z", "-M", since)
                untracked = repo.git.ls_files("-z", "--others", "--exclude-standard")
            except GitCommandError as exc:
                raise BadInputError(f"{directory}: cannot compare with {commit}: {_short(exc)}") from None
        changes = _name_status(listed)
        changes.extend(FileChange("A", path) for path in untracked.split("\0") if path)
        return changes

    def terraform_files(self, directory: Path, commit: str | None) -> Mapping[str, str]:
        with _repository(directory) as repo:
            if commit is not None:
                from git import Blob

                tree = repo.commit(_commit_id(repo, commit)).tree
                return {
                    str(item.path): _text(item.data_stream.read())
                    for item in tree.traverse()
                    if isinstance(item, Blob) and str(item.path).endswith(TERRAFORM_SUFFIXES)
                }
            top = Path(str(repo.working_tree_dir))
            listed = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard")
        files: dict[str, str] = {}
        for path in listed.split("\0"):
            if path.endswith(TERRAFORM_SUFFIXES):
                try:
                    files[path] = _text((top / path).read_bytes())
                except OSError:
                    continue  # deleted in the work tree, not yet committed: it is gone
        return files


def _provenance(repo: Repo, plan_files: Sequence[Path]) -> Provenance:
    # One git process says it all: `status --porcelain=v2 --branch` gives the commit, the branch and every
    # changed or untracked file (each process costs more than reading the configuration for the remote).
    top = Path(str(repo.working_tree_dir))
    status = repo.git.status("--porcelain=v2", "--branch", "-z", "--untracked-files=all")
    commit, branch, paths = _porcelain_v2(status)
    relative_plans = [p for p in (_relative(top, plan) for plan in plan_files) if p is not None]
    dirty = [path for path in paths if not is_working_file(path, relative_plans)]
    return Provenance(
        repository=str(top),
        remote=_remote(repo),
        commit=commit,
        branch=branch,
        dirty=bool(dirty),
        dirty_files=tuple(dirty[:DIRTY_FILES_SHOWN]),
        dirty_count=len(dirty),
    )


def _remote(repo: Repo) -> str | None:
    remotes = {remote.name: remote for remote in repo.remotes}
    chosen = remotes.get("origin") or next(iter(remotes.values()), None)
    if chosen is None:
        return None
    urls = list(chosen.urls)
    return without_credentials(urls[0]) if urls else None


def _porcelain_v2(text: str) -> tuple[str | None, str | None, list[str]]:
    """(commit, branch, paths) from `git status --porcelain=v2 --branch -z`: headers `# branch.oid X`
    (`(initial)` before the first commit) and `# branch.head NAME` (`(detached)`), then one entry per
    changed (`1`), renamed or copied (`2`, followed by its source path), unmerged (`u`) or untracked (`?`)
    path."""
    commit: str | None = None
    branch: str | None = None
    paths: list[str] = []
    entries = iter(text.split("\0"))
    for entry in entries:
        if entry.startswith("# branch.oid "):
            oid = entry.removeprefix("# branch.oid ")
            commit = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            head = entry.removeprefix("# branch.head ")
            branch = None if head == "(detached)" else head
        elif entry.startswith(("1 ", "u ")):
            paths.append(entry.split(" ", 8 if entry[0] == "1" else 10)[-1])
        elif entry.startswith("2 "):
            paths.append(entry.split(" ", 9)[-1])
            next(entries, None)  # the source of the rename or copy
        elif entry.startswith("? "):
            paths.append(entry[2:])
    return commit, branch, paths


def _name_status(text: str) -> list[FileChange]:
    """`git diff --name-status -z`: a status, then one path (two for renames and copies)."""
    changes: list[FileChange] = []
    fields = iter(text.split("\0"))
    for status in fields:
        if not status:
            continue
        kind = status[0]
        if kind in "RC":
            old, new = next(fields, ""), next(fields, "")
            changes.append(FileChange("R" if kind == "R" else "A", new, old if kind == "R" else None))
        else:
            changes.append(FileChange("M" if kind == "T" else kind, next(fields, "")))
    return changes


def _relative(top: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None


@contextmanager
def _repository(directory: Path) -> Iterator[Repo]:
    if not _in_repository(directory):
        raise BadInputError(f"{directory}: not in a git repository")
    try:
        repo = _open(directory)
    except _errors() as exc:
        raise BadInputError(f"{directory}: not a usable git repository ({_short(exc)})") from None
    try:
        yield repo
    finally:
        repo.close()


def _open(directory: Path) -> Repo:
    from git import Repo

    return Repo(directory, search_parent_directories=True)


def _commit_id(repo: Repo, ref: str) -> str:
    from git import BadName

    try:
        return repo.commit(ref).hexsha
    except (BadName, ValueError):
        raise BadInputError(f"{ref!r}: not a commit of the repository at {repo.working_tree_dir}") from None


@cache
def _errors() -> tuple[type[Exception], ...]:
    from git import GitError, ODBError

    return (GitError, ODBError, OSError, ValueError, KeyError)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1].strip() if text else type(exc).__name__


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
