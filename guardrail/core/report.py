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
    `rollback` (how reversible each change is) is None only for a report built without it. `config` is the
    guardrail.yaml the plan was judged by (None: the built-in defaults) and `store` the store that settled
    it (None: not settled).
    """

    changeset: ChangeSet
    verdict: Verdict
    notes: tuple[str, ...] = field(default=())
    blast: BlastRadius | None = None
    kube: KubeReport | None = None
    rollback: RollbackAssessment | None = None
    config: str | None = None
    store: str | None = None

    def provenance(self) -> tuple[str, ...]:
        """What decided, for people: the configuration and the store, once the plan was settled."""
        if self.store is None:
            return ()
        config = self.config or "built-in defaults (no guardrail.yaml found)"
        return (f"config: {config}", f"store: {self.store}")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict.decision]
