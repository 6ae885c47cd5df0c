"""A change's attributes side by side, before and after, with sensitive and unknown values marked.

Pure: walks the plan's values and masks the way Terraform's own plan output does, so every face of
guardrail (the TUI's detail pane, any renderer) shows the same diff. Values arrive already redacted;
the masks decide which leaves are shown as "(sensitive)" or "(known after apply)" rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guardrail.core.change import ResourceChange
from guardrail.core.values import mask_at


class Mark(StrEnum):
    """A value that is shown as a word rather than as itself."""

    SENSITIVE = "(sensitive)"
    UNKNOWN = "(known after apply)"
    ABSENT = "(absent)"


class Difference(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    HIDDEN = "hidden"  # sensitive on both sides: whether it changed cannot be told from a redacted plan


@dataclass(frozen=True, slots=True)
class AttributeDiff:
    """One leaf attribute: its path, both sides (a plain value or a Mark) and how they differ."""

    path: tuple[str | int, ...]
    before: Any
    after: Any
    difference: Difference
    forces_replacement: bool = False


_MISSING = object()


def attribute_diff(change: ResourceChange, *, include_unchanged: bool = False) -> list[AttributeDiff]:
    """Every leaf attribute of `change` that differs (all of them with `include_unchanged`), by path.

    Sensitive leaves on either side are never shown; unknown after-values are marked, not read as null.
    """
    found: list[AttributeDiff] = []
    for path, before, after in _leaves(_root(change.before), _root(change.after), change.after_unknown, ()):
        entry = _entry(change, path, before, after)
        if include_unchanged or entry.difference is not Difference.UNCHANGED:
            found.append(entry)
    return found


def _root(value: Any) -> Any:
    # A create has no before and a delete no after: absent, not a null attribute.
    return _MISSING if value is None else value


def _leaves(before: Any, after: Any, unknown: Any, path: tuple[str | int, ...]) -> Iterator[tuple[Any, Any, Any]]:
    if unknown is True:
        yield path, before, Mark.UNKNOWN
        return
    if isinstance(before, dict) or isinstance(after, dict):
        keys = _keys(before, after, unknown)
        for key in keys:
            yield from _leaves(_child(before, key), _child(after, key), _child_mask(unknown, key), (*path, key))
        if not keys and path:
            yield path, before, after
        return
    if isinstance(before, list) or isinstance(after, list):
        length = max(_length(before), _length(after), _length(unknown))
        for index in range(length):
            yield from _leaves(_child(before, index), _child(after, index), _child_mask(unknown, index), (*path, index))
        if not length and path:
            yield path, before, after
        return
    if path:
        yield path, before, after


def _keys(before: Any, after: Any, unknown: Any) -> list[str]:
    keys: dict[str, None] = {}
    for side in (before, after, unknown):
        if isinstance(side, dict):
            keys.update(dict.fromkeys(side))
    return sorted(keys)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _child(value: Any, key: str | int) -> Any:
    if isinstance(value, dict) and isinstance(key, str):
        return value.get(key, _MISSING)
    if isinstance(value, list) and isinstance(key, int):
        return value[key] if key < len(value) else _MISSING
    return _MISSING


def _child_mask(mask: Any, key: str | int) -> Any:
    child = _child(mask, key)
    return None if child is _MISSING else child


def _entry(change: ResourceChange, path: tuple[str | int, ...], before: Any, after: Any) -> AttributeDiff:
    before_secret = before is not _MISSING and mask_at(change.before_sensitive, path)
    after_secret = after is not _MISSING and after is not Mark.UNKNOWN and mask_at(change.after_sensitive, path)
    shown_before = Mark.SENSITIVE if before_secret else (Mark.ABSENT if before is _MISSING else before)
    shown_after = Mark.SENSITIVE if after_secret else (Mark.ABSENT if after is _MISSING else after)
    forces = any(_starts_with(path, p) or _starts_with(p, path) for p in change.replace_paths)
    return AttributeDiff(
        path, shown_before, shown_after, _difference(before, after, before_secret, after_secret), forces
    )


def _difference(before: Any, after: Any, before_secret: bool, after_secret: bool) -> Difference:
    if before is _MISSING:
        return Difference.ADDED
    if after is _MISSING:
        return Difference.REMOVED
    if before_secret and after_secret:
        return Difference.HIDDEN
    if after is Mark.UNKNOWN or before_secret or after_secret:
        return Difference.CHANGED
    return Difference.UNCHANGED if before == after else Difference.CHANGED


def _starts_with(path: Sequence[str | int], prefix: Sequence[str | int]) -> bool:
    return len(path) >= len(prefix) and tuple(path[: len(prefix)]) == tuple(prefix)


def shown_value(value: Any) -> str:
    """A side of the diff as a reviewer reads it: marks as words, values as JSON (`"a"`, `3`, `null`)."""
    if isinstance(value, Mark):
        return value.value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
