"""The rule protocol, the registry of built-in rules, and the evaluation of a set of rules against a ChangeSet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from guardrail.core.change import ChangeSet
from guardrail.core.kube.change import KubeChangeSet, KubeRule
from guardrail.core.verdict import Enforcement, Finding


class Rule(Protocol):
    """A built-in check. `id` names it in every output; evaluate never performs I/O."""

    @property
    def id(self) -> str: ...

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]: ...


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What every output says of a built-in rule: its id and one sentence on what it finds."""

    id: str
    description: str


# Filled by the rule modules as they are imported (Terraform rules here, Kubernetes rules in their own
# package): a new rule declares itself, no output keeps a list of its own.
_REGISTRY: dict[str, RuleInfo] = {}


def register_rule(rule_id: str, description: str) -> str:
    """Declare a built-in rule once; returns its id, for the rule's `id` field.

    Raises ValueError when the id is already declared with another description: two rules must never
    answer to one name.
    """
    info = RuleInfo(rule_id, description)
    known = _REGISTRY.setdefault(rule_id, info)
    if known != info:
        raise ValueError(f"rule id {rule_id!r} is already declared: {known.description!r}")
    return rule_id


def rule_info(rule_id: str) -> RuleInfo | None:
    """The declared rule of that id; None for any other (a custom Rego policy)."""
    return _REGISTRY.get(rule_id)


def registered_rules() -> tuple[RuleInfo, ...]:
    """Every rule declared so far in this process, by id."""
    return tuple(sorted(_REGISTRY.values(), key=lambda info: info.id))


def evaluate(changeset: ChangeSet, rules: Sequence[Rule]) -> list[Finding]:
    """Run every rule; unknown-outcome findings are raised to at least soft (fail closed)."""
    findings: list[Finding] = []
    for rule in rules:
        for found in rule.evaluate(changeset):
            if found.unknown and found.enforcement is Enforcement.ADVISORY:
                found = replace(found, enforcement=Enforcement.SOFT)  # noqa: PLW2901
            findings.append(found)
    return findings


def evaluate_kube(changes: KubeChangeSet, rules: Sequence[KubeRule]) -> list[Finding]:
    """Run every Kubernetes rule on the change; unknown-outcome findings are raised to at least soft."""
    findings: list[Finding] = []
    for rule in rules:
        for found in rule.evaluate(changes):
            if found.unknown and found.enforcement is Enforcement.ADVISORY:
                found = replace(found, enforcement=Enforcement.SOFT)  # noqa: PLW2901
            findings.append(found)
    return findings
