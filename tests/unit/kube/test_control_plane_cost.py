"""Control-plane cost of per-node workloads: cluster-wide list/watch grants of a DaemonSet's service account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView, KubeChange
from guardrail.core.kube.control_plane_cost import ControlPlaneCostRule
from guardrail.core.kube.rbac import ClusterRbac, ListGrant, selects
from guardrail.core.kube.rule_catalog import CONTROL_PLANE_COST
from guardrail.core.policy import rule_info
from guardrail.core.verdict import Enforcement, Finding
from tests.unit.kube.builders import changeset, kube_change, node, workload
from tests.unit.kube.corpus import corpus_objects

RBAC = "rbac.authorization.k8s.io/v1"
DATADOG = "datadog-agent/Dockerfiles/manifests/all-containers"
LINUX = tuple(node(f"n{i}", {"kubernetes.io/os": "linux", "kubernetes.io/hostname": f"n{i}"}) for i in range(5_000))
COUNTS = {"pod": 150_000, "node": 5_000, "secret": 40_000}


def cluster_role(name: str, rules: list[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name, **metadata}, "rules": rules}


def binding(name: str, role: str, *subjects: dict[str, str], kind: str = "ClusterRoleBinding") -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": {"name": name, "namespace": "agents"} if kind == "RoleBinding" else {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": list(subjects),
    }


def account(name: str = "agent", namespace: str = "agents") -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


LIST_PODS = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
AGENT = workload("DaemonSet", "agent", {"serviceAccountName": "agent"}, namespace="agents")


def _evaluate(objects: Sequence[Mapping[str, Any]], view: ClusterView | None = None) -> list[Finding]:
    view = view or ClusterView("prod", nodes=LINUX, counts=COUNTS, live=())
    changes = [kube_change(o, cluster=view.name) for o in objects]
    return list(ControlPlaneCostRule().evaluate(changeset(changes, view)))


def test_datadog_agent_is_soft_with_nodes_times_objects() -> None:
    objects = corpus_objects(f"{DATADOG}/rbac.yaml", f"{DATADOG}/daemonset.yaml")
    findings = _evaluate(objects)
    assert findings == [
        Finding(
            CONTROL_PLANE_COST,
            Enforcement.SOFT,
            "daemonset.apps/default/datadog",
            "service account default/datadog may list or watch in every namespace (ClusterRoleBinding datadog -> "
            "ClusterRole datadog: list, watch pods, nodes, endpoints, events): on cluster prod, each of its 5,000 "
            "pods (one per node reached) may read every such object, 5,000 pods x list pods (150,000 objects), "
            "5,000 pods x list nodes (5,000 objects), 5,000 pods x list endpoints (object count unknown), 5,000 pods "
            "x list events (object count unknown). The API server's load grows with nodes x objects, which a small "
            "test cluster does not show: scope it to the node's own objects (a fieldSelector on spec.nodeName, "
            "namespaced Roles) or roll it out with `guardrail rollout` while watching the control plane",
        )
    ]


def test_node_exporter_is_the_negative_control() -> None:
    objects = corpus_objects(
        "kube-prometheus/manifests/nodeExporter-clusterRole.yaml",
        "kube-prometheus/manifests/nodeExporter-clusterRoleBinding.yaml",
        "kube-prometheus/manifests/nodeExporter-serviceAccount.yaml",
        "kube-prometheus/manifests/nodeExporter-daemonset.yaml",
    )
    assert _evaluate(objects) == []


@pytest.mark.parametrize("suffix", ["", "-1.22"])
def test_fluent_bit_logging_agent_lists_pods_cluster_wide(suffix: str) -> None:
    objects = corpus_objects(
        f"fluent-bit-kubernetes-logging/fluent-bit-role{suffix}.yaml",
        f"fluent-bit-kubernetes-logging/fluent-bit-role-binding{suffix}.yaml",
        "fluent-bit-kubernetes-logging/fluent-bit-service-account.yaml",
        "fluent-bit-kubernetes-logging/output/elasticsearch/fluent-bit-ds.yaml",
    )
    [finding] = _evaluate(objects)
    assert (finding.enforcement, finding.address) == (Enforcement.SOFT, "daemonset.apps/logging/fluent-bit")
    assert "ClusterRole fluent-bit-read: list, watch pods)" in finding.message
    assert "5,000 pods x list pods (150,000 objects)." in finding.message


def test_live_rbac_counts_and_the_change_set_overrides_it() -> None:
    live = (cluster_role("reader", LIST_PODS), binding("agent-reads", "reader", account()))
    view = ClusterView("prod", nodes=LINUX[:300], counts=COUNTS, live=live)
    assert [f.enforcement for f in _evaluate([AGENT], view)] == [Enforcement.SOFT]
    # The same change deletes the binding: nothing is granted once it is applied.
    changes = [
        kube_change(AGENT, cluster="prod"),
        kube_change(binding("agent-reads", "reader", account()), cluster="prod", action=Action.DELETE),
    ]
    assert list(ControlPlaneCostRule().evaluate(changeset(changes, view))) == []


def test_offline_without_a_grant_is_an_advisory_note() -> None:
    [finding] = _evaluate([AGENT], ClusterView("offline"))
    assert finding.enforcement is Enforcement.ADVISORY
    assert finding.message == (
        "service account agents/agent: this change grants it no cluster-wide list or watch, and the live RBAC of "
        "the target cluster is unknown (no context), so a live ClusterRoleBinding could still let each of its pods "
        "list every pod, node or secret"
    )
    granted = _evaluate([AGENT, cluster_role("r", LIST_PODS), binding("b", "r", account())], ClusterView("offline"))
    assert [f.enforcement for f in granted] == [Enforcement.SOFT]
    assert "pods (one per node reached; node count unknown)" in granted[0].message
    assert "N pods x list pods (object count unknown)" in granted[0].message


def test_rbac_change_alone_that_grants_a_live_daemonset() -> None:
    live = (AGENT, cluster_role("reader", LIST_PODS))
    view = ClusterView("prod", nodes=LINUX[:200], counts=COUNTS, live=live)
    findings = _evaluate([binding("agent-reads", "reader", account())], view)
    assert [(f.enforcement, f.address) for f in findings] == [
        (Enforcement.SOFT, "clusterrolebinding.rbac.authorization.k8s.io/agent-reads")
    ]
    assert findings[0].message.startswith(
        "live DaemonSet daemonset.apps/agents/agent: service account agents/agent may list or watch"
    )
    assert "200 pods x list pods (150,000 objects)" in findings[0].message
    # A grant the live cluster already had is not new.
    already = ClusterView("prod", live=(*live, binding("agent-reads", "reader", account())))
    assert _evaluate([binding("agent-reads", "reader", account())], already) == []


def _grants(*objects: Mapping[str, Any], namespace: str = "agents", name: str = "agent") -> list[ListGrant]:
    changes: list[KubeChange] = [kube_change(o, cluster="prod") for o in objects]
    rbac = ClusterRbac.after(changeset(changes, ClusterView("prod", live=())), "prod")
    return rbac.grants(namespace, name)


def test_wildcards_grant_every_watched_resource() -> None:
    everything = cluster_role("admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    assert _grants(everything, binding("b", "admin", account())) == [
        ListGrant(
            "b",
            "admin",
            ("list", "watch"),
            ("pods", "nodes", "endpoints", "endpointslices", "events", "secrets", "configmaps"),
        )
    ]


@pytest.mark.parametrize(
    ("rule", "resources"),
    [
        ({"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["watch"]}, ("endpointslices",)),
        ({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["list"]}, ("events",)),
        ({"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["list"]}, ("secrets", "configmaps")),
        ({"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["list"]}, ()),  # apps serves no pods
        ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["list"]}, ()),  # a subresource
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "create"]}, ()),
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"], "resourceNames": ["one"]}, ()),
        ({"nonResourceURLs": ["/metrics"], "verbs": ["get"]}, ()),
    ],
)
def test_which_rules_grant_cluster_wide_listing(rule: dict[str, Any], resources: tuple[str, ...]) -> None:
    grants = _grants(cluster_role("r", [rule]), binding("b", "r", account()))
    assert tuple(r for g in grants for r in g.resources) == resources


@pytest.mark.parametrize(
    ("subject", "granted"),
    [
        ({"kind": "ServiceAccount", "name": "agent", "namespace": "agents"}, True),
        ({"kind": "ServiceAccount", "name": "agent", "namespace": "other"}, False),
        ({"kind": "User", "name": "system:serviceaccount:agents:agent"}, True),
        ({"kind": "Group", "name": "system:serviceaccounts:agents"}, True),
        ({"kind": "Group", "name": "system:serviceaccounts:other"}, False),
        ({"kind": "Group", "name": "system:serviceaccounts"}, True),
        ({"kind": "Group", "name": "system:authenticated"}, True),
        ({"kind": "User", "name": "jane"}, False),
    ],
)
def test_subjects_that_reach_a_service_account(subject: dict[str, str], granted: bool) -> None:
    assert bool(_grants(cluster_role("r", LIST_PODS), binding("b", "r", subject))) is granted


def test_role_bindings_are_namespaced_and_do_not_count() -> None:
    assert _grants(cluster_role("r", LIST_PODS), binding("b", "r", account(), kind="RoleBinding")) == []
    assert _grants(binding("b", "missing-role", account())) == []


def test_aggregated_cluster_roles() -> None:
    aggregate = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": "monitoring"},
        "aggregationRule": {
            "clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]
        },
        "rules": [],  # the controller fills it in; a manifest leaves it empty
    }
    part = cluster_role(
        "secrets-part",
        [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}],
        labels={"rbac.example.com/aggregate-to-monitoring": "true"},
    )
    other = cluster_role("unrelated", LIST_PODS, labels={"team": "x"})
    assert _grants(aggregate, part, other, binding("b", "monitoring", account())) == [
        ListGrant("b", "monitoring", ("watch",), ("secrets",))
    ]


def test_label_selectors() -> None:
    labels = {"tier": "agent", "zone": "a"}
    assert selects({}, labels)
    assert selects({"matchLabels": {"tier": "agent"}}, labels)
    assert not selects({"matchLabels": {"tier": "web"}}, labels)
    assert selects({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}, labels)
    assert not selects({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, labels)
    assert selects({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "zone", "operator": "Sometimes"}]}, labels)


def test_deleted_or_non_daemonset_workloads_are_not_judged() -> None:
    rbac = [cluster_role("r", LIST_PODS), binding("b", "r", account())]
    deployment = workload("Deployment", "agent", {"serviceAccountName": "agent"}, namespace="agents")
    assert _evaluate([deployment, *rbac]) == []
    view = ClusterView("prod", nodes=LINUX[:10], live=())
    changes = [kube_change(AGENT, cluster="prod", action=Action.DELETE)] + [
        kube_change(o, cluster="prod") for o in rbac
    ]
    assert list(ControlPlaneCostRule().evaluate(changeset(changes, view))) == []


def test_default_service_account_and_namespace() -> None:
    bare = workload("DaemonSet", "agent")
    del bare["metadata"]["namespace"]
    findings = _evaluate([bare, cluster_role("r", LIST_PODS), binding("b", "r", account("default", "default"))])
    assert [f.enforcement for f in findings] == [Enforcement.SOFT]
    assert findings[0].message.startswith("service account default/default may list or watch")


def test_rule_registration() -> None:
    rule = ControlPlaneCostRule()
    info = rule_info(rule.id)
    assert rule.id == CONTROL_PLANE_COST == "kube-control-plane-cost"
    assert info is not None
    assert "nodes x objects" in info.description
