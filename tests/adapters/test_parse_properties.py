"""Mutated real-world plans: the parser returns a faithful ChangeSet or raises BadInputError, nothing else.

"Faithful": when a mutated plan is accepted, its changes are exactly the file's resource_changes entries,
in order, each counted as the contract says (the json module reads the file as the oracle).
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
from tests.adapters.oracle import entries, expected_summary
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


def assert_faithful_or_refused(data: bytes, source: str) -> None:
    refusal = ""
    try:
        changeset = parse_plan(data, source).changeset
    except BadInputError as refused:
        refusal = str(refused)
    event("refused" if refusal else "accepted")
    if refusal:
        assert source in refusal, "a refusal must name the file"
        return
    document = json.loads(to_utf8(data))  # accepted: it must be JSON, and the oracle reads it too
    listed = entries(document)
    assert len(changeset.changes) == len(listed), "an accepted plan must not drop or add an entry"
    assert [c.address for c in changeset.changes] == [rc["address"] for rc in listed]
    assert changeset.summary() == expected_summary(document)


@FAST
@given(data=st.data())
def test_structural_mutations_are_parsed_faithfully_or_refused(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    document = fresh(path)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutate_tree(data, document)
    encoded = json.dumps(document, indent=data.draw(st.sampled_from([None, 2]), label="indent")).encode()
    assert_faithful_or_refused(encoded, path.name)


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
def test_flipped_bytes_are_parsed_faithfully_or_refused(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    raw = bytearray(original(path))
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        position = data.draw(st.integers(0, len(raw) - 1), label="position")
        raw[position] ^= data.draw(st.integers(1, 255), label="mask")
    assert_faithful_or_refused(bytes(raw), path.name)


@FAST
@given(data=st.data())
def test_random_action_lists_are_counted_or_refused(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PLANS), label="plan")
    document = fresh(path)
    for entry in entries(document) if isinstance(document, dict) else []:
        if data.draw(st.booleans(), label="replace actions"):
            entry["change"]["actions"] = data.draw(st.lists(st.sampled_from(ACTION_WORDS), max_size=3))
    assert_faithful_or_refused(json.dumps(document).encode(), path.name)
