"""Names too alike: for each destructive change, the other resources a reviewer could mistake it for.

Two resources of one type are confusable when their addresses differ in a single step (a module name, a
resource name, a for_each key) by at most one or two edits (a swapped pair of characters counts as one), or
only by case, `-` and `_`; or when their `name` attributes do. Count indices never count: `web[0]` and
`web[1]` are instances of one block, chosen by arithmetic rather than by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from guardrail.core.blast.address import parse_instance
from guardrail.core.change import ChangeSet, ResourceChange
from guardrail.core.values import SENSITIVE_PLACEHOLDER


@dataclass(frozen=True, slots=True)
class ConfusableName:
    """A destructive change and a resource whose address step or name attribute is confusably close."""

    address: str  # the destructive change
    other: str  # the resource it could be mistaken for
    attribute: str | None  # None: the addresses differ; else the attribute whose values are alike
    mine: str  # the differing address step or attribute value of `address`
    theirs: str  # the same for `other`
    distance: int  # edits between the normalised forms; 0: they differ only in case, `-` or `_`


_TWO_EDITS = 10  # the shortest name in which two edits still read as a slip


def normalise(text: str) -> str:
    return text.lower().replace("-", "_")


def allowed_edits(length: int) -> int:
    """How many edits still read as "the same name" at this length: none below 3, one below 10, else two.

    Two edits in a short name already make a different name (`stack_12`, `stack_37`).
    """
    if length < 3:
        return 0
    return 1 if length < _TWO_EDITS else 2


def distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (a transposition is one edit), or bound + 1 once it exceeds bound."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    if a == b:
        return 0
    # Common ends never take part in an optimal alignment: trimming them leaves a tiny table.
    start, shortest = 0, min(len(a), len(b))
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if not a or not b:
        return min(max(len(a), len(b)), bound + 1)
    if len(a) == 1 or len(b) == 1:  # numbered names mostly end here; ends differ, so no transposition helps
        single, other = (a, b) if len(a) == 1 else (b, a)
        return min(len(other) - (single in other), bound + 1)
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i, *([0] * len(b))]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return min(previous[-1], bound + 1)


def confusable(a: str, b: str) -> int | None:
    """The distance between two names when they are confusably close, else None (identical is not confusable)."""
    if a == b:
        return None
    left, right = normalise(a), normalise(b)
    bound = allowed_edits(min(len(left), len(right)))
    found = distance(left, right, bound)
    return found if found <= bound else None


class _Neighbours:
    """Confusable partners among a fixed set of strings, found through a deletion index (no all-pairs scan).

    Two strings within two edits share a string obtained by deleting at most two characters from each.
    """

    def __init__(self, universe: Iterable[str]) -> None:
        self._index: dict[str, set[str]] = {}
        self._normal: dict[str, str] = {}
        for text in universe:
            normal = self._normal[text] = normalise(text)
            for variant in _deletions(normal):
                self._index.setdefault(variant, set()).add(text)
        self._memo: dict[str, tuple[tuple[str, int], ...]] = {}

    def of(self, text: str) -> tuple[tuple[str, int], ...]:
        """(partner, distance) for every confusable partner of `text`, closest first."""
        found = self._memo.get(text)
        if found is None:
            mine = self._normal.get(text) or normalise(text)
            candidates: set[str] = set()
            for variant in _deletions(mine):
                candidates |= self._index.get(variant, set())
            pairs = []
            for other in candidates:
                if other == text:
                    continue
                theirs = self._normal[other]
                bound = allowed_edits(min(len(mine), len(theirs)))
                edits = distance(mine, theirs, bound)
                if edits <= bound:
                    pairs.append((other, edits))
            found = self._memo[text] = tuple(sorted(pairs, key=lambda p: (p[1], p[0])))
        return found


def _deletions(text: str) -> set[str]:
    found = {text}
    if len(text) >= 3:
        found.update(text[:i] + text[i + 1 :] for i in range(len(text)))
    if len(text) >= _TWO_EDITS:
        for once in list(found):
            found.update(once[:i] + once[i + 1 :] for i in range(len(once)))
    return found


def _steps(change: ResourceChange) -> tuple[str, ...] | None:
    """The steps of an address that carry names: module names and keys, the resource name and its key."""
    address = change.address
    if "[" not in address:  # the common case, without the tokenizer
        parts = address.split(".")
        i = 0
        while i + 1 < len(parts) and parts[i] == "module":
            i += 2
        rest = len(parts) - i
        if rest == 2 or (rest == 3 and parts[i] in ("data", "ephemeral")):
            return (*parts[1:i:2], parts[-1])
        return None
    parsed = parse_instance(address)
    if parsed is None:
        return None
    result: list[str] = []
    for module in parsed.modules:
        name, _, key = module.partition("[")
        result.append(name)
        if key:
            result.append("[" + key)
    result.append(parsed.resource.rsplit(".", 1)[-1])
    if parsed.key is not None:
        result.append(f"[{parsed.key}]")
    return tuple(result)


def _readable(step: str) -> str | None:
    """The name in a step; None for a count index, which is not a name anyone picked."""
    if step.startswith("["):
        key = step[1:-1]
        if key.isdigit():
            return None
        return key[1:-1] if key.startswith('"') and key.endswith('"') else key
    return step


@dataclass(frozen=True)
class Lookalikes:
    """A destructive change and the resources it could be mistaken for, closest first."""

    address: str
    closest: tuple[ConfusableName, ...]  # at most the `limit` closest
    total: int  # how many other resources are confusably close, shown or not


def find_confusable(
    changeset: ChangeSet,
    resources: Mapping[str, ResourceChange],
    attributes: Sequence[str] = ("name",),
    limit: int = 5,
) -> list[Lookalikes]:
    """Look-alikes of every destructive managed change among `resources` (plan and prior state), by address.

    Attribute values that are sensitive, or equal to a sensitive value of the plan, are never compared (a
    finding would print them). Only the `limit` closest pairs are built: a fleet of numbered stacks can give
    every change a hundred look-alikes, and a reviewer reads the first few and the count.
    """
    destructive = [c for c in changeset.changes if c.is_destructive and c.mode == "managed" and c.deposed is None]
    if not destructive:
        return []
    by_address = _by_address(destructive, resources, limit)
    by_attribute: dict[str, list[ConfusableName]] = {}
    for attribute in attributes:
        for pair in _by_attribute(destructive, resources, attribute, changeset.sensitive_literals):
            by_attribute.setdefault(pair.address, []).append(pair)
    result = []
    for change in destructive:
        closest, total = by_address.get(change.address, ((), 0))
        extra = by_attribute.get(change.address, [])
        if not closest and not extra:
            continue
        # An attribute look-alike whose address is also close was counted already.
        named = {p.other for p in closest}
        counted = {
            p.other for p in extra if p.other not in named and not _close_address(change, resources.get(p.other))
        }
        pairs = sorted([*closest, *extra], key=lambda p: (p.distance, p.other, p.attribute or ""))
        result.append(Lookalikes(change.address, tuple(pairs[:limit]), total + len(counted)))
    return result


def _close_address(change: ResourceChange, other: ResourceChange | None) -> bool:
    mine, theirs = _steps(change), _steps(other) if other is not None else None
    if mine is None or theirs is None or other is None or other.type != change.type or len(mine) != len(theirs):
        return False
    differ = [(a, b) for a, b in zip(mine, theirs, strict=True) if a != b]
    if len(differ) != 1:
        return False
    left, right = _readable(differ[0][0]), _readable(differ[0][1])
    return left is not None and right is not None and confusable(left, right) is not None


Bucket = tuple[str, str, int, tuple[str, ...]]


def _by_address(
    destructive: list[ResourceChange], resources: Mapping[str, ResourceChange], limit: int
) -> dict[str, tuple[tuple[ConfusableName, ...], int]]:
    wanted: set[Bucket] = set()
    mine: list[tuple[ResourceChange, tuple[str, ...]]] = []
    for change in destructive:
        parts = _steps(change)
        if parts is not None:
            mine.append((change, parts))
            wanted.update((change.mode, change.type, i, parts[:i] + parts[i + 1 :]) for i in range(len(parts)))
    # Index only the buckets a destructive change falls in: the rest of a large plan is never compared.
    buckets: dict[Bucket, dict[str, list[str]]] = {}
    types = {(c.mode, c.type) for c in destructive}
    for other in resources.values():
        if (other.mode, other.type) not in types:
            continue
        parts = _steps(other)
        if parts is None:
            continue
        for i in range(len(parts)):
            key = (other.mode, other.type, i, parts[:i] + parts[i + 1 :])
            if key in wanted:
                buckets.setdefault(key, {}).setdefault(parts[i], []).append(other.address)
    readable = {step: _readable(step) for bucket in buckets.values() for step in bucket}
    # Names are compared as they read (a for_each key without its brackets and quotes), each held to the
    # edits its own length allows.
    steps_named: dict[str, list[str]] = {}
    for step, name in readable.items():
        if name is not None:
            steps_named.setdefault(name, []).append(step)
    neighbours = _Neighbours(steps_named)
    # Buckets that differ only in their other steps often hold the same names (one per module instance of
    # a fleet): the look-alikes of a name in them are computed once per distinct content.
    contents: dict[frozenset[tuple[str, int]], int] = {}
    content_of = {
        key: contents.setdefault(frozenset((k, len(v)) for k, v in b.items()), len(contents))
        for key, b in buckets.items()
    }
    close: dict[tuple[str, int], tuple[tuple[tuple[str, int], ...], int]] = {}
    result: dict[str, tuple[tuple[ConfusableName, ...], int]] = {}
    for change, parts in mine:
        pairs: list[ConfusableName] = []
        total = 0
        for i, step in enumerate(parts):
            mine_name = readable.get(step)
            key = (change.mode, change.type, i, parts[:i] + parts[i + 1 :])
            bucket = buckets.get(key)
            if mine_name is None or bucket is None:
                continue
            memo_key = (step, content_of[key])
            found = close.get(memo_key)
            if found is None:
                matches = tuple(
                    (other, edits)
                    for other_name, edits in neighbours.of(mine_name)
                    for other in steps_named[other_name]
                    if other in bucket
                )
                found = close[memo_key] = (matches, sum(len(bucket[other]) for other, _ in matches))
            total += found[1]
            for other_step, edits in found[0]:  # closest first
                if len(pairs) >= limit:
                    break
                theirs = readable.get(other_step) or other_step
                pairs.extend(
                    ConfusableName(change.address, o, None, mine_name, theirs, edits) for o in bucket[other_step]
                )
        if total:
            pairs.sort(key=lambda p: (p.distance, p.other))
            result[change.address] = (tuple(pairs[:limit]), total)
    return result


def _name_value(change: ResourceChange, attribute: str, secrets: frozenset[str]) -> str | None:
    for values in (change.before, change.after):
        value = values.get(attribute) if isinstance(values, dict) else None
        if isinstance(value, str) and value and value != SENSITIVE_PLACEHOLDER and value not in secrets:
            return value
    return None


def _by_attribute(
    destructive: list[ResourceChange],
    resources: Mapping[str, ResourceChange],
    attribute: str,
    secrets: frozenset[str],
) -> list[ConfusableName]:
    types = {c.type for c in destructive}
    values: dict[str, dict[str, list[str]]] = {}  # type -> value -> addresses
    for other in resources.values():
        if other.type in types and other.mode == "managed":
            value = _name_value(other, attribute, secrets)
            if value is not None:
                values.setdefault(other.type, {}).setdefault(value, []).append(other.address)
    memo: dict[tuple[str, str], tuple[tuple[str, int], ...]] = {}
    result = []
    for change in destructive:
        value = _name_value(change, attribute, secrets)
        if value is None:
            continue
        close = memo.get((change.type, value))
        if close is None:
            pairs = ((other, confusable(value, other)) for other in values.get(change.type, {}))
            close = memo[(change.type, value)] = tuple((o, d) for o, d in pairs if d is not None)
        for other_value, edits in close:
            for other_address in values[change.type][other_value]:
                if other_address != change.address:
                    result.append(ConfusableName(change.address, other_address, attribute, value, other_value, edits))
    return result
