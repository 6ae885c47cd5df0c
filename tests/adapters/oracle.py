"""What a plan file says about its own changes, read with the json module: the tests' oracle."""

from __future__ import annotations

import math
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


# What makes a document a plan, as DESIGN.md's intake contract reads it: guardrail refuses "a state file or
# anything else that is not a plan, an unsupported major format, `errored: true`, an action list it does
# not know". Spelled out, section by section, independently of the parser.
SUPPORTED_MAJORS = ("0", "1")
PLAN_SECTIONS = ("resource_changes", "planned_values", "configuration", "output_changes")  # at least one
OBJECT_SECTIONS = ("output_changes", "variables", "configuration", "prior_state")
LIST_SECTIONS = ("resource_changes", "resource_drift", "relevant_attributes")


def refusal(document: Any) -> str | None:
    """Why the contract refuses this JSON document, or None when it is a plan that must be accepted."""
    if not isinstance(document, dict):
        return "not a JSON object"
    version = document.get("format_version")
    if not isinstance(version, str):
        return "no format_version string (not a plan, or a state file)"
    if all(document.get(section) is None for section in PLAN_SECTIONS):
        return "none of a plan's sections"
    if version.split(".", 1)[0] not in SUPPORTED_MAJORS:
        return f"unsupported major format {version}"
    if document.get("errored") is True:
        return "errored: true"
    for section in OBJECT_SECTIONS:
        if not isinstance(document.get(section), dict | None):
            return f"{section} is not an object"
    for section in LIST_SECTIONS:
        if not isinstance(document.get(section), list | None):
            return f"{section} is not a list"
    counted: list[str] = []
    for position, entry in enumerate(document.get("resource_changes") or []):
        if not isinstance(entry, dict):
            return f"resource_changes[{position}] is not an object"
        address, change = entry.get("address"), entry.get("change")
        if not isinstance(address, str) or not address:
            return f"resource_changes[{position}] has no address"
        action = _known_action(change.get("actions") if isinstance(change, dict) else None)
        if action is None:
            return f"{address}: no action list, or one the contract does not list"
        counted.append(action)
    for name, body in (document.get("output_changes") or {}).items():
        if _known_action(body.get("actions") if isinstance(body, dict) else None) is None:
            return f"output {name}: no action list, or one the contract does not list"
    if document.get("applyable") is False and any(action not in ("no-op", "read") for action in counted):
        return "terraform marked it applyable: false, yet it changes something"
    return None


def _known_action(actions: Any) -> str | None:
    if not isinstance(actions, list) or not all(isinstance(word, str) for word in actions):
        return None
    return CONTRACT.get(tuple(actions))


def strict_json(value: Any) -> bool:
    """No lone surrogate in any text and no number beyond a double: JSON that every reader takes alike
    (the json module takes both; a stricter reader may refuse them)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    if isinstance(value, list):
        return all(strict_json(item) for item in value)
    if isinstance(value, dict):
        return all(strict_json(key) and strict_json(item) for key, item in value.items())
    return True
