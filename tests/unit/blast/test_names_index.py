"""The look-alike index finds what comparing every pair finds: the same pairs, counts and closest names.

The reference below is the definition, pair by pair, with nothing indexed: it is slow (quadratic) and
obviously right. Random plans over a small alphabet make look-alikes of every kind (case, `-`/`_`, a
replaced, missing, extra or swapped character, two edits in long names) by the thousand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrail.core.blast.edits import NameIndex, confusable
from guardrail.core.blast.impact import known_resources
from guardrail.core.blast.names import ConfusableName, Lookalikes, _readable, _steps, find_confusable
from guardrail.core.change import ChangeSet, ResourceChange
from guardrail.core.values import SENSITIVE_PLACEHOLDER
from tests.unit.factories import change, changeset

# Few letters, so that names collide and differ by one or two edits often; long enough for two edits.
NAME_LETTERS = "abAB-_1"
names = st.text(NAME_LETTERS, min_size=1, max_size=12).map(lambda text: "r" + text)
keys = st.text(NAME_LETTERS + ". ", max_size=12)


def reference(
    cs: ChangeSet, resources: Mapping[str, ResourceChange], attributes: Sequence[str], limit: int
) -> list[Lookalikes]:
    """Every pair compared, as the rule is defined."""
    result = []
    for mine in cs.changes:
        if not (mine.is_destructive and mine.mode == "managed" and mine.deposed is None):
            continue
        pairs = []
        for other in resources.values():
            if other.address == mine.address or other.type != mine.type:
                continue
            if other.mode == mine.mode:
                pairs.extend(_address_pair(mine, other))
            for attribute in attributes:
                a, b = _value(mine, attribute, cs.sensitive_literals), _value(other, attribute, cs.sensitive_literals)
                edits = confusable(a, b) if a is not None and b is not None and other.mode == "managed" else None
                if edits is not None:
                    pairs.append(ConfusableName(mine.address, other.address, attribute, str(a), str(b), edits))
        if pairs:
            closest = sorted(pairs, key=lambda p: (p.distance, p.other, p.attribute or ""))[:limit]
            result.append(Lookalikes(mine.address, tuple(closest), len({p.other for p in pairs})))
    return result


def _address_pair(mine: ResourceChange, other: ResourceChange) -> list[ConfusableName]:
    a, b = _steps(mine), _steps(other)
    if a is None or b is None or len(a) != len(b):
        return []
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differ) != 1:
        return []
    left, right = _readable(a[differ[0]]), _readable(b[differ[0]])
    edits = confusable(left, right) if left is not None and right is not None else None
    if edits is None:
        return []
    return [ConfusableName(mine.address, other.address, None, str(left), str(right), edits)]


def _value(resource: ResourceChange, attribute: str, secrets: frozenset[str]) -> str | None:
    for values in (resource.before, resource.after):
        value = values.get(attribute) if isinstance(values, dict) else None
        if isinstance(value, str) and value and value != SENSITIVE_PLACEHOLDER and value not in secrets:
            return value
    return None


@st.composite
def addresses(draw: st.DrawFn) -> str:
    resource_type = draw(st.sampled_from(["aws_db_instance", "google_compute_instance"]))
    where = draw(st.sampled_from(["", "module.{}.", 'module.{}["{}"].', "module.{}[{}]."]))
    module = where.format(draw(names), draw(st.one_of(keys, st.integers(0, 12))))
    instance = draw(st.sampled_from(["", '["{}"]', "[{}]"])).format(draw(st.one_of(keys, st.integers(0, 12))))
    return f"{module}{resource_type}.{draw(names)}{instance}"


@st.composite
def plans(draw: st.DrawFn) -> ChangeSet:
    found: dict[str, ResourceChange] = {}
    for address in draw(st.lists(addresses(), min_size=1, max_size=40)):
        actions = draw(st.sampled_from([["delete"], ["delete", "create"], ["create", "delete"], ["no-op"], ["update"]]))
        values = st.none() | st.fixed_dictionaries({}, optional={"name": names, "title": names | st.just("")})
        before, after = draw(values), draw(values)
        found[address] = change(address, actions, before, after if actions != ["delete"] else None)
    literals = [v for c in found.values() for v in (c.before or {}).values() if isinstance(v, str)]
    secrets = draw(st.lists(st.sampled_from(literals), max_size=2)) if literals else []
    return replace(changeset(*found.values()), sensitive_literals=frozenset(secrets))


@settings(max_examples=300, deadline=None)
@given(plans(), st.integers(1, 6), st.sampled_from([("name",), ("name", "title"), ()]))
def test_the_index_finds_what_comparing_every_pair_finds(
    cs: ChangeSet, limit: int, attributes: tuple[str, ...]
) -> None:
    resources = known_resources(cs)
    assert find_confusable(cs, resources, attributes, limit) == reference(cs, resources, attributes, limit)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(NAME_LETTERS, max_size=13), max_size=40), st.text(NAME_LETTERS, max_size=13))
def test_a_name_index_agrees_with_confusable_on_every_pair(universe: list[str], query: str) -> None:
    index = NameIndex(universe)
    for name in [*universe[:10], query]:
        expected = {(other, confusable(name, other)) for other in universe if confusable(name, other) is not None}
        assert _close(index, name) == expected


def _close(index: NameIndex, name: str) -> set[tuple[str, int]]:
    return {(other, edits) for edits, level in enumerate(index.by_edits(name)) for other in level}


def test_the_closest_look_alikes_are_shown_whichever_step_they_differ_in() -> None:
    """Three modules one edit from prod-eu-1 hold a `main`; the delete's own module holds a `Main`, which
    differs only in case: with room for one look-alike, that one is the closest, though the module names
    come first in the address; the count holds all four."""
    deleted = change("module.prod-eu-1.aws_db_instance.main", ["delete"], {})
    same_module = change("module.prod-eu-1.aws_db_instance.Main", ["no-op"], {}, {})
    others = [
        change(f"module.{m}.aws_db_instance.main", ["no-op"], {}, {}) for m in ("prod-eu-2", "prod-eu-3", "prod-eu-4")
    ]
    cs = changeset(deleted, *others, same_module)
    [found] = find_confusable(cs, known_resources(cs), (), limit=1)
    assert [(p.other, p.distance) for p in found.closest] == [("module.prod-eu-1.aws_db_instance.Main", 0)]
    assert found.total == 4


def test_ten_thousand_numbered_names_have_their_neighbours() -> None:
    index = NameIndex(f"web-{i}" for i in range(10_000))
    close = dict(_close(index, "web-1234"))
    assert close["web-1235"] == 1  # replaced
    assert close["web-1243"] == 1  # swapped
    assert close["web-123"] == 1  # one shorter
    assert "web-1256" not in close  # two edits in a short name: a different name
    assert len(close) == sum(1 for i in range(10_000) if confusable("web-1234", f"web-{i}") is not None)
