"""The built-in rules as guardrail.yaml configures them."""

from __future__ import annotations

from guardrail.config import Settings
from guardrail.core.policy import Rule
from guardrail.core.rules.blast_radius import BlastRadiusRule, BlastRadiusSettings
from guardrail.core.rules.drift import DriftRule, DriftSettings
from guardrail.core.rules.k8s_upgrade import KubernetesUpgradeRule
from guardrail.core.rules.protection import ProtectionRule
from guardrail.core.rules.reversibility import ReversibilityRule
from guardrail.core.rules.similar_names import SimilarNamesRule, SimilarNamesSettings
from guardrail.core.rules.stateful import StatefulRule
from guardrail.core.verdict import Enforcement


def builtin_rules(settings: Settings) -> list[Rule]:
    """Every built-in rule that the settings leave enabled, configured from them, but the blast radius: its
    analysis is also shown, so the check runs it apart (see blast_radius_rule)."""
    rules: list[Rule] = []
    if settings.protect:
        rules.append(ProtectionRule(tuple(entry.to_protection() for entry in settings.protect)))
    if settings.kubernetes_upgrades.enabled:
        rules.append(KubernetesUpgradeRule())
    if settings.stateful.enabled:
        rules.append(StatefulRule(Enforcement(settings.stateful.enforcement), dict(settings.stateful.extra_types)))
    if settings.similar_names.enabled:
        names = settings.similar_names
        rules.append(SimilarNamesRule(SimilarNamesSettings(Enforcement(names.enforcement), tuple(names.attributes))))
    if settings.drift.enabled:
        rules.append(DriftRule(DriftSettings(Enforcement(settings.drift.enforcement))))
    return rules


def blast_radius_rule(settings: Settings) -> BlastRadiusRule | None:
    """The blast-radius rule, whose report the outputs show beside its findings; None when turned off."""
    config = settings.blast_radius
    if not config.enabled:
        return None
    return BlastRadiusRule(
        BlastRadiusSettings(
            max_impacted=config.max_impacted,
            enforcement=Enforcement(config.enforcement),
            critical=tuple(entry.to_selector() for entry in settings.critical),
            critical_enforcement=Enforcement(config.critical_enforcement),
            downtime_enforcement=Enforcement(config.downtime_enforcement),
            names_shown=config.names_shown,
        )
    )


def reversibility_rule(settings: Settings) -> ReversibilityRule:
    """The reversibility rule: its assessment is shown in every report (the rollback section), its findings
    count only while `rollback.enabled`."""
    return ReversibilityRule(settings.rollback.rule_settings(dict(settings.stateful.extra_types)))
