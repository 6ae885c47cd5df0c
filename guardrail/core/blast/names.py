"""Names too alike: for each destructive change, the other resources a reviewer could mistake it for.

Two resources of one type are confusable when their addresses differ in a single step (a module name, a
resource name, a for_each key) by at most one or two edits (a swapped pair of characters counts as one), or
only by case, `-` and `_`; or when their `name` attributes do. Count indices never count: `web[0]` and
`web[1]` are instances of one block, chosen by arithmetic rather than by name.

Names are found through a deletion index (edits.NameIndex), never by comparing every pair: a plan that
deletes ten thousand `web-N` instances is checked in about the time its parse takes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain

from guardrail.core.blast.address import parse_instance
from guardrail.core.blast.edits import EDIT_LEVELS, ByEdits, NameIndex
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


def _steps(change: ResourceChange) -> tuple[str, ...] | None:
    """The steps of an address that carry names: module names and keys, the resource name and its key."""
    parsed = parse_instance(change.address)
    if parsed is None:
        return None
    if "[" not in change.address:  # no instance key anywhere: the common case
        return (*parsed.module_names, parsed.name)
    result: list[str] = []
    for module in parsed.modules:
        name, _, key = module.partition("[")
        result.append(name)
        if key:
            result.append("[" + key)
    result.append(parsed.name)
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


# A look-alike before it is shown: (edits, other address, attribute or "", mine, theirs), ranked as listed.
_Pair = tuple[int, str, str, str, str]


class _Filed:
    """Addresses filed by name, each under one name: one step of a bucket, or one attribute's values.

    Looked up by the dozen names for each of thousands of changes, so built-ins do the per-address work.
    Nearly every name has one address (a for_each key, a `name` value): it is held as it is rather than in a
    list of its own, which spares building and walking a list per name found.
    """

    __slots__ = ("_first", "_more", "name_of")

    def __init__(self) -> None:
        self._first: dict[str, str] = {}  # name -> the first address filed under it
        self._more: dict[str, list[str]] = {}  # name -> the others, for the few names shared
        self.name_of: dict[str, str] = {}  # address -> the name it is filed under

    def add(self, name: str, address: str) -> None:
        if name in self._first:
            self._more.setdefault(name, []).append(address)
        else:
            self._first[name] = address
        self.name_of[address] = name

    def names(self) -> Iterable[str]:
        return self._first.keys()

    def __len__(self) -> int:
        """How many names."""
        return len(self._first)

    def under(self, names: Sequence[str]) -> list[str]:
        """The addresses filed under any of `names` (an address is never empty, so `filter` keeps them)."""
        found = list(filter(None, map(self._first.get, names)))
        if self._more:
            found.extend(chain.from_iterable(filter(None, map(self._more.get, names))))
        return found


# Where a change's look-alikes are found: (attribute or "" for an address step, the change's name there, the
# names close to it by edits, the addresses filed by name).
_Source = tuple[str, str, ByEdits, _Filed]


def find_confusable(
    changeset: ChangeSet,
    resources: Mapping[str, ResourceChange],
    attributes: Sequence[str] = ("name",),
    limit: int = 5,
) -> list[Lookalikes]:
    """Look-alikes of every destructive managed change among `resources` (plan and prior state), by address.

    Attribute values that are sensitive, or equal to a sensitive value of the plan, are never compared (a
    finding would print them). `total` counts every other resource that is close by address or by an
    attribute; only the `limit` closest pairs are built: a fleet of numbered stacks can give every change a
    hundred look-alikes, and a reviewer reads the first few and the count.
    """
    destructive = [c for c in changeset.changes if c.is_destructive and c.mode == "managed" and c.deposed is None]
    if not destructive:
        return []
    with collector_paused():
        return _find(changeset, destructive, resources, attributes, limit)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that builds many small acyclic containers.

    The index and the pairs are a million of them: the collector finds nothing in them and, walking them
    again and again as they grow, took a fifth of the time. Nesting is harmless.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _find(
    changeset: ChangeSet,
    destructive: list[ResourceChange],
    resources: Mapping[str, ResourceChange],
    attributes: Sequence[str],
    limit: int,
) -> list[Lookalikes]:
    by_address = _AddressIndex(destructive, resources)
    by_value = [_ValueIndex(destructive, resources, a, changeset.sensitive_literals) for a in attributes]
    # One index of every name compared, by address or by value: a name's look-alikes are found once.
    names = NameIndex([*by_address.names(), *(name for index in by_value for name in index.names())])
    result = []
    for change in destructive:
        sources = [*by_address.sources(change, names), *(s for index in by_value for s in index.sources(change, names))]
        found = _closest(sources, limit)
        if found is not None:
            shown, total = found
            closest = tuple(
                ConfusableName(change.address, other, attribute or None, mine, theirs, edits)
                for edits, other, attribute, mine, theirs in shown
            )
            result.append(Lookalikes(change.address, closest, total))
    return result


def _closest(sources: list[_Source], limit: int) -> tuple[list[_Pair], int] | None:
    """The `limit` closest pairs and how many other resources are close, or None when none is."""
    others: set[str] = set()
    ranked: list[_Pair] = []
    # Fewer edits rank first: once `limit` pairs are in, the pairs of more edits are only counted.
    for edits in range(len(EDIT_LEVELS)):
        counted_only = len(ranked) >= limit
        for attribute, mine, close, filed in sources:
            level = close[edits]
            if not level:
                continue
            found = filed.under(level)
            others.update(found)
            if not counted_only:
                # This source's `limit` first by address are all it can add at this level; only those need
                # the name they were found under.
                found.sort()
                ranked.extend([(edits, other, attribute, mine, filed.name_of[other]) for other in found[:limit]])
    if not others:
        return None
    # Pairs rank as tuples: edits, then the other address, then the attribute ("" for the address).
    return sorted(ranked)[:limit], len(others)


Bucket = tuple[str, str, int, tuple[str, ...]]  # mode, type, the step that differs, the other steps


class _AddressIndex:
    """The resources whose address differs from a destructive change's in one step, by a confusable name.

    Resources are filed in buckets by everything but one step: two addresses that differ in exactly that
    step share its bucket, under the name in that step. Only the buckets a destructive change falls in are
    kept. Names are compared as they read (a for_each key without its brackets and quotes), each held to
    the edits its own length allows; a count index is no name.
    """

    def __init__(self, destructive: list[ResourceChange], resources: Mapping[str, ResourceChange]) -> None:
        # The buckets a destructive change falls in are made up front, and each change keeps its own with its
        # name in that step: finding its look-alikes, or filing it, builds and hashes no bucket key again.
        self._buckets: dict[Bucket, _Filed] = {}
        self._own: dict[str, list[tuple[str | None, _Filed]]] = {}  # the steps of each destructive change
        for change in destructive:
            parts = _steps(change)
            if parts is not None:
                steps: list[tuple[str | None, _Filed]] = []
                self._own[change.address] = steps
                for step, key in zip(parts, _buckets(change, parts), strict=True):
                    if key not in self._buckets:
                        self._buckets[key] = _Filed()
                    steps.append((_readable(step), self._buckets[key]))
        types = {(c.mode, c.type) for c in destructive}
        for other in resources.values():
            own = self._own.get(other.address)  # a destructive change is also among the resources
            if own is not None:
                for name, bucket in own:
                    if name is not None:
                        bucket.add(name, other.address)
                continue
            parts = _steps(other) if (other.mode, other.type) in types else None
            if parts is None:
                continue
            for i, key in enumerate(_buckets(other, parts)):
                name = _readable(parts[i])
                found = self._buckets.get(key)
                if name is not None and found is not None:
                    found.add(name, other.address)

    def names(self) -> Iterable[str]:
        """Every name in a step of the buckets kept."""
        return {name for bucket in self._buckets.values() for name in bucket.names()}

    def sources(self, change: ResourceChange, names: NameIndex) -> list[_Source]:
        """Per step of the change's address: the resources that differ from it in that step alone."""
        return [
            ("", mine, names.by_edits(mine), bucket)
            for mine, bucket in self._own.get(change.address, ())
            if mine is not None and len(bucket) > 1
        ]


def _buckets(change: ResourceChange, parts: tuple[str, ...]) -> list[Bucket]:
    """The bucket of each step of an address: every other step, its place, and the resource's kind."""
    return [(change.mode, change.type, i, parts[:i] + parts[i + 1 :]) for i in range(len(parts))]


class _ValueIndex:
    """The resources of a destructive change's type whose `attribute` value is confusably close to its own."""

    def __init__(
        self,
        destructive: list[ResourceChange],
        resources: Mapping[str, ResourceChange],
        attribute: str,
        secrets: frozenset[str],
    ) -> None:
        self._attribute, self._secrets = attribute, secrets
        types = {c.type for c in destructive}
        self._values: dict[str, _Filed] = {}  # by type
        for other in resources.values():
            if other.type in types and other.mode == "managed":
                value = _name_value(other, attribute, secrets)
                if value is not None:
                    filed = self._values.get(other.type)
                    if filed is None:
                        filed = self._values[other.type] = _Filed()
                    filed.add(value, other.address)

    def names(self) -> Iterable[str]:
        """Every value compared."""
        return (value for values in self._values.values() for value in values.names())

    def sources(self, change: ResourceChange, names: NameIndex) -> list[_Source]:
        """The resources of the change's type whose value is close to its own (its own is never close)."""
        mine = _name_value(change, self._attribute, self._secrets)
        values = self._values.get(change.type)
        if mine is None or values is None or len(values) < 2:
            return []
        return [(self._attribute, mine, names.by_edits(mine), values)]


def _name_value(change: ResourceChange, attribute: str, secrets: frozenset[str]) -> str | None:
    for values in (change.before, change.after):
        value = values.get(attribute) if isinstance(values, dict) else None
        if isinstance(value, str) and value and value != SENSITIVE_PLACEHOLDER and value not in secrets:
            return value
    return None
