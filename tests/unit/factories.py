"""Small builders of core records for unit tests."""

from __future__ import annotations

from typing import Any

from guardrail.core.change import ChangeSet, ResourceChange, classify_actions


def change(
    address: str,
    actions: list[str],
    before: Any = None,
    after: Any = None,
    *,
    type_: str | None = None,
    after_unknown: Any = None,
    previous_address: str | None = None,
    action_reason: str | None = None,
    mode: str = "managed",
) -> ResourceChange:
    action, order = classify_actions(actions)
    resource_type = type_ or address.split(".")[-2].split("[", maxsplit=1)[0]
    return ResourceChange(
        address=address,
        type=resource_type,
        name=address.rsplit(".", maxsplit=1)[-1],
        action=action,
        actions=tuple(actions),
        mode=mode,
        previous_address=previous_address,
        replace_order=order,
        action_reason=action_reason,
        before=before,
        after=after,
        after_unknown=after_unknown or {},
    )


def changeset(*changes: ResourceChange) -> ChangeSet:
    return ChangeSet(source="test.json", fingerprint="sha256:test", format_version="1.2", changes=changes)


def plan_resource(address: str, actions: list[str], before: Any, after: Any, **masks: Any) -> dict[str, Any]:
    """One entry of a plan's `resource_changes` as `terraform show -json` writes it; `masks` may give
    before_sensitive, after_sensitive and after_unknown (absent: nothing marked)."""
    kind, name = address.rsplit(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": f"registry.terraform.io/hashicorp/{kind.split('_', 1)[0]}",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": masks.get("after_unknown", {}),
            "before_sensitive": masks.get("before_sensitive", {} if before is not None else False),
            "after_sensitive": masks.get("after_sensitive", {} if after is not None else False),
        },
    }
