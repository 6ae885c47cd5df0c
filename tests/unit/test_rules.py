from __future__ import annotations

import pytest

from guardrail.core.change import Action, ResourceChange
from guardrail.core.matching import Selector
from guardrail.core.policy import Rule
from guardrail.core.rules.k8s_upgrade import KubernetesUpgradeRule, parse_version
from guardrail.core.rules.protection import Protection, ProtectionRule
from guardrail.core.rules.stateful import StatefulRule
from guardrail.core.verdict import Enforcement, Finding
from tests.unit.factories import change, changeset

CLUSTERS = Protection(Selector(types=frozenset({"azurerm_kubernetes_cluster"})), reason="production clusters")


def run(rule: Rule, *changes: ResourceChange) -> list[Finding]:
    return list(rule.evaluate(changeset(*changes)))


class TestProtection:
    def test_removed_resource_block_is_caught(self) -> None:
        deleted = change(
            "azurerm_kubernetes_cluster.prod",
            ["delete"],
            before={"name": "prod"},
            action_reason="delete_because_no_resource_config",
        )
        [finding] = run(ProtectionRule((CLUSTERS,)), deleted)
        assert finding.enforcement is Enforcement.HARD
        assert "resource block was removed" in finding.message
        assert "production clusters" in finding.message

    @pytest.mark.parametrize("actions", [["delete", "create"], ["create", "delete"], ["forget"], ["create", "forget"]])
    def test_every_destructive_action_is_guarded_by_default(self, actions: list[str]) -> None:
        assert len(run(ProtectionRule((CLUSTERS,)), change("azurerm_kubernetes_cluster.a", actions, {}, {}))) == 1

    def test_updates_pass_unless_listed(self) -> None:
        updated = change("azurerm_kubernetes_cluster.a", ["update"], {}, {})
        assert run(ProtectionRule((CLUSTERS,)), updated) == []
        with_update = Protection(CLUSTERS.selector, frozenset({Action.UPDATE}), Enforcement.SOFT)
        [finding] = run(ProtectionRule((with_update,)), updated)
        assert finding.enforcement is Enforcement.SOFT

    def test_follows_previous_address_across_moved_blocks(self) -> None:
        by_address = Protection(Selector(addresses=("module.prod_*.*",)))
        moved = change(
            "module.legacy.aws_vpc.main", ["delete"], {}, None, previous_address="module.prod_net.aws_vpc.main"
        )
        [finding] = run(ProtectionRule((by_address,)), moved)
        assert "module.prod_net.aws_vpc.main" in finding.message

    def test_address_glob_does_not_match_other_modules(self) -> None:
        by_address = Protection(Selector(addresses=("module.prod_*.*",)))
        assert run(ProtectionRule((by_address,)), change("module.dev_net.aws_vpc.main", ["delete"], {}, None)) == []

    def test_tags_match_before_values_of_a_delete(self) -> None:
        prod = Protection(Selector(tags={"env": "prod"}))
        assert len(run(ProtectionRule((prod,)), change("aws_s3_bucket.a", ["delete"], {"tags": {"env": "prod"}}))) == 1
        assert run(ProtectionRule((prod,)), change("aws_s3_bucket.b", ["delete"], {"tags": {"env": "dev"}})) == []

    def test_unknown_tags_need_approval_not_allow(self) -> None:
        prod = Protection(Selector(tags={"env": "prod"}))
        replaced = change("aws_s3_bucket.a", ["create", "delete"], {"tags": {}}, {}, after_unknown={"tags": True})
        [finding] = run(ProtectionRule((prod,)), replaced)
        assert finding.unknown
        assert finding.enforcement is Enforcement.SOFT

    def test_data_sources_are_not_protected(self) -> None:
        read = change("data.azurerm_kubernetes_cluster.a", ["read"], None, {}, mode="data")
        assert run(ProtectionRule((CLUSTERS,)), read) == []


def aks(before: str | None, after: object, unknown: bool = False) -> ResourceChange:
    return change(
        "azurerm_kubernetes_cluster.prod",
        ["update"],
        {"kubernetes_version": before},
        {"kubernetes_version": None if unknown else after},
        after_unknown={"kubernetes_version": True} if unknown else {},
    )


class TestKubernetesUpgrades:
    @pytest.mark.parametrize(
        ("before", "after", "enforcement", "words"),
        [
            ("1.29.7", "1.30.4", Enforcement.SOFT, "do not allow a downgrade"),
            ("1.29", "1.30", Enforcement.SOFT, "irreversible"),
            ("1.30.4", "1.29.7", Enforcement.HARD, "cannot be downgraded"),
            ("1.29.7", "1.31.0", Enforcement.HARD, "one minor version at a time"),
            ("1.29.7", "1.29.9", Enforcement.ADVISORY, "patch upgrade"),
            ("1.29.9", "1.29.7", Enforcement.HARD, "cannot be downgraded"),
        ],
    )
    def test_control_plane_versions(self, before: str, after: str, enforcement: Enforcement, words: str) -> None:
        [finding] = run(KubernetesUpgradeRule(), aks(before, after))
        assert finding.enforcement is enforcement
        assert words in finding.message

    def test_unknown_target_version_needs_approval(self) -> None:
        [finding] = run(KubernetesUpgradeRule(), aks("1.29.7", None, unknown=True))
        assert finding.unknown
        assert finding.enforcement is Enforcement.SOFT

    def test_unchanged_version_says_nothing(self) -> None:
        assert run(KubernetesUpgradeRule(), aks("1.29.7", "1.29.7")) == []

    def test_node_pools_of_every_provider(self) -> None:
        pools = [
            change(
                "google_container_node_pool.gpu", ["update"], {"version": "1.30.5-gke.1"}, {"version": "1.29.9-gke.2"}
            ),
            change("aws_eks_node_group.ng", ["update"], {"version": "1.28"}, {"version": "1.29"}),
            change(
                "azurerm_kubernetes_cluster_node_pool.np",
                ["update"],
                {"orchestrator_version": "1.28.3"},
                {"orchestrator_version": "1.30.0"},
            ),
            change(
                "azurerm_kubernetes_cluster.c",
                ["update"],
                {"default_node_pool": [{"orchestrator_version": "1.28.3"}]},
                {"default_node_pool": [{"orchestrator_version": "1.29.1"}]},
            ),
        ]
        findings = {f.address: f.enforcement for f in run(KubernetesUpgradeRule(), *pools)}
        assert findings == {
            "google_container_node_pool.gpu": Enforcement.HARD,
            "aws_eks_node_group.ng": Enforcement.SOFT,
            "azurerm_kubernetes_cluster_node_pool.np": Enforcement.HARD,
            "azurerm_kubernetes_cluster.c": Enforcement.SOFT,
        }

    def test_version_parsing(self) -> None:
        assert parse_version("v1.29.3") == (1, 29, 3)
        assert parse_version("1.30.5-gke.1014001") == (1, 30, 5)
        assert parse_version("1.29") == (1, 29, None)
        assert parse_version("latest") is None
        assert parse_version(None) is None


class TestStateful:
    def test_database_replace_names_missing_safety_nets(self) -> None:
        db = change(
            "aws_db_instance.orders",
            ["delete", "create"],
            {"skip_final_snapshot": True, "deletion_protection": False},
            {},
        )
        [finding] = run(StatefulRule(), db)
        assert finding.enforcement is Enforcement.SOFT
        assert "no final snapshot" in finding.message
        assert "deletion protection off" in finding.message

    def test_creates_and_updates_are_fine(self) -> None:
        assert (
            run(
                StatefulRule(),
                change("aws_s3_bucket.a", ["create"], None, {}),
                change("aws_s3_bucket.b", ["update"], {}, {}),
            )
            == []
        )

    def test_extra_types_and_enforcement_are_configurable(self) -> None:
        rule = StatefulRule(Enforcement.HARD, {"custom_store": "database"})
        [finding] = run(rule, change("custom_store.x", ["delete"], {}))
        assert finding.enforcement is Enforcement.HARD
