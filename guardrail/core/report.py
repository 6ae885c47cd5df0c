"""The result of checking one plan: what every renderer and the exit code are made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from guardrail.core.blast.impact import BlastRadius
from guardrail.core.change import ChangeSet
from guardrail.core.kube.report import KubeReport
from guardrail.core.rollback.reversibility import RollbackAssessment
from guardrail.core.verdict import Decision, Verdict

EXIT_CODES: dict[Decision, int] = {Decision.ALLOW: 0, Decision.DENY: 1, Decision.NEEDS_APPROVAL: 2}


@dataclass(frozen=True)
class CheckReport:
    """A plan, the verdict on it, what its destructive changes take with them, and notes (e.g. who approved).

    `blast` is None when the blast-radius analysis is turned off; `kube` is None for a Terraform plan;
    `rollback` (how reversible each change is) is None only for a report built without it.
    """

    changeset: ChangeSet
    verdict: Verdict
    notes: tuple[str, ...] = field(default=())
    blast: BlastRadius | None = None
    kube: KubeReport | None = None
    rollback: RollbackAssessment | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict.decision]
