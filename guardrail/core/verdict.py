"""Findings and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Enforcement(StrEnum):
    """How much a finding weighs (Sentinel's levels)."""

    HARD = "hard"  # deny; no override but break-glass
    SOFT = "soft"  # needs approval
    ADVISORY = "advisory"  # reported only


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs-approval"


# The verdict as a headline shows it, for a person (the value above is the machine's spelling).
VERDICT_WORDS: dict[Decision, str] = {
    Decision.ALLOW: "ALLOW",
    Decision.DENY: "DENY",
    Decision.NEEDS_APPROVAL: "NEEDS APPROVAL",
}


# Said beside every finding marked `unknown`, in every output: its message says why (a value known only
# after apply, a sensitive value the plan does not hold).
UNKNOWN_OUTCOME_WORDS = "outcome unknown"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule says about one change (or about the plan as a whole when address is None).

    `unknown` marks a finding whose outcome could not be decided because a value is only known after
    apply: it is never weaker than soft.
    """

    rule: str
    enforcement: Enforcement
    address: str | None
    message: str
    unknown: bool = False
    source: str | None = None  # where a custom rule came from (a policy file), for SARIF and reviewers


# Most severe first, as the levels are declared: the order every list of findings and every count follows.
ENFORCEMENT_RANK: dict[Enforcement, int] = {level: rank for rank, level in enumerate(Enforcement)}


def strongest(findings: Iterable[Finding]) -> Enforcement | None:
    """The most severe enforcement among `findings`; None when there are none."""
    return min((f.enforcement for f in findings), key=ENFORCEMENT_RANK.__getitem__, default=None)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Hard first, then soft, then advisory; stable by address and rule within a level."""
    return tuple(sorted(findings, key=lambda f: (ENFORCEMENT_RANK[f.enforcement], f.address or "", f.rule, f.message)))


def decide(findings: Iterable[Finding]) -> Decision:
    """Any hard finding denies; any soft or unknown-outcome finding needs approval; else allow."""
    decision = Decision.ALLOW
    for finding in findings:
        if finding.enforcement is Enforcement.HARD:
            return Decision.DENY
        if finding.enforcement is Enforcement.SOFT or finding.unknown:
            decision = Decision.NEEDS_APPROVAL
    return decision


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Verdict:
        ordered = sort_findings(findings)
        return cls(decide(ordered), ordered)

    def count(self, enforcement: Enforcement) -> int:
        return sum(1 for f in self.findings if f.enforcement is enforcement)

    def counts_line(self) -> str:
        """`2 hard, 1 soft, 0 advisory`: every level, most severe first."""
        return ", ".join(f"{self.count(level)} {level.value}" for level in Enforcement)
