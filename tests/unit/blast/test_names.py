"""Names too alike: distance, what counts as confusable, and the finding naming both resources."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from guardrail.core.blast.edits import confusable, distance
from guardrail.core.rules.similar_names import SimilarNamesRule, SimilarNamesSettings
from guardrail.core.values import SENSITIVE_PLACEHOLDER
from guardrail.core.verdict import Enforcement
from tests.unit.factories import change, changeset


def reference_distance(a: str, b: str) -> int:
    """Textbook optimal string alignment distance, full table, no shortcuts."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        table[i][0] = i
    for j in range(len(b) + 1):
        table[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
    return table[-1][-1]


@given(st.text("ab1-", max_size=9), st.text("ab1-", max_size=9), st.integers(0, 3))
def test_bounded_distance_agrees_with_the_full_table(a: str, b: str, bound: int) -> None:
    assert distance(a, b, bound) == min(reference_distance(a, b), bound + 1)


def test_what_counts_as_confusable() -> None:
    assert confusable("prod-db-1", "prod-db-2") == 1
    assert confusable("cluster-12", "cluster-21") == 1  # swapped digits
    assert confusable("prod_eu_west_1", "prod-eu-west-1") == 0
    assert confusable("ProdCluster", "prodcluster") == 0
    assert confusable("payments-primary", "payments-primry") == 1
    assert confusable("payments-primary", "paymnts-primry") == 2
    assert confusable("stack_12", "stack_37") is None  # two edits in a short name: a different name
    assert confusable("a", "b") is None
    assert confusable("same", "same") is None
    assert confusable("web", "api") is None


def rule_findings(*changes: object, settings: SimilarNamesSettings | None = None) -> list[tuple[str | None, str]]:
    rule = SimilarNamesRule(settings or SimilarNamesSettings())
    return [(f.address, f.message) for f in rule.evaluate(changeset(*changes))]  # type: ignore[arg-type]


def test_destructive_change_next_to_a_look_alike_module_is_reported_naming_both() -> None:
    findings = rule_findings(
        change("module.prod-eu-1.aws_eks_cluster.main", ["delete"], {"name": "eu1"}),
        change("module.prod-eu-2.aws_eks_cluster.main", ["no-op"], {"name": "eu2"}, {"name": "eu2"}),
        change("module.staging.aws_eks_cluster.main", ["no-op"], {"name": "stg"}, {"name": "stg"}),
        change("module.prod-eu-2.aws_eks_node_group.main", ["no-op"], {}, {}),
    )
    assert len(findings) == 1
    address, message = findings[0]
    assert address == "module.prod-eu-1.aws_eks_cluster.main"
    assert "module.prod-eu-2.aws_eks_cluster.main ('prod-eu-1' vs 'prod-eu-2': 1 edit)" in message
    assert "staging" not in message
    assert "node_group" not in message  # another type is not a look-alike


def test_name_attributes_are_compared_and_only_destructive_changes_are_checked() -> None:
    findings = rule_findings(
        change("aws_db_instance.orders", ["delete", "create"], {"name": "orders-primary"}, {"name": "orders-primary"}),
        change("aws_db_instance.billing", ["no-op"], {"name": "Orders_Primary"}, {"name": "Orders_Primary"}),
        change("aws_db_instance.ordersx", ["update"], {"name": "x"}, {"name": "y"}),
    )
    assert findings == [
        (
            "aws_db_instance.orders",
            "replace of a resource whose name is close to 2 others: aws_db_instance.billing (name 'orders-primary' "
            "vs 'Orders_Primary': differs only in case, '-' or '_'); aws_db_instance.ordersx ('orders' vs "
            "'ordersx': 1 edit); check this is the one you meant",
        )
    ]


def test_count_siblings_are_not_look_alikes_but_for_each_keys_are() -> None:
    assert (
        rule_findings(change("aws_instance.web[3]", ["delete"], {}), change("aws_instance.web[4]", ["no-op"], {}, {}))
        == []
    )
    found = rule_findings(
        change('aws_instance.web["blue-01"]', ["delete"], {}), change('aws_instance.web["blue-10"]', ["no-op"], {}, {})
    )
    assert len(found) == 1
    assert "'blue-01' vs 'blue-10': 1 edit" in found[0][1]


def test_a_for_each_key_is_held_to_the_edits_its_own_length_allows() -> None:
    """The key's brackets and quotes are not part of the name: `["stack_12"]` is an 8-character name, in
    which two edits make a different name, as they do for a resource named stack_12."""

    def keyed(mine: str, theirs: str) -> list[tuple[str | None, str]]:
        return rule_findings(
            change(f'aws_instance.web["{mine}"]', ["delete"], {}),
            change(f'aws_instance.web["{theirs}"]', ["no-op"], {}, {}),
        )

    assert keyed("stack_12", "stack_37") == []
    assert keyed("web-12", "web-37") == []
    assert keyed("web-1234", "web-1256") == []
    [(_, one_edit)] = keyed("web-1234", "web-1235")
    assert "'web-1234' vs 'web-1235': 1 edit" in one_edit
    [(_, two_edits)] = keyed("payments-primary", "paymnts-primry")
    assert "'payments-primary' vs 'paymnts-primry': 2 edits" in two_edits


def test_sensitive_names_are_never_compared_or_printed() -> None:
    secret = "tenant-alpha-7"
    hidden = change("aws_db_instance.a", ["delete"], {"name": SENSITIVE_PLACEHOLDER})
    other = change("aws_db_instance.b", ["no-op"], {"name": secret}, {"name": secret})
    cs = replace(changeset(hidden, other), sensitive_literals=frozenset({secret}))
    assert list(SimilarNamesRule().evaluate(cs)) == []


def test_enforcement_and_the_number_of_names_shown_are_settings() -> None:
    changes = [change("aws_s3_bucket.logs-1", ["delete"], {})]
    changes += [change(f"aws_s3_bucket.logs-{i}", ["no-op"], {}, {}) for i in range(2, 9)]
    rule = SimilarNamesRule(SimilarNamesSettings(enforcement=Enforcement.SOFT, names_shown=2))
    (finding,) = rule.evaluate(changeset(*changes))
    assert finding.enforcement is Enforcement.SOFT
    assert finding.message.count("1 edit") == 2
    assert "and 5 more" in finding.message
    assert "close to 7 others" in finding.message
