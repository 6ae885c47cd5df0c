"""Control-plane cost of a per-node workload: a DaemonSet whose service account may list or watch pods,
nodes, endpoints, endpointslices, events, secrets or configmaps in every namespace.

Each of its pods (one per node reached) may then list every such object of the cluster, so the API
server's load grows with nodes x objects: invisible on a small test cluster, and how a telemetry agent
took down the control planes of the largest clusters of one fleet. Soft, naming the grant, the verbs,
the node count and the object counts when known.

The grant is read from the RBAC of the same change set and, with a context, the live ClusterRoles and
ClusterRoleBindings. Offline, live bindings cannot be seen: a DaemonSet the change set does not grant
gets an advisory note saying so (not an unknown-outcome finding, for the reason reach gives: it would
hold every offline DaemonSet for approval). A change of RBAC alone that newly grants a live DaemonSet's
service account is reported at the changed binding or role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView, KubeChangeSet
from guardrail.core.kube.derive import change_address, qualified
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.rbac import RBAC_GROUP, WATCHED, ClusterRbac, ListGrant
from guardrail.core.kube.reach import NodeIndexes
from guardrail.core.kube.rule_catalog import CONTROL_PLANE_COST
from guardrail.core.kube.scheduling import Placement
from guardrail.core.kube.wording import cluster_phrase
from guardrail.core.kube.workloads import DEFAULT_NAMESPACE, is_daemonset, pod_spec, service_account
from guardrail.core.verdict import Enforcement, Finding

_WATCHED = {watched.resource: watched for watched in WATCHED}


@dataclass(frozen=True)
class ControlPlaneCostRule:
    """DaemonSets that may list or watch cluster-wide from every node; `enforcement` weighs such a grant (the
    note that offline RBAC is unknown stays advisory)."""

    enforcement: Enforcement = Enforcement.SOFT
    id: str = CONTROL_PLANE_COST

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        rbac: dict[str, ClusterRbac] = {}
        indexes = NodeIndexes(changes)
        with_cluster = qualified(changes)
        findings: list[Finding] = []
        for change in changes.changes:
            if change.action in (Action.DELETE, Action.NO_OP) or not is_daemonset(change.ref):
                continue
            spec = pod_spec(change.after)
            if spec is None:
                continue
            if change.cluster not in rbac:
                rbac[change.cluster] = ClusterRbac.after(changes, change.cluster)
            cluster_rbac = rbac[change.cluster]
            namespace, account = change.ref.namespace or DEFAULT_NAMESPACE, service_account(spec)
            address = change_address(change, with_cluster=with_cluster)
            grants = cluster_rbac.grants(namespace, account)
            if grants:
                nodes = indexes.of(change.cluster)
                reached = None if nodes is None else nodes.admitted(Placement.of_template(spec, daemonset=True))
                message = _message(
                    f"{namespace}/{account}", grants, changes.cluster(change.cluster), change.cluster, reached
                )
                findings.append(Finding(self.id, self.enforcement, address, message))
            elif not cluster_rbac.live_known:
                view = changes.cluster(change.cluster)
                why = (
                    "is unknown (no context)"
                    if view is None or view.live is None
                    else "could not be read (listing ClusterRoles or ClusterRoleBindings is forbidden)"
                )
                message = (
                    f"service account {namespace}/{account}: this change grants it no cluster-wide list or watch, "
                    f"and the live RBAC of {cluster_phrase(change.cluster)} {why}, so a live "
                    "ClusterRoleBinding could still let each of its pods list every pod, node or secret"
                )
                findings.append(Finding(self.id, Enforcement.ADVISORY, address, message))
        for cluster in {c.cluster for c in changes.changes}:
            findings.extend(self._granted_to_live_daemonsets(changes, cluster, rbac, indexes))
        return findings

    def _granted_to_live_daemonsets(
        self, changes: KubeChangeSet, cluster: str, rbac: dict[str, ClusterRbac], indexes: NodeIndexes
    ) -> list[Finding]:
        """Live DaemonSets outside the change set whose service account the change's RBAC newly grants."""
        view = changes.cluster(cluster)
        with_cluster = qualified(changes)
        changed_rbac = {
            (c.ref.kind, c.ref.name): change_address(c, with_cluster=with_cluster)
            for c in changes.on(cluster)
            if c.ref.group == RBAC_GROUP and c.ref.kind in ("ClusterRole", "ClusterRoleBinding")
        }
        if view is None or view.live is None or not changed_rbac:
            return []
        after = rbac.setdefault(cluster, ClusterRbac.after(changes, cluster))
        before = ClusterRbac.after(changes, cluster, with_changes=False)
        in_change = {c.ref for c in changes.on(cluster)}
        findings = []
        for daemonset in (*view.live_of_kind("DaemonSet", "apps"), *view.live_of_kind("DaemonSet", "extensions")):
            ref = _ref(daemonset)
            spec = pod_spec(daemonset) if ref is not None else None
            if ref is None or spec is None or ref in in_change:
                continue
            namespace, account = ref.namespace or DEFAULT_NAMESPACE, service_account(spec)
            new = [g for g in after.grants(namespace, account) if g not in before.grants(namespace, account)]
            if not new:
                continue
            nodes = indexes.of(cluster)
            reached = None if nodes is None else nodes.admitted(Placement.of_template(spec, daemonset=True))
            address = changed_rbac.get(("ClusterRoleBinding", new[0].binding)) or changed_rbac.get(
                ("ClusterRole", new[0].cluster_role)
            )
            message = f"live DaemonSet {ref.address}: " + _message(
                f"{namespace}/{account}", new, view, cluster, reached
            )
            findings.append(Finding(self.id, self.enforcement, address, message))
        return findings


def _message(
    account: str, grants: Sequence[ListGrant], view: ClusterView | None, cluster: str, reached: int | None
) -> str:
    granted = "; ".join(
        f"ClusterRoleBinding {g.binding} -> ClusterRole {g.cluster_role}: {', '.join(g.verbs)} {', '.join(g.resources)}"
        for g in grants
    )
    resources = [w.resource for w in WATCHED if any(w.resource in g.resources for g in grants)]
    if reached is None:
        pods, per = "pods (one per node reached; node count unknown)", "N pods"
    else:
        pods, per = f"{reached:,} pods (one per node reached)", f"{reached:,} pods"
    loads = []
    for resource in resources:
        verb = "list" if any(resource in g.resources and "list" in g.verbs for g in grants) else "watch"
        count = _object_count(view, resource)
        counted = f"{count:,} objects" if count is not None else "object count unknown"
        loads.append(f"{per} x {verb} {resource} ({counted})")
    return (
        f"service account {account} may list or watch in every namespace ({granted}): on {cluster_phrase(cluster)}, "
        f"each of its {pods} may read every such object, {', '.join(loads)}. The API server's load grows with "
        "nodes x objects, which a small test cluster does not show: scope it to the node's own objects (a "
        "fieldSelector on spec.nodeName, namespaced Roles) or roll it out with `guardrail rollout` while watching "
        "the control plane"
    )


def _object_count(view: ClusterView | None, resource: str) -> int | None:
    if view is None:
        return None
    key = _WATCHED[resource].count_key
    if view.counts is not None and key in view.counts:
        return view.counts[key]
    if resource == "nodes" and view.nodes is not None:
        return len(view.nodes)
    return None


def _ref(obj: Mapping[str, Any]) -> ObjectRef | None:
    try:
        return ObjectRef.of(obj)
    except BadInputError:
        return None  # a live object without a name cannot be matched to anything
