"""Blast radius as a gated number: destructive changes that reach too far, reach critical resources, or cause
downtime for what depends on them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from guardrail.core.blast.impact import BlastRadius, Impact, analyse
from guardrail.core.change import ChangeSet
from guardrail.core.matching import Selector
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

BLAST_RADIUS = register_rule(
    "blast-radius", "A destructive change reaches too far, reaches critical resources, or causes downtime."
)

# A selector of `critical:` in guardrail.yaml: resource types, address globs and tags (all given must match).
CriticalSpec = Selector


@dataclass(frozen=True)
class BlastRadiusSettings:
    """`blast_radius:` and `critical:` of guardrail.yaml.

    max_impacted: a destructive change impacting more resources than this is a finding (None: no limit).
    enforcement: the weight of that finding (soft: someone must approve a wide blast radius).
    critical: selectors of the resources whose involvement raises the stakes.
    critical_enforcement: a destructive change of, or impacting, a critical resource (soft by default).
    downtime_enforcement: a delete-then-create replace of something others depend on (soft by default: its
        dependents lose it until it is re-created; `create_before_destroy` avoids that).
    names_shown: how many impacted addresses a message names before "and N more".
    """

    max_impacted: int | None = None
    enforcement: Enforcement = Enforcement.SOFT
    critical: tuple[CriticalSpec, ...] = ()
    critical_enforcement: Enforcement = Enforcement.SOFT
    downtime_enforcement: Enforcement = Enforcement.SOFT
    names_shown: int = 5


@dataclass(frozen=True)
class BlastRadiusRule:
    """Findings per destructive change: over the threshold, touching a critical resource, causing downtime.

    A caller that also shows the analysis (the check's outputs) runs `analyse` once and asks `findings` of
    it; `evaluate` does both for a caller that only wants the findings.
    """

    settings: BlastRadiusSettings = field(default_factory=BlastRadiusSettings)
    id: str = BLAST_RADIUS

    def analyse(self, changeset: ChangeSet) -> BlastRadius:
        """The blast radius of every destructive change of `changeset`, with this rule's critical selectors."""
        return analyse(changeset, self.settings.critical)

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        return list(self.findings(self.analyse(changeset)))

    def findings(self, report: BlastRadius) -> Iterator[Finding]:
        """The findings an already computed report amounts to."""
        settings = self.settings
        for impact in report.impacts:
            count = len(impact.impacted)
            if settings.max_impacted is not None and count > settings.max_impacted:
                yield Finding(
                    self.id,
                    settings.enforcement,
                    impact.address,
                    f"{_verb(impact)} impacts {count} resources (more than max_impacted {settings.max_impacted}): "
                    f"{self._names(impact)}",
                )
            if impact.involves_critical:
                yield Finding(self.id, settings.critical_enforcement, impact.address, self._critical_message(impact))
            if impact.downtime:
                yield Finding(
                    self.id,
                    settings.downtime_enforcement,
                    impact.address,
                    f"downtime: replaced delete-then-create while {count} resource{_s(count)} depend on it "
                    f"({self._names(impact)}); create_before_destroy would avoid the gap",
                )

    def _critical_message(self, impact: Impact) -> str:
        critical = impact.critical_impacted
        parts = []
        if impact.critical:
            parts.append(f"{_verb(impact)} a critical resource")
        if critical:
            shown = ", ".join(r.address for r in critical[: self.settings.names_shown])
            more = len(critical) - self.settings.names_shown
            tail = f" and {more} more" if more > 0 else ""
            lead = "impacts" if impact.critical else f"{_verb(impact)} impacts"
            parts.append(f"{lead} {len(critical)} critical resource{_s(len(critical))}: {shown}{tail}")
        return "; ".join(parts)

    def _names(self, impact: Impact) -> str:
        # Critical ones first: they are what a reviewer must not miss in a long list.
        ordered = sorted(impact.impacted, key=lambda r: (not r.critical, r.address))
        shown = ", ".join(r.address for r in ordered[: self.settings.names_shown])
        more = len(ordered) - self.settings.names_shown
        return f"{shown} and {more} more" if more > 0 else shown


def _verb(impact: Impact) -> str:
    return impact.action.value


def _s(count: int) -> str:
    return "" if count == 1 else "s"
