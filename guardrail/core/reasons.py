"""Terraform's `action_reason` values in words a reviewer reads without a glossary."""

from __future__ import annotations

from guardrail.core.change import Action, ReplaceOrder, ResourceChange

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
