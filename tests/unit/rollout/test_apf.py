"""APF classification as the API server does it, and the two checks made before the first step: the
rollback's requests reach an exempt (or higher) level, the workload's land in guardrail's bounded level."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.core.kube.cluster import Identity
from guardrail.core.rollout.apf import (
    ApiRequest,
    Route,
    rollback_route_problem,
    route,
    service_account_identity,
    workload_route_problem,
)
from guardrail.core.rollout.manifests import containment, workload_flow_schema

FLOWCONTROL = "flowcontrol.apiserver.k8s.io/v1"
EVERYTHING = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": True, "namespaces": ["*"]}
AGENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "telemetry"},
    "spec": {"template": {"spec": {"serviceAccountName": "agent"}}},
}
OPERATOR = Identity("ops@example.com", ("oncall", "system:authenticated"))
DELETE_AGENT = ApiRequest("delete", "apps", "daemonsets", "telemetry")


def _level(name: str, kind: str = "Limited", shares: int = 30, borrowing: int | None = None) -> dict[str, Any]:
    limited: dict[str, Any] = {"nominalConcurrencyShares": shares}
    if borrowing is not None:
        limited["borrowingLimitPercent"] = borrowing
    spec: dict[str, Any] = {"type": kind, "exempt": {}} if kind == "Exempt" else {"type": kind, "limited": limited}
    return {"apiVersion": FLOWCONTROL, "kind": "PriorityLevelConfiguration", "metadata": {"name": name}, "spec": spec}


def _schema(
    name: str, level: str, precedence: int, subject: dict[str, Any], rule: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": FLOWCONTROL,
        "kind": "FlowSchema",
        "metadata": {"name": name},
        "spec": {
            "matchingPrecedence": precedence,
            "priorityLevelConfiguration": {"name": level},
            "rules": [{"subjects": [subject], "resourceRules": [rule or EVERYTHING]}],
        },
    }


MANDATORY = [
    _level("exempt", "Exempt"),
    _level("catch-all", shares=5),
    _schema("exempt", "exempt", 1, {"kind": "Group", "group": {"name": "system:masters"}}),
    _schema("catch-all", "catch-all", 10000, {"kind": "Group", "group": {"name": "system:authenticated"}}),
]


def _split(objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return [o for o in objects if o["kind"] == "FlowSchema"], [o for o in objects if o["kind"] != "FlowSchema"]


def _contained(*extra: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return _split([*MANDATORY, *containment(AGENT, shares=20, rollback_user=OPERATOR.username), *extra])


def test_guardrails_containment_routes_the_rollback_to_exempt_and_bounds_the_workload() -> None:
    schemas, levels = _contained()
    rollback = route(schemas, levels, OPERATOR, DELETE_AGENT)
    assert rollback == Route("guardrail-rollback", "exempt", "Exempt", 30)
    assert rollback_route_problem({DELETE_AGENT: rollback}, 20, workload_flow_schema(AGENT)) is None
    workload = route(
        schemas, levels, service_account_identity("telemetry", "agent"), ApiRequest("list", "", "pods", None)
    )
    assert workload.flow_schema == "guardrail-workload-telemetry-agent"
    assert (workload.level_type, workload.shares, workload.borrowing_limit_percent) == ("Limited", 20, 0)
    assert workload_route_problem(workload, workload_flow_schema(AGENT)) is None


def test_without_containment_everyone_lands_in_catch_all() -> None:
    schemas, levels = _split(MANDATORY)
    where = route(schemas, levels, OPERATOR, DELETE_AGENT)
    assert where.describe() == "FlowSchema catch-all -> catch-all (Limited, 5 shares)"
    problem = rollback_route_problem({DELETE_AGENT: where}, 20, "guardrail-workload-telemetry-agent")
    assert problem == (
        "the rollback's `delete daemonsets.apps in telemetry` goes to FlowSchema catch-all -> catch-all "
        "(Limited, 5 shares): neither exempt nor above the workload's level"
    )
    anonymous = Identity("nobody", ())
    assert route(schemas, levels, anonymous, DELETE_AGENT) == Route(None, None, None, 0)


def test_a_schema_ahead_of_guardrails_decides_and_is_caught() -> None:
    ahead = _schema("team-ops", "ops", 100, {"kind": "User", "user": {"name": "ops@example.com"}})
    schemas, levels = _contained(ahead, _level("ops", shares=10))
    where = route(schemas, levels, OPERATOR, DELETE_AGENT)
    assert (where.flow_schema, where.level) == ("team-ops", "ops")
    assert "neither exempt nor above" in (rollback_route_problem({DELETE_AGENT: where}, 20, "w") or "")
    # A level with more shares than the workload's is enough: the workload cannot starve it.
    schemas, levels = _contained(ahead, _level("ops", shares=50))
    assert rollback_route_problem({DELETE_AGENT: route(schemas, levels, OPERATOR, DELETE_AGENT)}, 20, "w") is None


def test_a_schema_that_exempts_the_workload_is_caught() -> None:
    account = {"kind": "ServiceAccount", "serviceAccount": {"namespace": "telemetry", "name": "*"}}
    schemas, levels = _contained(_schema("vip", "exempt", 50, account))
    workload = route(
        schemas, levels, service_account_identity("telemetry", "agent"), ApiRequest("list", "", "pods", None)
    )
    assert workload_route_problem(workload, "guardrail-workload-telemetry-agent") == (
        "the workload's requests go to FlowSchema vip -> exempt (Exempt), ahead of guardrail's "
        "guardrail-workload-telemetry-agent"
    )


@pytest.mark.parametrize(
    ("rule", "request_", "matches"),
    [
        (
            {"verbs": ["delete"], "apiGroups": ["apps"], "resources": ["daemonsets"], "namespaces": ["telemetry"]},
            DELETE_AGENT,
            True,
        ),
        (
            {"verbs": ["get"], "apiGroups": ["apps"], "resources": ["daemonsets"], "namespaces": ["*"]},
            DELETE_AGENT,
            False,
        ),
        ({"verbs": ["*"], "apiGroups": [""], "resources": ["*"], "namespaces": ["*"]}, DELETE_AGENT, False),
        ({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["kube-system"]}, DELETE_AGENT, False),
        (
            {"verbs": ["patch"], "apiGroups": [""], "resources": ["nodes"], "namespaces": ["*"]},
            ApiRequest("patch", "", "nodes", None),
            False,
        ),
        (
            {"verbs": ["patch"], "apiGroups": [""], "resources": ["nodes"], "clusterScope": True},
            ApiRequest("patch", "", "nodes", None),
            True,
        ),
    ],
)
def test_resource_rules_match_verb_group_resource_and_scope(
    rule: dict[str, Any], request_: ApiRequest, matches: bool
) -> None:
    schemas, levels = _split([_level("l"), _schema("s", "l", 10, {"kind": "Group", "group": {"name": "*"}}, rule)])
    assert (route(schemas, levels, OPERATOR, request_).flow_schema == "s") is matches


def test_equal_precedence_goes_by_name_and_a_missing_level_is_named() -> None:
    subject = {"kind": "Group", "group": {"name": "oncall"}}
    schemas, levels = _split(
        [_schema("b", "exempt", 5, subject), _schema("a", "gone", 5, subject), _level("exempt", "Exempt")]
    )
    where = route(schemas, levels, OPERATOR, DELETE_AGENT)
    assert where.describe() == "FlowSchema a -> missing priority level gone"
    assert "missing priority level gone" in (rollback_route_problem({DELETE_AGENT: where}, 20, "w") or "")
