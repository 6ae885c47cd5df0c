"""Every real-world plan of the corpus is read, or refused cleanly, and every change is counted once.

The expected counts come from the file itself, read with the json module (which detects UTF-8, UTF-8
with BOM and UTF-16 on its own), and the contract's table of action lists, not from the parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.errors import BadInputError
from tests.adapters.oracle import entries, expected_summary
from tests.conftest import corpus_params


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_plan_is_read_or_refused_cleanly(path: Path) -> None:
    data = path.read_bytes()
    refusal = ""
    try:
        changeset = parse_plan(data, str(path)).changeset
    except BadInputError as refused:
        refusal = str(refused)
    if refusal:
        assert str(path) in refusal, "a refusal must name the file"
        return
    document = json.loads(data)
    assert changeset.summary() == expected_summary(document)
    assert [c.address for c in changeset.changes] == [rc["address"] for rc in entries(document)]
    assert sum(changeset.summary().values()) == len(changeset.changes)
    assert changeset.fingerprint.startswith("sha256:")
    assert changeset.source == str(path)


def test_corpus_holds_both_outcomes(corpus_dir: Path) -> None:
    # Guards the test above against passing vacuously: most plans are read, the broken ones refused.
    read, refused = 0, 0
    for path in sorted((corpus_dir / "terraform-plans").rglob("*.json")):
        try:
            parse_plan(path.read_bytes(), str(path))
            read += 1
        except BadInputError:
            refused += 1
    assert read >= 60
    assert 1 <= refused <= 5


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("checkov/terraform__runner__resources__plan__corrupted-tfplan.json", "state"),
        ("opentofu/plan-error.json", "errored"),
    ],
)
def test_corpus_plans_that_are_not_plans_are_refused(corpus_dir: Path, name: str, reason: str) -> None:
    path = corpus_dir / "terraform-plans" / name
    with pytest.raises(BadInputError, match=reason):
        parse_plan(path.read_bytes(), str(path))


@pytest.mark.parametrize(
    "name",
    [
        "checkov/terraform__parser__resources__plan_encodings__tfplan_win_utf16.json",
        "checkov/terraform__runner__resources__plan_with_utf_16_encoding__tfplan.json",
        "checkov/terraform__runner__resources__plan_with_lifecycle_check__tfplan.json",
    ],
)
def test_corpus_utf16_plans_are_read(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / "terraform-plans" / name
    changeset = parse_plan(path.read_bytes(), str(path)).changeset
    assert changeset.changes
    assert changeset.summary() == expected_summary(json.loads(path.read_bytes()))
