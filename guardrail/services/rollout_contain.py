"""Containment before the first step, verified on the cluster itself: the workload's bounded priority
level, the rollback identity's exempt FlowSchema, and a check, on the live APF objects, that every request
the rollback makes is served at the exempt level (or above the workload's) and that the workload's
requests land in its bounded level. A FlowSchema someone else put ahead of guardrail's fails the check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.rollout.apf import (
    ApiRequest,
    Route,
    rollback_route_problem,
    route,
    service_account_identity,
    workload_route_problem,
)
from guardrail.core.rollout.manifests import (
    FLOWCONTROL_API,
    containment,
    is_daemonset,
    service_account,
    workload_flow_schema,
)

FIELD_MANAGER = "guardrail"
# What a rollback asks of the API server besides the objects themselves: find the held nodes, release them.
_NODE_REQUESTS = (ApiRequest("list", "", "nodes", None), ApiRequest("patch", "", "nodes", None))


def contain(
    cluster: Cluster,
    daemonset: Mapping[str, Any],
    manifests: Sequence[Mapping[str, Any]],
    before: Mapping[str, Any],
    *,
    shares: int,
) -> str:
    """Apply containment for the rollback identity the cluster names, then verify the routing; returns
    what was verified, for the record. Raises ClusterError when the cluster refuses or the routing is not
    what the rollback needs (the rollout must not start there)."""
    who = cluster.identity()
    for contained in containment(daemonset, shares=shares, rollback_user=who.username):
        cluster.apply(contained, field_manager=FIELD_MANAGER)
    schemas = cluster.list_objects(FLOWCONTROL_API, "FlowSchema")
    levels = cluster.list_objects(FLOWCONTROL_API, "PriorityLevelConfiguration")
    own = workload_flow_schema(daemonset)
    rollback = {
        request: route(schemas, levels, who, request) for request in _rollback_requests(cluster, manifests, before)
    }
    problem = rollback_route_problem(rollback, shares, own)
    if problem is not None:
        raise ClusterError(cluster.name, f"rollback path not protected for {who.username}: {problem}")
    namespace, account = service_account(daemonset)
    workload = route(
        schemas, levels, service_account_identity(namespace, account), ApiRequest("list", "", "pods", None)
    )
    problem = workload_route_problem(workload, own)
    if problem is not None:
        raise ClusterError(cluster.name, f"workload not contained: {problem}")
    return f"rollback as {who.username}: {_routes(rollback)}; workload {namespace}/{account}: {workload.describe()}"


def _rollback_requests(
    cluster: Cluster, manifests: Sequence[Mapping[str, Any]], before: Mapping[str, Any]
) -> list[ApiRequest]:
    # In the order the rollback makes them: the DaemonSet first, the other objects, then the nodes.
    requests = []
    for manifest in sorted(manifests, key=lambda m: not is_daemonset(m)):
        ref = ObjectRef.of(manifest)
        served = cluster.served(str(manifest["apiVersion"]), ref.kind)
        plural = served.plural if served is not None else f"{ref.kind.lower()}s"
        namespaced = served.namespaced if served is not None else ref.namespace is not None
        namespace = (ref.namespace or cluster.default_namespace) if namespaced else None
        verb = "delete" if before.get(ref.address) is None else "patch"
        requests.append(ApiRequest(verb, ref.group, plural, namespace))
    return [*requests, *_NODE_REQUESTS]


def _routes(routes: Mapping[ApiRequest, Route]) -> str:
    described = sorted({where.describe() for where in routes.values()})
    return "; ".join(described)
