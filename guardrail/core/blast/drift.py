"""Drift the plan would revert: attributes changed outside Terraform that this plan overwrites.

`resource_drift` holds, per resource, the object as of the last apply (`before`) and as it is now (`after`).
An attribute drifted when the two differ; the plan reverts it when it then changes that attribute again.
Only attribute paths are ever reported: the values may be sensitive (drift values are not redacted at intake).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.values import format_path, get_path, mask_within

Path = tuple[str | int, ...]
_MAX_DEPTH = 8  # deeper differences are reported at this depth: a path, not a dump of a structure


@dataclass(frozen=True, slots=True)
class RevertedAttribute:
    """One drifted attribute the plan would overwrite."""

    path: Path
    relevant: bool  # Terraform listed it in relevant_attributes: the plan itself depends on it
    certain: bool  # False when the planned value is unknown or sensitive, so it only may be overwritten

    @property
    def dotted(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class RevertedDrift:
    """A resource changed outside Terraform whose drifted attributes this plan overwrites."""

    address: str
    action: Action
    attributes: tuple[RevertedAttribute, ...]


def reverted_drift(changeset: ChangeSet) -> list[RevertedDrift]:
    """For each drifted resource that the plan updates or replaces, the drifted attributes it overwrites."""
    changes: dict[str, ResourceChange] = {}
    for planned in changeset.changes:
        if planned.deposed is None:
            changes[planned.address] = planned
            if planned.previous_address:
                changes.setdefault(planned.previous_address, planned)
    relevant = _relevant(changeset.relevant_attributes)
    result = []
    for entry in changeset.resource_drift:
        address = entry.get("address")
        body = entry.get("change")
        if not isinstance(address, str) or not isinstance(body, Mapping):
            continue
        change = changes.get(address)
        if change is None or change.action not in (Action.UPDATE, Action.REPLACE):
            continue
        marked = relevant.get(address, ()) + relevant.get(change.address, ())
        attributes = tuple(
            attribute
            for path in drifted_paths(body.get("before"), body.get("after"))
            if (attribute := _overwritten(change, path, marked)) is not None
        )
        if attributes:
            result.append(RevertedDrift(change.address, change.action, attributes))
    return sorted(result, key=lambda r: r.address)


def drifted_paths(before: Any, after: Any, path: Path = ()) -> Iterator[Path]:
    """The paths at which two values differ, as deep as both are objects (or equal-length lists)."""
    if before == after:
        return
    if len(path) < _MAX_DEPTH and isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from drifted_paths(before.get(key), after.get(key), (*path, key))
    elif len(path) < _MAX_DEPTH and isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from drifted_paths(old, new, (*path, index))
    else:
        yield path


def _overwritten(change: ResourceChange, path: Path, relevant: Sequence[Path]) -> RevertedAttribute | None:
    is_relevant = any(path[: len(r)] == r or r[: len(path)] == path for r in relevant)
    # The plan's before is the refreshed object (the drifted value); its after is what the plan sets.
    hidden = (
        mask_within(change.after_unknown, path)
        or mask_within(change.after_sensitive, path)
        or mask_within(change.before_sensitive, path)
    )
    if hidden:
        return RevertedAttribute(path, is_relevant, certain=False)
    if get_path(change.before, path) != get_path(change.after, path):
        return RevertedAttribute(path, is_relevant, certain=True)
    return None


def _relevant(entries: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Path, ...]]:
    found: dict[str, list[Path]] = {}
    for entry in entries:
        resource, attribute = entry.get("resource"), entry.get("attribute")
        if isinstance(resource, str) and isinstance(attribute, list):
            found.setdefault(resource, []).append(tuple(s for s in attribute if isinstance(s, str | int)))
    return {address: tuple(paths) for address, paths in found.items()}
