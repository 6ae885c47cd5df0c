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
