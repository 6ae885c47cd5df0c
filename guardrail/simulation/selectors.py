"""Equality- and set-based label selectors (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`), as the API server
reads them, for the simulators' list calls."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from guardrail.core.errors import BadInputError

Matcher = Callable[[Mapping[str, str]], bool]
_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def selector(text: str | None) -> Matcher:
    """A function telling whether labels match `text` (None or empty matches everything).
    Raises BadInputError for a selector the API server would refuse."""
    if not text:
        return lambda _labels: True
    tests = [_requirement(part) for part in _split(text)]
    return lambda labels: all(test(labels) for test in tests)


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _requirement(part: str) -> Matcher:
    found = _SET.match(part)
    if found:
        key, operator, values = found.group(1), found.group(2), {v.strip() for v in found.group(3).split(",")}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    part = part.strip()
    for operator in ("!=", "==", "="):
        if operator in part:
            key, value = (s.strip() for s in part.split(operator, 1))
            if operator == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if part.startswith("!"):
        key = part[1:].strip()
        return lambda labels: key not in labels
    if re.fullmatch(r"[\w./-]+", part):
        return lambda labels: part in labels
    raise BadInputError(f"label selector {part!r}: not understood")
