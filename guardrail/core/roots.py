"""Terraform root modules touched since a base commit, for monorepo CI (`guardrail changed-roots`).

A configuration directory is a folder holding `*.tf` or `*.tf.json` files. It is a module when another
configuration calls it through a local `source` ("./x", "../modules/x"); a root otherwise, or when it
declares a backend (or a `cloud` block), which only roots do. A changed file belongs to the nearest
configuration directory at or above it; a change in a module marks every root that calls it, however
deep the chain of calls. Both sides are read: paths as they are now through today's calls, deleted and
renamed-away paths through the calls at the base commit. A root that existed at the base and no longer
does is reported as deleted, unless its files moved to a root of today (renamed).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from guardrail.core.hcl_sources import FileFacts, read_facts
from guardrail.core.source_control import FileChange

TERRAFORM_SUFFIXES = (".tf", ".tf.json")
_LOCAL_PREFIXES = ("./", "../")


class RootStatus(StrEnum):
    CHANGED = "changed"
    RENAMED = "renamed"
    DELETED = "deleted"


@dataclass(frozen=True)
class ChangedRoot:
    """A root module touched since the base: `path` relative to the repository (`.` for its top), why
    (the files, and the modules through which they reach it), and where it was before a rename."""

    path: str
    status: RootStatus
    because: tuple[str, ...] = ()
    renamed_from: str | None = None


@dataclass(frozen=True)
class Configurations:
    """The configuration directories of one tree: which call which, and which are roots."""

    directories: frozenset[str]
    calls: Mapping[str, frozenset[str]]  # directory -> the local modules it calls
    roots: frozenset[str]

    @classmethod
    def of(cls, files: Mapping[str, str]) -> Configurations:
        """From every Terraform file of a tree, by repository-relative path, with its text."""
        facts: dict[str, list[FileFacts]] = {}
        for path, text in files.items():
            if path.endswith(TERRAFORM_SUFFIXES):
                folder = posixpath.dirname(path) or "."
                facts.setdefault(folder, []).append(read_facts(text, json_syntax=path.endswith(".tf.json")))
        directories = frozenset(facts)
        calls = {
            folder: frozenset(
                target
                for fact in found
                for source in fact.module_sources
                if (target := local_target(folder, source)) is not None and target in directories
            )
            for folder, found in facts.items()
        }
        called = {target for targets in calls.values() for target in targets}
        with_backend = {folder for folder, found in facts.items() if any(f.declares_backend for f in found)}
        roots = frozenset(d for d in directories if d not in called or d in with_backend)
        return cls(directories, calls, roots)

    def owner(self, path: str) -> str | None:
        """The nearest configuration directory at or above the file `path`, or None."""
        folder = posixpath.dirname(path) or "."
        while True:
            if folder in self.directories:
                return folder
            if folder == ".":
                return None
            folder = posixpath.dirname(folder) or "."

    def roots_reaching(self, directory: str) -> set[str]:
        """The roots that are `directory` or call it, directly or through other modules."""
        callers: dict[str, set[str]] = {}
        for caller, targets in self.calls.items():
            for target in targets:
                callers.setdefault(target, set()).add(caller)
        seen, todo = {directory}, [directory]
        while todo:
            for caller in callers.get(todo.pop(), ()):
                if caller not in seen:
                    seen.add(caller)
                    todo.append(caller)
        return {d for d in seen if d in self.roots}


def local_target(folder: str, source: str) -> str | None:
    """The repository-relative directory a local module `source` names from `folder`, or None for a
    registry, git or other remote source, or one that leaves the repository."""
    if not source.startswith(_LOCAL_PREFIXES):
        return None
    joined = posixpath.normpath(posixpath.join(folder, source.split("//", 1)[0]))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def changed_roots(changes: Iterable[FileChange], now: Configurations, base: Configurations) -> list[ChangedRoot]:
    """Every root touched by `changes`, sorted by path, deleted ones included."""
    reasons: dict[str, set[str]] = {}
    for change in changes:
        if change.status != "D":
            _touch(reasons, now, change.path, change.path)
        old = change.old_path if change.status == "R" else change.path if change.status == "D" else None
        if old is not None:
            _touch(reasons, base, old, old)
            if now.owner(old) == base.owner(old):  # a file gone from a configuration that still exists
                _touch(reasons, now, old, old)
    renamed = _renamed_roots(changes, now, base)
    found: list[ChangedRoot] = []
    for root in sorted(reasons):
        because = tuple(sorted(reasons[root]))
        if root in now.roots:
            previous = renamed.get(root)
            status = RootStatus.RENAMED if previous is not None else RootStatus.CHANGED
            found.append(ChangedRoot(root, status, because, previous))
        elif root in base.roots and root not in renamed.values():
            found.append(ChangedRoot(root, RootStatus.DELETED, because))
    return found


def _touch(reasons: dict[str, set[str]], tree: Configurations, path: str, why: str) -> None:
    owner = tree.owner(path)
    if owner is None:
        return
    for root in tree.roots_reaching(owner):
        reasons.setdefault(root, set()).add(why if owner == root else f"{why} (module {owner})")


def _renamed_roots(changes: Iterable[FileChange], now: Configurations, base: Configurations) -> dict[str, str]:
    """Today's root -> the base root whose directory no longer exists and whose files moved into it."""
    moved: dict[str, str] = {}
    for change in changes:
        if change.status != "R" or change.old_path is None:
            continue
        old_root, new_root = base.owner(change.old_path), now.owner(change.path)
        if (
            old_root is not None
            and new_root is not None
            and old_root != new_root
            and old_root in base.roots
            and old_root not in now.directories
            and new_root in now.roots
        ):
            moved.setdefault(new_root, old_root)
    return moved
