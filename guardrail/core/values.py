"""Reading plan values: paths, unknown masks and sensitive masks, all pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

SENSITIVE_PLACEHOLDER = "(sensitive value)"
UNKNOWN_PLACEHOLDER = "(known after apply)"

Path = Sequence[str | int]


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value Terraform will only know after apply."""

    path: tuple[str | int, ...]


UNKNOWN_AT_ROOT = Unknown(())


def _step(node: Any, key: str | int) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
        return node[key]
    return None


def mask_at(mask: Any, path: Path) -> bool:
    """True when a Terraform mask (after_unknown, *_sensitive) marks `path` or any of its parents."""
    node = mask
    for key in path:
        if node is True:
            return True
        node = _step(node, key)
    return node is True


def mask_within(mask: Any, path: Path) -> bool:
    """True when the mask marks `path`, a parent of it, or anything below it."""
    node = mask
    for key in path:
        if node is True:
            return True
        node = _step(node, key)
    return _any_true(node)


def _any_true(mask: Any) -> bool:
    if mask is True:
        return True
    if isinstance(mask, dict):
        return any(_any_true(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_any_true(v) for v in mask)
    return False


def get_path(value: Any, path: Path) -> Any:
    """The value at `path`, or None where the path does not exist."""
    node = value
    for key in path:
        node = _step(node, key)
        if node is None:
            return None
    return node


def after_value(after: Any, after_unknown: Any, path: Path) -> Any:
    """The planned value at `path`, or an Unknown when Terraform cannot know it before apply."""
    if mask_at(after_unknown, path):
        return Unknown(tuple(path))
    return get_path(after, path)


def redact(value: Any, sensitive: Any) -> Any:
    """`value` with every leaf the sensitive mask marks replaced by a placeholder.

    Only the containers on the way to a masked leaf are copied; everything else, and `value` itself when
    the mask marks nothing, is the same object (callers tell "nothing was masked" by identity).
    """
    if sensitive is True:
        return None if value is None else SENSITIVE_PLACEHOLDER
    if not _any_true(sensitive):
        return value
    if isinstance(value, dict) and isinstance(sensitive, dict):
        return {k: redact(v, sensitive.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(sensitive, list):
        return [redact(v, sensitive[i] if i < len(sensitive) else None) for i, v in enumerate(value)]
    # The mask's shape does not fit the value: mask it all rather than guess which part is secret.
    return SENSITIVE_PLACEHOLDER if value is not None and _any_true(sensitive) else value


def sensitive_leaves(value: Any, sensitive: Any) -> Iterator[Any]:
    """Every scalar in `value` that the sensitive mask marks."""
    if sensitive is True:
        yield from _scalars(value)
    elif isinstance(value, dict) and isinstance(sensitive, dict):
        for key, mask in sensitive.items():
            if key in value:
                yield from sensitive_leaves(value[key], mask)
    elif isinstance(value, list) and isinstance(sensitive, list):
        for item, mask in zip(value, sensitive, strict=False):
            yield from sensitive_leaves(item, mask)
    elif _any_true(sensitive):
        yield from _scalars(value)  # mismatched shapes: every scalar may be the secret


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif value is not None:
        yield value


def format_path(path: Sequence[str | int]) -> str:
    """An attribute path as a reviewer writes it: `tags.Name`, `disk[0].size`, `labels["a b"]`."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append(f".{step}" if parts else step)
        else:
            quoted = step.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'["{quoted}"]')
    return "".join(parts)
