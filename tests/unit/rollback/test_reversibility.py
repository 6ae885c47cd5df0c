"""Reversibility classes of realistic resource shapes: the corpus's own plans and hand-made ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.change import Action
from guardrail.core.matching import Selector
from guardrail.core.rollback.reversibility import (
    IrreversibleMark,
    Reversibility,
    ReversibilityPolicy,
    RollbackAssessment,
    assess,
)
from guardrail.core.rules.reversibility import ReversibilityRule, ReversibilitySettings
from guardrail.core.verdict import Enforcement
from tests.unit.factories import change, changeset

REVERSIBLE, LOSSY, IRREVERSIBLE = Reversibility.REVERSIBLE, Reversibility.LOSSY, Reversibility.IRREVERSIBLE


def classes(assessment: RollbackAssessment) -> dict[str, Reversibility]:
    return {entry.address: entry.reversibility for entry in assessment.changes}


def reason_of(assessment: RollbackAssessment, address: str) -> str:
    entry = assessment.of(address)
    assert entry is not None, f"{address} has no reversibility entry"
    return entry.reason


def corpus_plan(corpus_dir: Path, name: str) -> RollbackAssessment:
    path = corpus_dir / "terraform-plans" / name
    return assess(parse_plan(path.read_bytes(), str(path)).changeset)


def test_corpus_secret_replaced_is_irreversible_its_name_is_held(corpus_dir: Path) -> None:
    found = corpus_plan(corpus_dir, "checkov/terraform__runner__resources__plan_with_deleted_resources__tfplan.json")
    assert classes(found) == {"aws_secretsmanager_secret.default": IRREVERSIBLE}
    assert "recovery window" in reason_of(found, "aws_secretsmanager_secret.default")


def test_corpus_creates_are_reversible(corpus_dir: Path) -> None:
    found = corpus_plan(
        corpus_dir, "checkov/terraform__checks__resource__aws__example_SecretManagerSecretEncrypted__tfplan.json"
    )
    assert classes(found) == {"aws_secretsmanager_secret.not_specified": REVERSIBLE}
    assert reason_of(found, "aws_secretsmanager_secret.not_specified") == "a create: rolling back deletes it"


def test_corpus_delete_and_update_of_stateless_resources_are_reversible(corpus_dir: Path) -> None:
    found = corpus_plan(corpus_dir, "opentofu/basic-delete.json")
    assert classes(found) == {"test_instance.test": REVERSIBLE, "test_instance.test-delete": REVERSIBLE}
    assert "re-created from its configuration" in reason_of(found, "test_instance.test-delete")
    replaced = corpus_plan(corpus_dir, "opentofu/requires-replace.json")
    assert classes(replaced) == {"test_instance.test": REVERSIBLE}


def test_database_deleted_without_a_final_snapshot_is_lossy() -> None:
    before = {"identifier": "orders", "skip_final_snapshot": True, "final_snapshot_identifier": None}
    found = assess(changeset(change("aws_db_instance.orders", ["delete"], before=before)))
    assert classes(found) == {"aws_db_instance.orders": LOSSY}
    assert "comes back empty" in reason_of(found, "aws_db_instance.orders")


def test_database_with_a_named_final_snapshot_is_reversible_and_names_it() -> None:
    before = {"skip_final_snapshot": False, "final_snapshot_identifier": "orders-final"}
    found = assess(changeset(change("aws_db_instance.orders", ["delete", "create"], before=before)))
    assert classes(found) == {"aws_db_instance.orders": REVERSIBLE}
    assert "final_snapshot_identifier = orders-final" in reason_of(found, "aws_db_instance.orders")


@pytest.mark.parametrize(
    "before",
    [
        {"skip_final_snapshot": True, "final_snapshot_identifier": "orders-final"},  # named, but skipped
        {"final_snapshot_identifier": "orders-final"},  # whether it is skipped is not known: not counted on
        {"skip_final_snapshot": False, "final_snapshot_identifier": ""},
    ],
)
def test_a_snapshot_counts_only_when_named_and_not_skipped(before: dict[str, Any]) -> None:
    found = assess(changeset(change("aws_rds_cluster.main", ["delete"], before=before)))
    assert classes(found) == {"aws_rds_cluster.main": LOSSY}


def test_elasticache_final_snapshot_needs_no_skip_switch() -> None:
    before = {"final_snapshot_identifier": "cache-final"}
    found = assess(changeset(change("aws_elasticache_cluster.c", ["delete"], before=before)))
    assert classes(found) == {"aws_elasticache_cluster.c": REVERSIBLE}


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("aws_s3_bucket.logs", "any other account may take it"),
        ("google_storage_bucket.logs", "anyone may reuse the name"),
        ("azurerm_key_vault.main", "soft-deleted"),
        ("aws_kms_key.data", "cannot be decrypted"),
        ("google_project.main", "can never be used again"),
    ],
)
def test_reserved_names_make_a_delete_irreversible(address: str, words: str) -> None:
    found = assess(changeset(change(address, ["delete"], before={"name": "x"})))
    assert classes(found) == {address: IRREVERSIBLE}
    assert words in reason_of(found, address)


def test_kubernetes_minor_upgrade_is_irreversible_patch_is_not() -> None:
    minor = change(
        "azurerm_kubernetes_cluster.prod",
        ["update"],
        before={"kubernetes_version": "1.29.7"},
        after={"kubernetes_version": "1.30.4"},
    )
    patch = change(
        "google_container_node_pool.gpu",
        ["update"],
        before={"version": "1.30.1-gke.1"},
        after={"version": "1.30.5-gke.2"},
    )
    found = assess(changeset(minor, patch))
    assert classes(found) == {
        "azurerm_kubernetes_cluster.prod": IRREVERSIBLE,
        "google_container_node_pool.gpu": REVERSIBLE,
    }
    assert "1.29.7 -> 1.30.4" in reason_of(found, "azurerm_kubernetes_cluster.prod")


def test_kubernetes_version_known_only_after_apply_is_irreversible_and_unknown() -> None:
    upgrade = change(
        "aws_eks_cluster.main",
        ["update"],
        before={"version": "1.29"},
        after={"version": None},
        after_unknown={"version": True},
    )
    entry = assess(changeset(upgrade)).of("aws_eks_cluster.main")
    assert entry is not None
    assert entry.reversibility is IRREVERSIBLE
    assert entry.unknown


@pytest.mark.parametrize(
    ("address", "before", "after"),
    [
        ("azurerm_key_vault.kv", {"purge_protection_enabled": False}, {"purge_protection_enabled": True}),
        ("azurerm_storage_account.sa", {"account_kind": "Storage"}, {"account_kind": "StorageV2"}),
        ("aws_db_instance.db", {"engine_version": "15.4"}, {"engine_version": "16.1"}),
        ("google_sql_database_instance.db", {"database_version": "POSTGRES_14"}, {"database_version": "POSTGRES_15"}),
        (
            "aws_s3_bucket_versioning.v",
            {"versioning_configuration": [{"status": "Disabled"}]},
            {"versioning_configuration": [{"status": "Enabled"}]},
        ),
    ],
)
def test_one_way_settings_make_an_update_irreversible(
    address: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    found = assess(changeset(change(address, ["update"], before=before, after=after)))
    assert classes(found) == {address: IRREVERSIBLE}


def test_the_other_direction_of_a_one_way_setting_is_an_ordinary_update() -> None:
    relax = change(
        "azurerm_key_vault.kv",
        ["update"],
        before={"purge_protection_enabled": True, "tags": {"a": "1"}},
        after={"purge_protection_enabled": True, "tags": {"a": "2"}},
    )
    assert classes(assess(changeset(relax))) == {"azurerm_key_vault.kv": REVERSIBLE}


def test_forget_keeps_the_object_and_says_how_to_take_it_back() -> None:
    found = assess(changeset(change("aws_instance.web", ["forget"], before={"id": "i-1"})))
    assert classes(found) == {"aws_instance.web": REVERSIBLE}
    assert "import" in reason_of(found, "aws_instance.web")


def test_no_ops_reads_and_data_sources_are_not_classified() -> None:
    found = assess(
        changeset(
            change("aws_instance.same", ["no-op"]),
            change("data.aws_ami.x", ["read"], type_="aws_ami", mode="data"),
            change("aws_instance.new", ["create"]),
        )
    )
    assert classes(found) == {"aws_instance.new": REVERSIBLE}


def test_extra_stateful_types_hold_data() -> None:
    policy = ReversibilityPolicy(extra_stateful={"my_store": "database"})
    found = assess(changeset(change("my_store.main", ["delete"], before={})), policy)
    assert classes(found) == {"my_store.main": LOSSY}
    assert classes(assess(changeset(change("my_store.main", ["delete"], before={})))) == {"my_store.main": REVERSIBLE}


def test_marks_from_the_configuration_make_a_change_irreversible_with_their_reason() -> None:
    mark = IrreversibleMark(Selector(types=frozenset({"aws_route53_zone"})), frozenset({Action.DELETE}), "delegation")
    policy = ReversibilityPolicy(marks=(mark,))
    found = assess(
        changeset(
            change("aws_route53_zone.main", ["delete"], before={"name": "example.com"}),
            change("aws_route53_zone.other", ["update"], before={"comment": "a"}, after={"comment": "b"}),
        ),
        policy,
    )
    assert classes(found) == {"aws_route53_zone.main": IRREVERSIBLE, "aws_route53_zone.other": REVERSIBLE}
    assert reason_of(found, "aws_route53_zone.main") == "delegation"


def test_a_mark_on_tags_known_only_after_apply_is_irreversible_and_unknown() -> None:
    mark = IrreversibleMark(Selector(tags={"env": "prod"}))
    create = change(
        "aws_instance.web", ["update"], before={"tags": {}}, after={"tags": None}, after_unknown={"tags": True}
    )
    entry = assess(changeset(create), ReversibilityPolicy(marks=(mark,))).of("aws_instance.web")
    assert entry is not None
    assert (entry.reversibility, entry.unknown) == (IRREVERSIBLE, True)
    assert "known only after apply" in entry.reason


def test_order_counts_and_the_weightiest_first() -> None:
    found = assess(
        changeset(
            change("aws_instance.a", ["create"]),
            change("aws_db_instance.b", ["delete"], before={"skip_final_snapshot": True}),
            change("aws_s3_bucket.c", ["delete"], before={}),
            change("aws_instance.d", ["update"], before={"x": 1}, after={"x": 2}),
        )
    )
    assert [e.address for e in found.changes] == [
        "aws_s3_bucket.c",
        "aws_db_instance.b",
        "aws_instance.a",
        "aws_instance.d",
    ]
    assert found.counts() == {"irreversible": 1, "lossy": 1, "reversible": 2}
    assert found.counts_line() == "1 irreversible, 1 lossy, 2 reversible"
    assert [e.address for e in found.not_reversible()] == ["aws_s3_bucket.c", "aws_db_instance.b"]


def test_rule_irreversible_is_soft_by_default_lossy_only_when_configured() -> None:
    plan = changeset(
        change("aws_s3_bucket.c", ["delete"], before={}),
        change("aws_db_instance.b", ["delete"], before={"skip_final_snapshot": True}),
        change("aws_instance.a", ["create"]),
    )
    default = list(ReversibilityRule().evaluate(plan))
    assert [(f.address, f.enforcement) for f in default] == [("aws_s3_bucket.c", Enforcement.SOFT)]
    assert default[0].message.startswith("irreversible: deleted: bucket names are global")
    strict = ReversibilityRule(ReversibilitySettings(irreversible=Enforcement.HARD, lossy=Enforcement.ADVISORY))
    assert [(f.address, f.enforcement) for f in strict.evaluate(plan)] == [
        ("aws_s3_bucket.c", Enforcement.HARD),
        ("aws_db_instance.b", Enforcement.ADVISORY),
    ]
