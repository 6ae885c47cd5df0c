"""The look-alike rule's whole output on a moderately sized look-alike plan, pinned line for line.

The plan has what makes the rule slow at scale (300 for_each deletes keyed and named web-0 … web-299, each
with dozens of look-alikes by key and by name) beside look-alikes of every other kind: module steps, case
and `-`/`_` only, two edits in long names, counts past the names shown, and a sensitive value close to a
name, which must never be compared. Any change of a finding, of its order, of a count or of a word fails.
Regenerate the expected file only for an intended change of results:

    python -m tests.unit.blast.test_names_pinned > tests/unit/blast/data/lookalike_findings.txt
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from guardrail.core.change import ChangeSet, ResourceChange
from guardrail.core.rules.similar_names import SimilarNamesRule, SimilarNamesSettings
from guardrail.core.values import SENSITIVE_PLACEHOLDER
from tests.unit.factories import change, changeset

EXPECTED = Path(__file__).parent / "data" / "lookalike_findings.txt"
SECRET = "payments-primary-db"


def lookalike_plan() -> ChangeSet:
    changes: list[ResourceChange] = []
    for i in range(300):  # every delete has look-alikes by key and by the `name` attribute
        key = f"web-{i}"
        changes.append(change(f'google_compute_instance.web["{key}"]', ["delete"], {"name": key}))
    for i in range(0, 40, 3):  # kept instances of a sibling block, named like the deleted ones
        name = f"Web_{i}"
        changes.append(change(f"google_compute_instance.web_{i}", ["no-op"], {"name": name}, {"name": name}))
    for region in ("prod-eu-1", "prod-eu-2", "prod-eu-3", "prod-us-1", "Prod_EU_1"):
        database = f"module.{region}.aws_db_instance.main"
        actions = ["delete", "create"] if region == "prod-eu-2" else ["no-op"]
        changes.append(change(database, actions, {"name": f"orders-{region}"}, {"name": f"orders-{region}"}))
    for resource, name, actions in [
        ("payments_primary", "payments-primary", ["delete"]),
        ("paymnts_primry", "paymnts-primry", ["no-op"]),  # two edits in a long name
        ("payments_primray", "payments-primray", ["no-op"]),
        ("Payments_Primary", "Payments_Primary", ["create", "delete"]),
        ("payments_replica", "payments-replica", ["no-op"]),
    ]:
        values = {"name": name, "title": name.upper()}
        after = None if actions == ["delete"] else values
        changes.append(change(f"aws_rds_cluster.{resource}", actions, values, after))
    # A sensitive name one edit from a deleted one, and a value equal to the plan's secret: never compared.
    changes.append(change("aws_rds_cluster.vault", ["delete"], {"name": SENSITIVE_PLACEHOLDER}))
    changes.append(change("aws_rds_cluster.other", ["no-op"], {"name": SECRET}, {"name": SECRET}))
    changes.append(change("aws_rds_cluster.payments_primary_dc", ["delete"], {"name": "payments-primary-dc"}))
    return replace(changeset(*changes), sensitive_literals=frozenset({SECRET}))


def rendered() -> list[str]:
    rule = SimilarNamesRule(SimilarNamesSettings(attributes=("name", "title"), names_shown=3))
    return [f"{f.address}\t{f.enforcement.value}\t{f.message}" for f in rule.evaluate(lookalike_plan())]


def test_the_look_alike_findings_of_a_look_alike_plan_are_exactly_the_pinned_ones() -> None:
    found = rendered()
    expected = EXPECTED.read_text(encoding="utf-8").splitlines()
    assert len(found) == len(expected)
    for line, (got, want) in enumerate(zip(found, expected, strict=True), start=1):
        assert got == want, f"finding {line} differs"
    assert SECRET not in "\n".join(found)


if __name__ == "__main__":
    print("\n".join(rendered()))
