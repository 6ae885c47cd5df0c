"""Builders of plan sections for blast radius tests: configuration blocks written the way Terraform emits them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from guardrail.core.blast.graph import DependencyGraph
from guardrail.core.blast.impact import reach
from guardrail.core.change import ChangeSet
from tests.unit.factories import change, changeset

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "terraform-plans"


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"real-world corpus not found at {path}")
    return path


def ref(*references: str) -> dict[str, Any]:
    return {"references": list(references)}


def resource(address: str, depends_on: list[str] | None = None, **expressions: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"address": address, "expressions": expressions}
    if depends_on is not None:
        body["depends_on"] = depends_on
    return body


def module(
    resources: list[dict[str, Any]] | None = None,
    calls: dict[str, dict[str, Any]] | None = None,
    outputs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {"resources": resources or [], "module_calls": calls or {}, "outputs": outputs or {}}


def call(body: dict[str, Any], depends_on: list[str] | None = None, **inputs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"source": "./m", "module": body, "expressions": inputs}
    if depends_on is not None:
        found["depends_on"] = depends_on
    return found


def output(*references: str) -> dict[str, Any]:
    return {"expression": ref(*references)}


def plan(root: dict[str, Any], changes: dict[str, list[str]], prior: list[dict[str, Any]] | None = None) -> ChangeSet:
    """A ChangeSet with the given configuration and changes (address -> Terraform's action list)."""
    built = [
        change(
            address,
            actions,
            None if actions == ["create"] else {},
            None if actions == ["delete"] else {},
            mode="data" if address.startswith("data.") or ".data." in address else "managed",
        )
        for address, actions in changes.items()
    ]
    state = {"values": {"root_module": {"resources": prior}}} if prior is not None else None
    return replace(changeset(*built), configuration={"root_module": root}, prior_state=state)


def impacted(graph: DependencyGraph, address: str) -> set[str]:
    """Everything reachable from `address` along dependents."""
    return {path[-1] for path in reach(graph, address)}
