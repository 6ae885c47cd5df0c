"""APF routing in the simulator: which priority level a request lands in, from the FlowSchemas and
PriorityLevelConfigurations stored (the lowest matchingPrecedence that matches wins, as in a real server)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guardrail.core.kube.objects import ObjectRef

_FLOWCONTROL = "flowcontrol.apiserver.k8s.io/v1"
# The mandatory APF configuration every API server keeps (its `exempt` and `catch-all` levels and schemas).
MANDATORY_APF: tuple[dict[str, Any], ...] = (
    {
        "apiVersion": _FLOWCONTROL,
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "exempt"},
        "spec": {"type": "Exempt", "exempt": {}},
    },
    {
        "apiVersion": _FLOWCONTROL,
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "catch-all"},
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5, "lendablePercent": 0}},
    },
    {
        "apiVersion": _FLOWCONTROL,
        "kind": "FlowSchema",
        "metadata": {"name": "exempt"},
        "spec": {
            "matchingPrecedence": 1,
            "priorityLevelConfiguration": {"name": "exempt"},
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "system:masters"}}],
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "clusterScope": True,
                            "namespaces": ["*"],
                        }
                    ],
                }
            ],
        },
    },
    {
        "apiVersion": _FLOWCONTROL,
        "kind": "FlowSchema",
        "metadata": {"name": "catch-all"},
        "spec": {
            "matchingPrecedence": 10000,
            "priorityLevelConfiguration": {"name": "catch-all"},
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "system:authenticated"}}],
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "clusterScope": True,
                            "namespaces": ["*"],
                        }
                    ],
                }
            ],
        },
    },
)


@dataclass(frozen=True, slots=True)
class Routing:
    exempt: bool  # guardrail's identity is matched by a FlowSchema at the `exempt` level
    bound_level: str | None  # the priority level the workload's service account lands in, when one matches
    bound_shares: int
    workload_flow: tuple[str, str] | None  # (flow schema, priority level) of the workload's requests


def route(objects: Mapping[ObjectRef, Mapping[str, Any]], identity: str, account: tuple[str, str] | None) -> Routing:
    """Where `identity`'s and the workload service account `account` (namespace, name)'s requests go."""
    schemas = sorted(
        (obj for ref, obj in objects.items() if ref.kind == "FlowSchema"),
        key=lambda o: int(o.get("spec", {}).get("matchingPrecedence", 1000)),
    )
    levels = {ref.name: obj for ref, obj in objects.items() if ref.kind == "PriorityLevelConfiguration"}
    exempt = any(_level(s) == "exempt" and _matches_user(s, identity) for s in schemas)
    for schema in schemas:
        level = levels.get(_level(schema))
        if account is not None and level is not None and _matches_account(schema, *account):
            shares = int(level.get("spec", {}).get("limited", {}).get("nominalConcurrencyShares", 30))
            return Routing(exempt, _level(schema), shares, (str(schema["metadata"]["name"]), _level(schema)))
    return Routing(exempt, None, 0, None)


def _level(schema: Mapping[str, Any]) -> str:
    return str(schema.get("spec", {}).get("priorityLevelConfiguration", {}).get("name", ""))


def _subjects(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for rule in schema.get("spec", {}).get("rules", []) for s in rule.get("subjects", [])]


def _matches_user(schema: Mapping[str, Any], user: str) -> bool:
    return any(s.get("kind") == "User" and s.get("user", {}).get("name") in (user, "*") for s in _subjects(schema))


def _matches_account(schema: Mapping[str, Any], namespace: str, name: str) -> bool:
    return any(
        s.get("kind") == "ServiceAccount"
        and s.get("serviceAccount", {}).get("namespace") == namespace
        and s.get("serviceAccount", {}).get("name") in (name, "*")
        for s in _subjects(schema)
    )
