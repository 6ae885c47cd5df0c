"""Where API Priority and Fairness sends a request: the check that the rollback still gets through an
overloaded API server and that the workload is held in the bounded level guardrail gave it.

The API server classifies each request by the FlowSchemas, lowest matchingPrecedence first (ties by
name): the first schema with a rule matching the request's subject and its verb, API group, resource and
namespace (or cluster scope) decides its priority level. Read from the live FlowSchemas and
PriorityLevelConfigurations after guardrail applied its own, so a schema someone else put ahead of
guardrail's is seen, not assumed away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.kube.cluster import Identity
from guardrail.core.kube.objects import mapping_at

EXEMPT = "Exempt"
_SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A resource request as APF matches it."""

    verb: str
    group: str
    resource: str  # the plural, `daemonsets`
    namespace: str | None  # None: cluster-scoped

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.verb} {self.resource}{'.' + self.group if self.group else ''}{where}"


@dataclass(frozen=True, slots=True)
class Route:
    """The FlowSchema and priority level a request lands in."""

    flow_schema: str | None  # None: no schema matches (the server would reject it)
    level: str | None
    level_type: str | None  # "Exempt", "Limited", or None when the level does not exist
    shares: int  # nominalConcurrencyShares of a Limited level
    borrowing_limit_percent: int | None = None  # None: unlimited borrowing

    def describe(self) -> str:
        if self.flow_schema is None:
            return "no FlowSchema matches"
        if self.level_type is None:
            return f"FlowSchema {self.flow_schema} -> missing priority level {self.level}"
        if self.level_type == EXEMPT:
            return f"FlowSchema {self.flow_schema} -> {self.level} (Exempt)"
        borrowing = "" if self.borrowing_limit_percent is None else f", borrows {self.borrowing_limit_percent}%"
        return f"FlowSchema {self.flow_schema} -> {self.level} (Limited, {self.shares} shares{borrowing})"


def service_account_identity(namespace: str, name: str) -> Identity:
    """How the API server authenticates a pod's service account."""
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated")
    return Identity(f"{_SA_PREFIX}{namespace}:{name}", groups)


def route(
    schemas: Sequence[Mapping[str, Any]], levels: Sequence[Mapping[str, Any]], who: Identity, request: ApiRequest
) -> Route:
    """Where `who`'s `request` goes under these FlowSchemas and PriorityLevelConfigurations."""
    by_name = {str(mapping_at(level, "metadata").get("name", "")): level for level in levels}
    ordered = sorted(schemas, key=lambda s: (_precedence(s), str(mapping_at(s, "metadata").get("name", ""))))
    for schema in ordered:
        spec = mapping_at(schema, "spec")
        if not any(_rule_matches(rule, who, request) for rule in spec.get("rules") or () if isinstance(rule, Mapping)):
            continue
        level_name = str(mapping_at(spec, "priorityLevelConfiguration").get("name", ""))
        name = str(mapping_at(schema, "metadata").get("name", ""))
        level = by_name.get(level_name)
        if level is None:
            return Route(name, level_name, None, 0)
        level_spec = mapping_at(level, "spec")
        kind = str(level_spec.get("type", ""))
        limited = mapping_at(level_spec, "limited")
        borrowing = limited.get("borrowingLimitPercent")
        return Route(
            name,
            level_name,
            kind,
            int(limited.get("nominalConcurrencyShares", 30) or 0),
            int(borrowing) if isinstance(borrowing, int) else None,
        )
    return Route(None, None, None, 0)


def rollback_route_problem(routes: Mapping[ApiRequest, Route], workload_shares: int, workload_level: str) -> str | None:
    """Why the rollback's requests might not be served by an overloaded API server, or None: each must land
    in an Exempt level, or in a Limited one other than the workload's with more shares than it."""
    for request, where in routes.items():
        if where.level_type == EXEMPT:
            continue
        if where.level_type is not None and where.level != workload_level and where.shares > workload_shares:
            continue
        return f"the rollback's `{request}` goes to {where.describe()}: neither exempt nor above the workload's level"
    return None


def workload_route_problem(where: Route, own_schema: str) -> str | None:
    """Why the workload's requests are not held in guardrail's bounded level, or None."""
    if where.flow_schema != own_schema:
        return f"the workload's requests go to {where.describe()}, ahead of guardrail's {own_schema}"
    if where.level_type != "Limited" or where.borrowing_limit_percent != 0:
        return f"the workload's level is not bounded: {where.describe()}"
    return None


def _rule_matches(rule: Mapping[str, Any], who: Identity, request: ApiRequest) -> bool:
    subjects = [s for s in rule.get("subjects") or () if isinstance(s, Mapping)]
    if not any(_subject_matches(s, who) for s in subjects):
        return False
    return any(_resource_matches(r, request) for r in rule.get("resourceRules") or () if isinstance(r, Mapping))


def _subject_matches(subject: Mapping[str, Any], who: Identity) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return mapping_at(subject, "user").get("name") in (who.username, "*")
    if kind == "Group":
        return mapping_at(subject, "group").get("name") in (*who.groups, "*")
    if kind == "ServiceAccount" and who.username.startswith(_SA_PREFIX):
        namespace, _, name = who.username.removeprefix(_SA_PREFIX).partition(":")
        account = mapping_at(subject, "serviceAccount")
        return account.get("namespace") == namespace and account.get("name") in (name, "*")
    return False


def _resource_matches(rule: Mapping[str, Any], request: ApiRequest) -> bool:
    def has(field: str, value: str) -> bool:
        listed = rule.get(field) or ()
        return value in listed or "*" in listed

    if not (has("verbs", request.verb) and has("apiGroups", request.group) and has("resources", request.resource)):
        return False
    if request.namespace is None:
        return bool(rule.get("clusterScope"))
    return has("namespaces", request.namespace)


def _precedence(schema: Mapping[str, Any]) -> int:
    value = mapping_at(schema, "spec").get("matchingPrecedence", 1000)
    return int(value) if isinstance(value, int) else 1000
