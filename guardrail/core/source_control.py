"""The source-control port: what guardrail asks of git (provenance, identity, commits, worktrees, diffs).

The adapter (adapters/git.py) is chosen in services/wiring.py. Outside a repository nothing fails: the
provenance says so and the identity falls back to other sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from guardrail.core.provenance import Provenance


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file changed since a base commit, `/`-separated and relative to the repository's top level.
    `status`: A added, M modified, D deleted, R renamed (then `old_path` is where it was)."""

    status: str
    path: str
    old_path: str | None = None


class SourceControl(Protocol):
    """git, as guardrail uses it. Methods that need a repository raise BadInputError naming the directory
    when there is none, and BadInputError naming the ref for a ref that is not a commit."""

    def provenance(self, directory: Path, *, plan_files: Sequence[Path] = ()) -> Provenance:
        """The repository, remote (no credentials), commit, branch and dirty files of `directory`'s tree;
        `plan_files` (the plan being checked) do not count as dirty. Never raises: outside a repository,
        or when git fails, the record says so."""
        ...

    def user_email(self, directory: Path) -> str | None:
        """git's `user.email` as seen from `directory` (repository, then user and system configuration),
        or None when it is not set or `directory` is not in a repository. Never raises."""
        ...

    def top_level(self, directory: Path) -> Path:
        """The top-level folder of the work tree holding `directory`."""
        ...

    def resolve(self, directory: Path, ref: str) -> str:
        """The full commit id `ref` names (a branch, tag, `HEAD~1`, an abbreviated id)."""
        ...

    def worktree(self, directory: Path, commit: str) -> AbstractContextManager[Path]:
        """A temporary detached worktree of `commit` (`git worktree add --detach`); yields its top-level
        folder and removes it when the block ends, errors included."""
        ...

    def merge_base(self, directory: Path, ref: str) -> str:
        """The commit where HEAD's history meets `ref`'s (the commit `ref` names when HEAD descends from it)."""
        ...

    def changes_since(self, directory: Path, commit: str) -> list[FileChange]:
        """Files changed between `commit` and the work tree (committed or not, untracked files that git does
        not ignore included), renames detected."""
        ...

    def terraform_files(self, directory: Path, commit: str | None) -> Mapping[str, str]:
        """Every `*.tf` and `*.tf.json` file of the repository, by repository-relative path, with its text:
        at `commit`, or in the work tree (tracked and untracked-not-ignored files) when None."""
        ...
