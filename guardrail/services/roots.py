"""`guardrail changed-roots --base REF`: the Terraform roots a change touches, for monorepo pipelines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guardrail.core.roots import ChangedRoot, Configurations, changed_roots
from guardrail.services.wiring import source_control


@dataclass(frozen=True)
class ChangedRoots:
    """The roots touched between the merge base of `base` (`since`, a commit) and the work tree."""

    repository: Path
    base: str
    since: str
    roots: tuple[ChangedRoot, ...]


def changed_roots_since(directory: Path, base: str) -> ChangedRoots:
    """Compare the repository holding `directory` with `base`. Raises BadInputError when `directory` is
    not in a git repository or `base` is not a commit with history in common."""
    scm = source_control()
    since = scm.merge_base(directory, base)
    changes = scm.changes_since(directory, since)
    now = Configurations.of(scm.terraform_files(directory, None))
    before = Configurations.of(scm.terraform_files(directory, since))
    return ChangedRoots(scm.top_level(directory), base, since, tuple(changed_roots(changes, now, before)))
