"""Protection held outside the .tf code.

Terraform's `prevent_destroy` lives in the resource block, so deleting the block deletes the protection
with it (`delete_because_no_resource_config`). Protection declared in guardrail.yaml survives that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardrail.core.change import Action, ChangeSet
from guardrail.core.matching import Match, Selector, unknown_tags_finding
from guardrail.core.policy import register_rule
from guardrail.core.reasons import reason_words
from guardrail.core.verdict import Enforcement, Finding

PROTECT = register_rule(
    "protect",
    "A resource protected in guardrail.yaml is deleted, replaced or forgotten, or changed as its entry lists.",
)

DEFAULT_PROTECTED_ACTIONS = frozenset({Action.DELETE, Action.REPLACE, Action.FORGET})


@dataclass(frozen=True)
class Protection:
    """One `protect:` entry of guardrail.yaml."""

    selector: Selector
    actions: frozenset[Action] = DEFAULT_PROTECTED_ACTIONS
    enforcement: Enforcement = Enforcement.HARD
    reason: str = ""


@dataclass(frozen=True)
class ProtectionRule:
    protections: tuple[Protection, ...]
    id: str = PROTECT

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        for change in changeset.changes:
            if change.mode != "managed":
                continue
            for protection in self.protections:
                if change.action not in protection.actions:
                    continue
                matched = protection.selector.match(change)
                if matched is Match.NO:
                    continue
                reason = f" ({protection.reason})" if protection.reason else ""
                cause = reason_words(change.action_reason)
                because = f" because {cause}" if cause else ""
                moved = f" (it was {change.moved_from} before a moved block)" if change.moved_from else ""
                if matched.undecided:
                    yield unknown_tags_finding(self.id, change, f"protected{reason}", matched)
                else:
                    yield Finding(
                        self.id,
                        protection.enforcement,
                        change.address,
                        f"{change.action.value} of a protected resource{reason}{because}{moved}",
                    )
