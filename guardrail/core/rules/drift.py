"""Drift the plan would revert: changes made outside Terraform that applying this plan would undo."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from guardrail.core.blast.drift import reverted_drift
from guardrail.core.change import ChangeSet
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

DRIFT_REVERT = register_rule("drift-revert", "The plan undoes changes made outside Terraform.")


@dataclass(frozen=True)
class DriftSettings:
    """`drift:` of guardrail.yaml.

    enforcement: advisory by default (someone changed it by hand for a reason; the reviewer should know).
    attributes_shown: how many attribute paths a finding lists before "and N more".
    """

    enforcement: Enforcement = Enforcement.ADVISORY
    attributes_shown: int = 8


@dataclass(frozen=True)
class DriftRule:
    """One finding per drifted resource whose drifted attributes the plan overwrites (paths only, no values)."""

    settings: DriftSettings = field(default_factory=DriftSettings)
    id: str = DRIFT_REVERT

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        for reverted in reverted_drift(changeset):
            ordered = sorted(reverted.attributes, key=lambda a: (not a.relevant, a.dotted))
            shown = [
                a.dotted + ("" if a.certain else " (may)") + (" (the plan depends on it)" if a.relevant else "")
                for a in ordered[: self.settings.attributes_shown]
            ]
            more = len(ordered) - len(shown)
            tail = f" and {more} more" if more > 0 else ""
            yield Finding(
                self.id,
                self.settings.enforcement,
                reverted.address,
                f"{reverted.action.value} would revert changes made outside Terraform to {', '.join(shown)}{tail}",
            )
