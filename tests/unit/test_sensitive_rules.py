"""Rules judge sensitive values as they are and never show them; a value they cannot read is a doubt."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.impact import analyse
from guardrail.core.change import Action, ChangeSet, Concealed, ResourceChange
from guardrail.core.locks import new_lock
from guardrail.core.matching import Match, Selector
from guardrail.core.rollback.reversibility import ChangeReversibility, Reversibility, assess
from guardrail.core.rules.k8s_upgrade import KubernetesUpgradeRule
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.rules.protection import Protection, ProtectionRule
from guardrail.core.values import SENSITIVE_PLACEHOLDER as HIDDEN
from guardrail.core.verdict import Enforcement, Finding
from tests.unit.factories import plan_resource

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROD = Protection(Selector(tags={"env": "prod"}), reason="production")


def plan_of(*changes: dict[str, Any], prior_state: dict[str, Any] | None = None) -> ChangeSet:
    """A plan document as terraform show -json writes it, read by intake."""
    document: dict[str, Any] = {"format_version": "1.2", "resource_changes": list(changes)}
    if prior_state is not None:
        document["prior_state"] = prior_state
    return parse_plan(json.dumps(document).encode(), "plan.json").changeset


SECRET_TAGS = {"tags": {"env": True}, "tags_all": {"env": True}}
PROD_CLUSTER = plan_resource(
    "azurerm_kubernetes_cluster.prod",
    ["delete"],
    {"name": "aks-prod", "tags": {"env": "prod"}, "tags_all": {"env": "prod"}},
    None,
    before_sensitive=SECRET_TAGS,
)


def texts(findings: list[Finding]) -> str:
    return " | ".join(f.message for f in findings)


# -- where the real values live ---------------------------------------------------------------------------


def test_intake_masks_what_is_shown_and_conceals_what_rules_read() -> None:
    (cluster,) = plan_of(PROD_CLUSTER).changes
    assert cluster.before["tags"] == {"env": HIDDEN}
    assert cluster.unmasked_before["tags"] == {"env": "prod"}
    assert "'env': 'prod'" not in repr(cluster)
    assert isinstance(cluster.concealed, Concealed)
    assert "prod" not in repr(cluster.concealed)
    assert "prod" not in str(cluster.concealed)


def test_concealed_values_refuse_to_travel() -> None:
    (cluster,) = plan_of(PROD_CLUSTER).changes
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(cluster)
    assert copy.deepcopy(cluster.concealed) is cluster.concealed


def test_a_change_without_sensitive_values_keeps_one_copy_of_them() -> None:
    values = {"name": "plain", "tags": {"env": "dev"}}
    (plain,) = plan_of(
        plan_resource("aws_s3_bucket.a", ["delete"], values, None, before_sensitive={"tags": {}})
    ).changes
    assert plain.concealed is None
    assert plain.unmasked_before is plain.before


# -- protection, locks and criticality by a sensitive tag -------------------------------------------------


def test_a_sensitive_prod_tag_still_protects() -> None:
    [finding] = ProtectionRule((PROD,)).evaluate(plan_of(PROD_CLUSTER))
    assert finding.enforcement is Enforcement.HARD
    assert not finding.unknown
    assert "prod" not in finding.message.replace("production", "")


def test_a_sensitive_tag_still_matches_a_tag_lock() -> None:
    lock = new_lock("l1", "alice", "freeze prod", NOW, tag="env=prod")
    [finding] = ActiveLocksRule([lock], NOW).evaluate(plan_of(PROD_CLUSTER))
    assert finding.enforcement is Enforcement.HARD


def test_a_sensitive_tag_of_a_state_only_resource_still_makes_it_critical() -> None:
    state = {
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_db_instance.orders",
                        "mode": "managed",
                        "type": "aws_db_instance",
                        "name": "orders",
                        "values": {"tags": {"tier": "critical"}},
                        "sensitive_values": {"tags": {"tier": True}},
                        "depends_on": ["aws_vpc.main"],
                    }
                ]
            }
        }
    }
    vpc = plan_resource("aws_vpc.main", ["delete"], {"cidr_block": "10.0.0.0/16"}, None)
    blast = analyse(plan_of(vpc, prior_state=state), (Selector(tags={"tier": "critical"}),))
    (impact,) = blast.impacts
    assert [r.address for r in impact.critical_impacted] == ["aws_db_instance.orders"]


def test_a_sensitive_tag_the_plan_leaves_out_is_a_doubt_not_a_no() -> None:
    redacted = plan_resource(
        "azurerm_kubernetes_cluster.prod",
        ["delete"],
        {"name": "aks-prod"},
        None,
        before_sensitive={"tags": True},
    )
    [finding] = ProtectionRule((PROD,)).evaluate(plan_of(redacted))
    assert finding.unknown
    assert finding.enforcement is Enforcement.SOFT
    assert "sensitive" in finding.message


def test_a_masked_tag_in_a_hand_built_change_is_a_doubt_not_a_no() -> None:
    masked = ResourceChange(
        address="aws_s3_bucket.a",
        type="aws_s3_bucket",
        name="a",
        action=Action.DELETE,
        actions=("delete",),
        before={"tags": {"env": HIDDEN}},
        before_sensitive={"tags": {"env": True}},
    )
    assert PROD.selector.match(masked) is Match.HIDDEN


# -- the upgrade rule ---------------------------------------------------------------------------------------


def pool(before: str | None, after: str | None, *, sensitive: bool = True) -> dict[str, Any]:
    mask = {"version": True} if sensitive else {}
    return plan_resource(
        "google_container_node_pool.gpu",
        ["update"],
        {"name": "gpu", "version": before} if before is not None else {"name": "gpu"},
        {"name": "gpu", "version": after} if after is not None else {"name": "gpu"},
        before_sensitive=mask,
        after_sensitive=mask,
    )


def test_a_downgrade_hidden_behind_sensitive_versions_is_still_denied_without_naming_them() -> None:
    [finding] = KubernetesUpgradeRule().evaluate(plan_of(pool("1.30.5-gke.1014001", "1.29.9-gke.1177000")))
    assert finding.enforcement is Enforcement.HARD
    assert "cannot be downgraded" in finding.message
    assert HIDDEN in finding.message
    assert "1.30" not in finding.message
    assert "1.29" not in finding.message


def test_a_sensitive_version_the_plan_leaves_out_is_a_doubt() -> None:
    [finding] = KubernetesUpgradeRule().evaluate(plan_of(pool("1.30.5-gke.1014001", None)))
    assert finding.unknown
    assert finding.enforcement is Enforcement.SOFT
    assert "1.30" not in finding.message
    assert "sensitive" in finding.message


def test_an_unknown_target_version_does_not_print_a_sensitive_current_one() -> None:
    changed = pool("1.30.5-gke.1014001", None)
    changed["change"]["after_unknown"] = {"version": True}
    [finding] = KubernetesUpgradeRule().evaluate(plan_of(changed))
    assert finding.unknown
    assert "1.30" not in finding.message


# -- how reversible a change is, judged on its sensitive values too -----------------------------------------


def reversibility_of(resource: dict[str, Any]) -> ChangeReversibility:
    [entry] = assess(plan_of(resource)).changes
    return entry


def sensitive_update(address: str, attribute: str, before: Any, after: Any) -> dict[str, Any]:
    """An in-place update whose `attribute` Terraform marks sensitive on both sides."""
    mask = {attribute: True}
    return plan_resource(
        address,
        ["update"],
        {"name": "x", attribute: before, "tags": {"v": "1"}},
        {"name": "x", attribute: after, "tags": {"v": "2"}},
        before_sensitive=mask,
        after_sensitive=mask,
    )


@pytest.mark.parametrize(
    ("address", "attribute", "before", "after"),
    [
        ("aws_db_instance.main", "engine_version", "14.11", "15.6"),
        ("azurerm_key_vault.main", "purge_protection_enabled", False, True),
        ("azurerm_kubernetes_cluster.main", "kubernetes_version", "1.29.7", "1.30.3"),
    ],
)
def test_a_one_way_change_of_a_sensitive_value_is_still_irreversible_and_never_shown(
    address: str, attribute: str, before: Any, after: Any
) -> None:
    entry = reversibility_of(sensitive_update(address, attribute, before, after))
    assert (entry.reversibility, entry.unknown) == (Reversibility.IRREVERSIBLE, False)
    assert HIDDEN in entry.reason
    assert str(before) not in entry.reason
    assert str(after) not in entry.reason


@pytest.mark.parametrize(
    ("address", "attribute", "value"),
    [
        ("aws_db_instance.main", "engine_version", "14.11"),
        ("azurerm_kubernetes_cluster.main", "kubernetes_version", "1.29.7"),
    ],
)
def test_an_update_that_leaves_a_sensitive_version_as_it_is_is_reversible(
    address: str, attribute: str, value: str
) -> None:
    entry = reversibility_of(sensitive_update(address, attribute, value, value))
    assert (entry.reversibility, entry.unknown) == (Reversibility.REVERSIBLE, False)


def test_a_sensitive_one_way_value_the_plan_leaves_out_is_a_doubt() -> None:
    entry = reversibility_of(sensitive_update("aws_db_instance.main", "engine_version", "14.11", None))
    assert (entry.reversibility, entry.unknown) == (Reversibility.IRREVERSIBLE, True)
    assert "14.11" not in entry.reason
    assert "sensitive" in entry.reason
