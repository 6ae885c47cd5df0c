"""The built-in rules as guardrail.yaml configures them."""

from __future__ import annotations

from guardrail.config import Settings
from guardrail.core.policy import Rule
from guardrail.core.rules.k8s_upgrade import KubernetesUpgradeRule
from guardrail.core.rules.protection import ProtectionRule
from guardrail.core.rules.stateful import StatefulRule
from guardrail.core.verdict import Enforcement


def builtin_rules(settings: Settings) -> list[Rule]:
    """Every built-in rule that the settings leave enabled, configured from them."""
    rules: list[Rule] = []
    if settings.protect:
        rules.append(ProtectionRule(tuple(entry.to_protection() for entry in settings.protect)))
    if settings.kubernetes_upgrades.enabled:
        rules.append(KubernetesUpgradeRule())
    if settings.stateful.enabled:
        rules.append(StatefulRule(Enforcement(settings.stateful.enforcement), dict(settings.stateful.extra_types)))
    return rules
