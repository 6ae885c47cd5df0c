"""Reversibility as a rule: a change that no rollback can undo needs a person's approval (by default).

The classification itself lives in core/rollback/reversibility.py; the check runs it once, shows it in
every output and asks this rule for the findings it amounts to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from guardrail.core.change import ChangeSet
from guardrail.core.policy import register_rule
from guardrail.core.rollback.reversibility import (
    ChangeReversibility,
    Reversibility,
    ReversibilityPolicy,
    RollbackAssessment,
    assess,
)
from guardrail.core.verdict import Enforcement, Finding

RULE_ID = register_rule(
    "reversibility",
    "A change that re-applying the earlier configuration cannot undo (irreversible), or that loses data.",
)


@dataclass(frozen=True)
class ReversibilitySettings:
    """`rollback:` of guardrail.yaml, as the rule reads it.

    irreversible: the weight of an irreversible change (soft by default: a person approves the one-way door).
    lossy: the weight of a lossy one; None reports it in the rollback section only (the stateful-data rule
        already weighs data loss).
    """

    policy: ReversibilityPolicy = field(default_factory=ReversibilityPolicy)
    irreversible: Enforcement = Enforcement.SOFT
    lossy: Enforcement | None = None


@dataclass(frozen=True)
class ReversibilityRule:
    """One finding per irreversible change (and per lossy one when `lossy` is set)."""

    settings: ReversibilitySettings = field(default_factory=ReversibilitySettings)
    id: str = RULE_ID

    def analyse(self, changeset: ChangeSet) -> RollbackAssessment:
        """Every change's reversibility, with this rule's stateful types and marks."""
        return assess(changeset, self.settings.policy)

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        return list(self.findings(self.analyse(changeset)))

    def findings(self, assessment: RollbackAssessment) -> Iterator[Finding]:
        """The findings an already computed assessment amounts to."""
        for entry in assessment.changes:
            if entry.reversibility is Reversibility.IRREVERSIBLE:
                yield self._finding(entry, self.settings.irreversible)
            elif entry.reversibility is Reversibility.LOSSY and self.settings.lossy is not None:
                yield self._finding(entry, self.settings.lossy)

    def _finding(self, entry: ChangeReversibility, enforcement: Enforcement) -> Finding:
        return Finding(
            self.id,
            enforcement,
            entry.address,
            f"{entry.reversibility.value}: {entry.reason}",
            unknown=entry.unknown,
        )
