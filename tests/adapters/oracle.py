"""What a plan file says about its own changes, read with the json module: the tests' oracle."""

from __future__ import annotations

from collections import Counter
from typing import Any

# DESIGN.md's intake contract: each action list Terraform writes, and the one action it counts as.
CONTRACT = {
    ("no-op",): "no-op",
    ("create",): "create",
    ("read",): "read",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("forget",): "forget",
    ("create", "forget"): "forget",
}
ORDER = ("delete", "replace", "forget", "update", "create", "read", "no-op")


def entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's resource_changes entries (none when the key is absent or null)."""
    return list(document.get("resource_changes") or [])


def expected_summary(document: dict[str, Any]) -> dict[str, int]:
    """Counts per action, as ChangeSet.summary() must report them."""
    counts = Counter(CONTRACT[tuple(rc["change"]["actions"])] for rc in entries(document))
    return {action: counts.get(action, 0) for action in ORDER}
