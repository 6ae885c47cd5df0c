"""The `rollback:` section of guardrail.yaml: how much an irreversible change weighs, and what else the
configuration marks irreversible.

```yaml
rollback:
  enforcement: soft            # an irreversible change needs approval (hard denies, advisory reports)
  lossy_enforcement: advisory  # default: none (the rollback section still shows it)
  irreversible:                # selectors, like protect:
    - types: [aws_route53_zone]
      actions: [delete, replace]
      reason: delegated name servers change with a new zone
```
"""

from __future__ import annotations

from pydantic import Field

# Imported from the package's namespace: guardrail/config/__init__.py imports this module after it has
# defined the selector entries (one definition of what selects a resource).
from guardrail.config import ActionName, EnforcementName, SelectorEntry, _Strict
from guardrail.core.change import Action
from guardrail.core.rollback.reversibility import IrreversibleMark, ReversibilityPolicy
from guardrail.core.rules.reversibility import ReversibilitySettings
from guardrail.core.verdict import Enforcement

_MARKED_ACTIONS: tuple[ActionName, ...] = ("delete", "replace", "update", "forget")


class IrreversibleEntry(SelectorEntry):
    """Resources whose changes no rollback undoes, whatever guardrail would otherwise conclude."""

    actions: list[ActionName] = Field(
        default_factory=lambda: list(_MARKED_ACTIONS),
        description="Actions that are irreversible for them (default: delete, replace, update, forget).",
    )
    reason: str = Field("", description="Why: shown in the rollback section and the finding.")

    def to_mark(self) -> IrreversibleMark:
        return IrreversibleMark(self.to_selector(), frozenset(Action(a) for a in self.actions), self.reason)


class RollbackConfig(_Strict):
    """Reversibility of every change (the rollback section of each report) and its findings."""

    enabled: bool = Field(True, description="Turn the reversibility findings off (the section is still shown).")
    enforcement: EnforcementName = Field(
        "soft", description="Weight of an irreversible change (default soft: it needs approval)."
    )
    lossy_enforcement: EnforcementName | None = Field(
        None, description="Weight of a lossy change (default: none, the stateful-data rule weighs data loss)."
    )
    irreversible: list[IrreversibleEntry] = Field(
        default_factory=list, description="More resources whose changes are irreversible, selected like protect:."
    )

    def rule_settings(self, extra_stateful: dict[str, str]) -> ReversibilitySettings:
        """The rule's settings, with `stateful.extra_types` counted as holding data."""
        policy = ReversibilityPolicy(extra_stateful, tuple(entry.to_mark() for entry in self.irreversible))
        lossy = Enforcement(self.lossy_enforcement) if self.lossy_enforcement is not None else None
        return ReversibilitySettings(policy, Enforcement(self.enforcement), lossy)
