"""Why Terraform plans what it plans, in words a reviewer reads without a glossary: `action_reason`, the
replace order, the attributes that force a replacement, and the plan symbols."""

from __future__ import annotations

from dataclasses import dataclass

from guardrail.core.change import Action, ReplaceOrder, ResourceChange
from guardrail.core.values import format_path

# Terraform's `action_reason` values (the JSON output format documentation lists every one), in words a
# reviewer reads without a glossary. Anything newer is shown as Terraform wrote it.
ACTION_REASONS: dict[str, str] = {
    "replace_because_tainted": "the object is tainted (marked as degraded or damaged)",
    "replace_because_cannot_update": "an attribute that cannot be updated in place changed",
    "replace_by_request": "a replacement was requested (-replace)",
    "replace_by_triggers": "a value in its replace_triggered_by changed",
    "delete_because_no_resource_config": "its resource block was removed from the configuration",
    "delete_because_wrong_repetition": "count or for_each was added or removed, so its instance key changed kind",
    "delete_because_count_index": "its index is past the new count",
    "delete_because_each_key": "its key is no longer in for_each",
    "delete_because_no_module": "its module call was removed from the configuration",
    "delete_because_no_move_target": "a moved block points it at an address that does not exist",
    "read_because_config_unknown": "its configuration depends on values known only after apply",
    "read_because_dependency_pending": "it depends on a resource with changes pending",
    "read_because_check_nested": "a check block reads it",
}


def reason_words(reason: str | None) -> str | None:
    """Terraform's action_reason in plain words (unknown reasons as Terraform wrote them)."""
    if reason is None:
        return None
    return ACTION_REASONS.get(reason, reason)


ORDER_WORDS: dict[ReplaceOrder, str] = {
    ReplaceOrder.DELETE_BEFORE_CREATE: "delete before create: the object is gone until its successor exists",
    ReplaceOrder.CREATE_BEFORE_DESTROY: "create before destroy",
}


@dataclass(frozen=True, slots=True)
class PlannedBecause:
    """Why Terraform plans a change, as phrases (None where the plan says nothing): the replace order,
    `because` its action_reason, and the attributes that force a replacement. Shown for a replace even
    when it is blocked: the reviewer must see what triggered it."""

    order: str | None
    reason: str | None
    forced_by: str | None

    def phrases(self) -> tuple[str, ...]:
        """The phrases that are there, in reading order."""
        return tuple(p for p in (self.order, self.reason, self.forced_by) if p)

    def sentence(self) -> str:
        """`delete before create: ...; because ...; forced by: tags.Name`, or "" when the plan says nothing."""
        return "; ".join(self.phrases())


def planned_because(change: ResourceChange) -> PlannedBecause:
    """Why Terraform plans `change`: the one wording every report and the TUI show."""
    words = reason_words(change.action_reason)
    paths = ", ".join(format_path(path) for path in change.replace_paths)
    return PlannedBecause(
        ORDER_WORDS[change.replace_order] if change.replace_order is not None else None,
        f"because {words}" if words else None,
        f"forced by: {paths}" if paths else None,
    )


# Terraform's own plan symbols, so a list of changes reads like the plan a reviewer already knows.
_PLAN_SYMBOLS = {
    Action.DELETE: "-",
    Action.FORGET: ".",
    Action.UPDATE: "~",
    Action.CREATE: "+",
    Action.READ: "<=",
    Action.NO_OP: " ",
}
_REPLACE_SYMBOLS = {ReplaceOrder.DELETE_BEFORE_CREATE: "-/+", ReplaceOrder.CREATE_BEFORE_DESTROY: "+/-"}


def plan_symbol(change: ResourceChange) -> str:
    """`-/+` for a delete-then-create replace, `+/-` create-before-destroy, `~` for an update, and so on."""
    if change.replace_order is not None:
        return _REPLACE_SYMBOLS[change.replace_order]
    return _PLAN_SYMBOLS.get(change.action, "?")
