"""Protection held outside the .tf code.

Terraform's `prevent_destroy` lives in the resource block, so deleting the block deletes the protection
with it (`delete_because_no_resource_config`). Protection declared in guardrail.yaml survives that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardrail.core.change import Action, ChangeSet
from guardrail.core.matching import Match, Selector
from guardrail.core.verdict import Enforcement, Finding

DEFAULT_PROTECTED_ACTIONS = frozenset({Action.DELETE, Action.REPLACE, Action.FORGET})

_WHY = {
    "delete_because_no_resource_config": "its resource block was removed from the configuration",
    "delete_because_no_module": "its module call was removed",
    "delete_because_count_index": "its count index no longer exists",
    "delete_because_each_key": "its for_each key no longer exists",
    "delete_because_wrong_repetition": "count/for_each was added or removed",
    "delete_because_no_move_target": "the target of its moved block does not exist",
    "replace_because_cannot_update": "an attribute that cannot be updated in place changed",
    "replace_because_tainted": "it is tainted",
    "replace_by_request": "a replace was requested (-replace)",
    "replace_by_triggers": "replace_triggered_by fired",
}


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
    id: str = "protect"

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
                cause = _WHY.get(change.action_reason or "")
                because = f" because {cause}" if cause else ""
                moved = (
                    f" (it was {change.previous_address} before a moved block)"
                    if change.previous_address and change.previous_address != change.address
                    else ""
                )
                if matched is Match.UNKNOWN:
                    yield Finding(
                        self.id,
                        Enforcement.SOFT,
                        change.address,
                        f"{change.action.value} of a resource that may be protected{reason}: its tags are "
                        "known only after apply",
                        unknown=True,
                    )
                else:
                    yield Finding(
                        self.id,
                        protection.enforcement,
                        change.address,
                        f"{change.action.value} of a protected resource{reason}{because}{moved}",
                    )
