"""The rule protocol and the evaluation of a set of rules against a ChangeSet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from guardrail.core.change import ChangeSet
from guardrail.core.kube.change import KubeChangeSet, KubeRule
from guardrail.core.verdict import Enforcement, Finding


class Rule(Protocol):
    """A built-in check. `id` names it in every output; evaluate never performs I/O."""

    @property
    def id(self) -> str: ...

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]: ...


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
