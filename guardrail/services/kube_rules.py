"""The built-in Kubernetes rules as guardrail.yaml configures them (`kubernetes:`).

Each is a KubeRule (guardrail.core.kube.change): it reads the whole KubeChangeSet, clusters included. The reach
rule runs apart (reach_analysis): its one computation gives the report's reach records as well.
"""

from __future__ import annotations

from dataclasses import replace

from guardrail.config import Settings
from guardrail.core.kube.change import KubeChangeSet, KubeRule
from guardrail.core.kube.control_plane_cost import ControlPlaneCostRule
from guardrail.core.kube.deprecated_apis import DeprecatedApiRule
from guardrail.core.kube.reach import NodeReachRule, ReachAnalysis
from guardrail.core.kube.stateful import KubeStatefulRule
from guardrail.core.kube.unknown_kinds import UnknownKindsRule
from guardrail.core.policy import Rule
from guardrail.core.rules.protection import ProtectionRule
from guardrail.core.verdict import Enforcement


def kube_rules(settings: Settings) -> list[KubeRule]:
    """Every built-in Kubernetes rule that the settings leave enabled, configured from them (but reach)."""
    config = settings.kubernetes
    rules: list[KubeRule] = [UnknownKindsRule(Enforcement(config.unknown_kinds.enforcement))]
    if config.deprecated_apis.enabled:
        weights = config.deprecated_apis
        rules.append(DeprecatedApiRule(Enforcement(weights.removed), Enforcement(weights.deprecated)))
    if config.control_plane_cost.enabled:
        rules.append(ControlPlaneCostRule(Enforcement(config.control_plane_cost.enforcement)))
    if config.stateful.enabled:
        rules.append(KubeStatefulRule(Enforcement(config.stateful.enforcement)))
    return rules


def reach_analysis(settings: Settings, changes: KubeChangeSet) -> ReachAnalysis:
    """The reach records of `changes` for the report and, unless `kubernetes.reach.enabled` is off, the reach
    rule's findings: one computation for both."""
    config = settings.kubernetes
    rule = NodeReachRule(max_reach=config.max_reach, enforcement=Enforcement(config.reach.enforcement))
    analysis = rule.analyse(changes)
    return analysis if config.reach.enabled else replace(analysis, findings=())


def change_rules(settings: Settings) -> list[Rule]:
    """The rules of the Terraform-shaped ChangeSet that also judge Kubernetes objects: `protect:` (with its
    Kubernetes criteria). The store's locks are added when the check is settled."""
    if not settings.protect:
        return []
    return [ProtectionRule(tuple(entry.to_protection() for entry in settings.protect))]
