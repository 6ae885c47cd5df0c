"""Mutated real-world plans: the parser accepts exactly the plans the intake contract accepts, and reads
them faithfully; it refuses the rest with BadInputError naming the file, and nothing else happens.

The oracle (tests/adapters/oracle.py) reads each file with the json module and says, from DESIGN.md's
contract, whether it is a plan that must be accepted. "Faithful": the accepted plan's changes are exactly
the file's resource_changes entries, in order, each counted as the contract says. A parser that refused
everything would fail here, as would one that accepted what is not a plan.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from guardrail.adapters.terraform.encoding import to_utf8
from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.errors import BadInputError
from tests.adapters.oracle import entries, expected_summary, refusal, strict_json
from tests.conftest import PLANS_DIR, corpus_plans

# Small plans keep each example around a millisecond; the corpus has plenty below this size.
MAX_SIZE = 40_000
PLANS = [p for p in corpus_plans() if p.stat().st_size <= MAX_SIZE]
# GUARDRAIL_FUZZ_EXAMPLES raises the count for a longer soak; CI keeps the default, which runs in seconds.
FAST = settings(
    max_examples=int(os.environ.get("GUARDRAIL_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.skipif(not PLANS, reason=f"real-world corpus not found at {PLANS_DIR}")

Path_ = tuple[str | int, ...]
ACTION_WORDS = ["create", "delete", "update", "no-op", "read", "forget", "replace", "Create", "", "delete "]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@cache
def original(path: Path) -> bytes:
    return path.read_bytes()


def fresh(path: Path) -> Any:
    return json.loads(original(path))  # a new tree each time: mutations must not leak between examples


def paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every path below the root, parents before children."""
    found: list[Path_] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def parent_of(document: Any, path: Path_) -> Any:
    node = document
    for key in path[:-1]:
        node = node[key]
    return node


def retyped(value: Any) -> list[Any]:
    """Values of another JSON type than `value`, built from it where that makes sense."""
    return [None, True, 0, -1, 1.5, "", "x", [], {}, [value], {"value": value}, json.dumps(value)]


def mutate_tree(data: st.DataObject, document: Any) -> None:
    """Apply one structural mutation in place, biased towards resource_changes where the risk is."""
    candidates = paths(document)
    in_changes = [p for p in candidates if p[:1] == ("resource_changes",)]
    if len(in_changes) > 0 and data.draw(st.booleans(), label="inside resource_changes"):
        candidates = in_changes
    if not candidates:
        return
    path = data.draw(st.sampled_from(candidates), label="path")
    parent, key = parent_of(document, path), path[-1]
    operation = data.draw(st.sampled_from(["drop", "retype", "random", "actions"]), label="operation")
    if operation == "drop":
        del parent[key]
    elif operation == "retype":
        parent[key] = data.draw(st.sampled_from(retyped(parent[key])), label="new type")
    elif operation == "random":
        parent[key] = data.draw(json_values, label="random JSON")
    else:
        changes = document.get("resource_changes") if isinstance(document, dict) else None
        if isinstance(changes, list) and changes and isinstance(changes[0], dict):
            entry = changes[data.draw(st.integers(0, len(changes) - 1), label="entry")]
            if isinstance(entry, dict) and isinstance(entry.get("change"), dict):
                actions = st.lists(st.sampled_from(ACTION_WORDS), max_size=3)
                entry["change"]["actions"] = data.draw(actions, label="actions")


_UNREADABLE = object()


def assert_contract_kept(data: bytes, source: str) -> bool:
    """Whether the parser accepted `data`, having checked that the contract says it must."""
    try:
        document: Any = json.loads(to_utf8(data))
        expected = refusal(document)
    except ValueError:  # not text, or not JSON
        document, expected = _UNREADABLE, "not JSON text"
    refused = ""
    try:
        changeset = parse_plan(data, source).changeset
    except BadInputError as error:
        refused = str(error)
    if refused:
        assert source in refused, "a refusal must name the file"
        # A stricter JSON reader may refuse a lone surrogate or an infinite number the json module takes.
        assert expected is not None or not strict_json(document), f"a plan the contract accepts was refused: {refused}"
        return False
    assert expected is None, f"accepted what the contract refuses: {expected}"
    listed = entries(document)
    assert len(changeset.changes) == len(listed), "an accepted plan must not drop or add an entry"
    assert [c.address for c in changeset.changes] == [rc["address"] for rc in listed]
    assert changeset.summary() == expected_summary(document)
    return True


@FAST
@given(data=st.data())
def test_structural_mutations_are_accepted_or_refused_as_the_contract_says(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    document = fresh(path)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutate_tree(data, document)
    encoded = json.dumps(document, indent=data.draw(st.sampled_from([None, 2]), label="indent")).encode()
    event("accepted" if assert_contract_kept(encoded, path.name) else "refused")


@FAST
@given(data=st.data())
def test_truncated_plans_are_refused(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    raw = original(path)
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    # A prefix of a JSON object is never a complete JSON object, barring trailing whitespace.
    if raw[cut:].strip(b" \t\r\n\x00") == b"":
        return
    with pytest.raises(BadInputError):
        parse_plan(raw[:cut], path.name)


@FAST
@given(data=st.data())
def test_flipped_bytes_are_accepted_or_refused_as_the_contract_says(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    raw = bytearray(original(path))
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        position = data.draw(st.integers(0, len(raw) - 1), label="position")
        raw[position] ^= data.draw(st.integers(1, 255), label="mask")
    event("accepted" if assert_contract_kept(bytes(raw), path.name) else "refused")


@FAST
@given(data=st.data())
def test_random_action_lists_are_counted_or_refused_as_the_contract_says(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    document = fresh(path)
    for entry in entries(document) if isinstance(document, dict) else []:
        if data.draw(st.booleans(), label="replace actions"):
            entry["change"]["actions"] = data.draw(st.lists(st.sampled_from(ACTION_WORDS), max_size=3))
    event("accepted" if assert_contract_kept(json.dumps(document).encode(), path.name) else "refused")


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_every_corpus_plan_the_contract_accepts_is_read_faithfully(path: Path) -> None:
    assert assert_contract_kept(original(path), path.name) is (refusal(fresh(path)) is None)


def test_the_corpus_gives_the_properties_plans_to_accept() -> None:
    accepted = [path.name for path in PLANS if refusal(fresh(path)) is None]
    assert len(accepted) >= len(PLANS) // 2, "the properties need real plans the contract accepts"
