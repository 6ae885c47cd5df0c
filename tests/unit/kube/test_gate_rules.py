"""The Kubernetes rules the gate owns: stateful deletes, unknown kinds, the blast radius, reach, and the
Kubernetes criteria of protect, critical and locks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from guardrail.core.change import Action, ResourceChange
from guardrail.core.kube.blast import kube_blast_radius
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.reach import NodeReachRule
from guardrail.core.kube.stateful import KubeStatefulRule
from guardrail.core.kube.unknown_kinds import UnknownKindsRule
from guardrail.core.locks import LockTarget, new_lock, parse_kube_pattern
from guardrail.core.matching import KubeCriteria, Match, Selector
from guardrail.core.rules.locks import ActiveLocksRule
from guardrail.core.verdict import Enforcement
from tests.unit.kube.helpers import derived, nodes, obj, offline, workload

CRD = obj(
    "CustomResourceDefinition",
    "backups.example.com",
    api="apiextensions.k8s.io/v1",
    spec={"group": "example.com", "names": {"kind": "Backup", "plural": "backups"}},
)


def live_view(*live: dict[str, Any], name: str = "offline", **more: Any) -> ClusterView:
    return ClusterView(name, live=live, **more)


# --- stateful deletes -------------------------------------------------------------------------------------


def test_namespace_delete_counts_live_objects_or_says_unknown() -> None:
    ns = obj("Namespace", "shop")
    inside = obj("ConfigMap", "settings", "shop")
    offline_finding = KubeStatefulRule().evaluate(offline(ns, inside, delete=True))
    assert [(f.address, f.enforcement) for f in offline_finding] == [("namespace/shop", Enforcement.SOFT)]
    assert "what it holds on the cluster is unknown; 1 object of this change is in it" in offline_finding[0].message
    view = live_view(obj("Pod", "p1", "shop"), obj("Pod", "p2", "shop"), obj("Pod", "p3", "other"))
    counted = KubeStatefulRule(Enforcement.HARD).evaluate(offline(ns, clusters=(view,), delete=True))
    assert counted[0].enforcement is Enforcement.HARD
    assert "deletes everything in it: 2 live objects" in counted[0].message


def test_namespace_count_is_incomplete_only_for_forbidden_kinds_that_live_in_namespaces() -> None:
    ns = obj("Namespace", "shop")
    live = (obj("ConfigMap", "a", "shop"), obj("ConfigMap", "b", "shop"))
    rbac = "clusterrolebinding.rbac.authorization.k8s.io"  # never in a namespace: the count misses nothing
    (complete,) = KubeStatefulRule().evaluate(offline(ns, clusters=(live_view(*live, unreadable={rbac}),), delete=True))
    assert complete.message == "delete of a Namespace deletes everything in it: 2 live objects"
    view = live_view(*live, unreadable=frozenset({rbac, "pod", "deployment.apps"}))
    (partial,) = KubeStatefulRule().evaluate(offline(ns, clusters=(view,), delete=True))
    assert partial.enforcement is Enforcement.SOFT
    assert partial.message == (
        "delete of a Namespace deletes everything in it: "
        "at least 2 live objects, count incomplete (listing deployment.apps, pod is forbidden)"
    )


def test_crd_delete_counts_its_custom_resources() -> None:
    found = KubeStatefulRule().evaluate(offline(CRD, delete=True))
    assert "every Backup.example.com custom resource: how many the cluster holds is unknown" in found[0].message
    view = live_view(counts={"backup.example.com": 42})
    found = KubeStatefulRule().evaluate(offline(CRD, clusters=(view,), delete=True))
    assert "42 live" in found[0].message


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (obj("PersistentVolume", "pv", spec={"persistentVolumeReclaimPolicy": "Delete"}), "reclaim policy Delete"),
        (obj("PersistentVolume", "pv2", spec={}), "reclaim policy Retain"),
        (obj("PersistentVolumeClaim", "data", "db"), "PersistentVolumeClaim: its volume is released"),
        (
            obj(
                "StatefulSet",
                "pg",
                "db",
                api="apps/v1",
                spec={
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
                },
            ),
            "volume claim templates (data): its claims are deleted with it",
        ),
    ],
)
def test_stateful_objects_deleted(manifest: dict[str, Any], words: str) -> None:
    found = KubeStatefulRule().evaluate(offline(manifest, delete=True))
    assert len(found) == 1
    assert words in found[0].message


def test_creates_and_stateless_deletes_are_not_findings() -> None:
    assert KubeStatefulRule().evaluate(offline(obj("Namespace", "shop"))) == []
    plain = obj("StatefulSet", "web", "shop", api="apps/v1", spec={})
    assert KubeStatefulRule().evaluate(offline(plain, obj("ConfigMap", "c"), delete=True)) == []


def test_unknown_kinds_are_one_finding_per_kind() -> None:
    changes = offline(
        obj("ServiceMonitor", "a", "m", api="monitoring.coreos.com/v1"),
        obj("ServiceMonitor", "b", "m", api="monitoring.coreos.com/v1"),
        obj("ConfigMap", "c"),
    )
    found = UnknownKindsRule().evaluate(changes)
    assert len(found) == 1
    assert found[0].address is None
    assert found[0].message.startswith("2 object changes of kind ServiceMonitor.monitoring.coreos.com")


# --- blast radius -----------------------------------------------------------------------------------------


def _blast(changes: KubeChangeSet) -> dict[str, Any]:
    return {i.address: i for i in kube_blast_radius(changes, derived(changes)).impacts}


def test_namespace_delete_lists_its_objects_and_live_ones() -> None:
    ns, cm = obj("Namespace", "shop"), obj("ConfigMap", "c", "shop")
    impact = _blast(offline(ns, cm, delete=True))["namespace/shop"]
    assert [r.address for r in impact.impacted] == ["configmap/shop/c"]
    assert impact.unknown is not None
    view = live_view(obj("Pod", "p1", "shop"), obj("Secret", "s", "shop"), obj("Pod", "x", "elsewhere"))
    impact = _blast(offline(ns, cm, clusters=(view,), delete=True))["namespace/shop"]
    assert [r.address for r in impact.impacted] == ["configmap/shop/c", "pod/shop/p1", "secret/shop/s"]
    assert impact.unknown is None
    assert impact.impacted[0].path == ("namespace/shop", "configmap/shop/c")


def test_crd_delete_lists_custom_resources() -> None:
    backup = obj("Backup", "nightly", "shop", api="example.com/v1")
    impact = _blast(offline(CRD, backup, delete=True))[
        "customresourcedefinition.apiextensions.k8s.io/backups.example.com"
    ]
    assert [r.address for r in impact.impacted] == ["backup.example.com/shop/nightly"]


def test_configmap_and_secret_readers() -> None:
    cm = obj("ConfigMap", "settings", "shop")
    secret = obj("Secret", "creds", "shop")
    reader = workload(
        "Deployment",
        "web",
        "shop",
        {
            "containers": [
                {"name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}]},
                {"name": "side", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "p"}}}]},
            ]
        },
    )
    volume_reader = workload(
        "StatefulSet", "db", "shop", {"volumes": [{"name": "v", "configMap": {"name": "settings"}}]}
    )
    elsewhere = workload("Deployment", "web", "other", {"volumes": [{"name": "v", "configMap": {"name": "settings"}}]})
    live_reader = workload(
        "DaemonSet", "agent", "shop", {"volumes": [{"name": "v", "secret": {"secretName": "creds"}}]}
    )
    view = live_view(live_reader)
    impacts = _blast(offline(cm, secret, reader, volume_reader, elsewhere, clusters=(view,), delete=True))
    assert [r.address for r in impacts["configmap/shop/settings"].impacted] == [
        "deployment.apps/shop/web",
        "statefulset.apps/shop/db",
    ]
    assert [r.address for r in impacts["secret/shop/creds"].impacted] == [
        "daemonset.apps/shop/agent",
        "deployment.apps/shop/web",
    ]


def test_service_selector_change_lists_the_pods_it_stops_selecting() -> None:
    before = obj("Service", "web", "shop", spec={"selector": {"app": "web", "track": "stable"}})
    after = obj("Service", "web", "shop", spec={"selector": {"app": "web", "track": "canary"}})
    pods = (
        obj("Pod", "stable-1", "shop", labels={"app": "web", "track": "stable"}),
        obj("Pod", "canary-1", "shop", labels={"app": "web", "track": "canary"}),
    )
    from guardrail.core.kube.objects import ObjectRef

    ref = ObjectRef.of(before)
    change = KubeChange("offline", ref, "v1", Action.UPDATE, before=before, after=after)
    changes = KubeChangeSet((change,), (live_view(*pods),))
    impact = _blast(changes)["service/shop/web"]
    assert [r.address for r in impact.impacted] == ["pod/shop/stable-1"]
    assert impact.effect == "stops selecting these pods"


def test_daemonset_update_counts_pods_per_cluster_from_its_reach() -> None:
    from guardrail.core.kube.objects import ObjectRef

    old = workload("DaemonSet", "agent", "kube-system", {"nodeSelector": {"pool": "gpu"}, "containers": []})
    new = workload("DaemonSet", "agent", "kube-system", {"nodeSelector": {"pool": "gpu"}, "containers": [{}]})
    fleet = nodes(30, {"pool": "gpu"}) + nodes(70, {"pool": "cpu"})
    ref = ObjectRef.of(new)
    clusters = (ClusterView("a", nodes=fleet), ClusterView("b"))
    change_a = KubeChange("a", ref, "apps/v1", Action.UPDATE, before=old, after=new)
    change_b = KubeChange("b", ref, "apps/v1", Action.UPDATE, before=old, after=new)
    impacts = _blast(KubeChangeSet((change_a, change_b), clusters))
    assert impacts["a::daemonset.apps/kube-system/agent"].pods == 30
    assert impacts["b::daemonset.apps/kube-system/agent"].pods is None
    assert impacts["b::daemonset.apps/kube-system/agent"].unknown == "the cluster's nodes are unknown (give --nodes)"


def test_updates_that_reach_nothing_are_not_impacts() -> None:
    from guardrail.core.kube.objects import ObjectRef

    old = workload("DaemonSet", "agent", "kube-system", {"containers": [{"image": "agent:1"}]})
    labelled = {**old, "metadata": {**old["metadata"], "labels": {"owner": "platform"}}}
    on_delete = workload("DaemonSet", "agent", "kube-system", {"containers": [{"image": "agent:2"}]})
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    ref = ObjectRef.of(old)
    cluster = ClusterView("a", nodes=nodes(30), live=())
    # Only the DaemonSet's own labels change: the pod template is the same, no pod restarts.
    relabel = KubeChange(
        "a", ref, "apps/v1", Action.UPDATE, before=old, after=labelled, changed_paths=("metadata.labels",)
    )
    # OnDelete: the new template reaches a pod only when that pod is deleted, not now.
    paths = ("spec.template.spec.containers[0].image", "spec.updateStrategy")
    later = KubeChange("a", ref, "apps/v1", Action.UPDATE, before=old, after=on_delete, changed_paths=paths)
    # A ConfigMap that no workload of the cluster reads.
    unread = obj("ConfigMap", "lonely", "shop")
    config = KubeChange(
        "a", ObjectRef.of(unread), "v1", Action.UPDATE, before=unread, after=unread, changed_paths=("data.a",)
    )
    for change in (relabel, later, config):
        assert _blast(KubeChangeSet((change,), (cluster,))) == {}
    # Deleted, the same ConfigMap is still listed: a delete is shown even when nothing depends on it.
    gone = KubeChange("a", ObjectRef.of(unread), "v1", Action.DELETE, before=unread, after=None)
    assert list(_blast(KubeChangeSet((gone,), (cluster,)))) == ["configmap/shop/lonely"]


# --- reach ------------------------------------------------------------------------------------------------


def test_reach_of_daemonsets_and_constrained_workloads() -> None:
    gpu = Taint("nvidia.com/gpu", "present", "NoSchedule")
    fleet = nodes(10, {"pool": "cpu"}) + tuple(NodeInfo(f"gpu-{i}", {"pool": "gpu"}, (gpu,)) for i in range(5))
    everywhere = workload("DaemonSet", "all", "x", {"tolerations": [{"operator": "Exists"}]})
    untainted = workload("DaemonSet", "plain", "x", {})
    gpu_only = workload(
        "Deployment",
        "train",
        "x",
        {"nodeSelector": {"pool": "gpu"}, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
    )
    anywhere = workload("Deployment", "web", "x", {})
    records = (
        NodeReachRule()
        .analyse(offline(everywhere, untainted, gpu_only, anywhere, clusters=(ClusterView("c", nodes=fleet),)))
        .reaches
    )
    assert [(r.address, r.nodes, r.total) for r in records] == [
        ("daemonset.apps/x/all", 15, 15),
        ("daemonset.apps/x/plain", 10, 15),
        ("deployment.apps/x/train", 5, 15),
    ]
    unknown = NodeReachRule().analyse(offline(everywhere)).reaches
    assert [(r.nodes, r.total) for r in unknown] == [(None, None)]


# --- Kubernetes criteria of protect, critical and locks ---------------------------------------------------


def _change(manifest: dict[str, Any], cluster: str = "offline") -> ResourceChange:
    return derived(offline(manifest, clusters=(ClusterView(cluster),))).changes[0]


def test_kube_criteria_match_kinds_namespaces_names_labels_clusters() -> None:
    deploy = _change(obj("Deployment", "pay-api", "payments", api="apps/v1", labels={"tier": "critical"}), "prod-eu")
    assert Selector(kube=KubeCriteria.of(kinds=["deployment"])).match(deploy) is Match.YES
    assert Selector(kube=KubeCriteria.of(kinds=["StatefulSet"])).match(deploy) is Match.NO
    assert Selector(kube=KubeCriteria.of(namespaces=["pay*"], names=["pay-*"])).match(deploy) is Match.YES
    assert Selector(kube=KubeCriteria.of(labels={"tier": "critical"})).match(deploy) is Match.YES
    assert Selector(kube=KubeCriteria.of(labels={"tier": "low"})).match(deploy) is Match.NO
    assert Selector(kube=KubeCriteria.of(clusters=["prod-*"])).match(deploy) is Match.YES
    assert Selector(kube=KubeCriteria.of(clusters=["staging"])).match(deploy) is Match.NO
    assert Selector(addresses=("deployment.apps/payments/*",)).match(deploy) is Match.YES


def test_a_namespace_criterion_selects_the_namespace_itself_and_doubts_unknown_scopes() -> None:
    criteria = Selector(kube=KubeCriteria.of(namespaces=["payments"]))
    assert criteria.match(_change(obj("Namespace", "payments"))) is Match.YES
    assert criteria.match(_change(obj("ClusterRole", "r", api="rbac.authorization.k8s.io/v1"))) is Match.NO
    assert criteria.match(_change(obj("Gadget", "g", api="example.com/v1"))) is Match.UNKNOWN


def test_terraform_resources_never_match_kube_criteria() -> None:
    resource = ResourceChange("aws_s3_bucket.b", "aws_s3_bucket", "b", Action.DELETE, ("delete",))
    assert Selector(kube=KubeCriteria.of(names=["*"])).match(resource) is Match.NO


def test_kube_lock_pattern_round_trip_and_rule() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    criteria = KubeCriteria.of(kinds=["Namespace"], names=["payments"], labels={"env": "prod"}, clusters=["prod-*"])
    lock = new_lock("lk-1", "alice", "freeze", now, kube=criteria)
    assert lock.target is LockTarget.KUBE
    assert lock.pattern == "kind=namespace name=payments label=env=prod cluster=prod-*"
    assert parse_kube_pattern(lock.pattern) == criteria
    ns = obj("Namespace", "payments", labels={"env": "prod"})
    findings = list(ActiveLocksRule([lock], now).evaluate(derived(offline(ns, clusters=(ClusterView("prod-eu"),)))))
    assert [(f.enforcement, f.address) for f in findings] == [(Enforcement.HARD, "namespace/payments")]
    assert not list(ActiveLocksRule([lock], now).evaluate(derived(offline(ns, clusters=(ClusterView("dev"),)))))


def test_bad_kube_lock_patterns() -> None:
    from guardrail.core.errors import BadInputError

    with pytest.raises(BadInputError, match="'colour=red' is not one of"):
        parse_kube_pattern("kind=Pod colour=red")
    with pytest.raises(BadInputError, match="exactly one of"):
        new_lock("lk", "a", "r", datetime(2030, 1, 1, tzinfo=UTC), type_="x", kube=KubeCriteria.of(kinds=["Pod"]))


def test_a_protection_that_depends_on_an_unknown_namespace_asks_for_approval() -> None:
    from guardrail.core.rules.protection import Protection, ProtectionRule

    rule = ProtectionRule((Protection(Selector(kube=KubeCriteria.of(namespaces=["payments"]))),))
    gadget = obj("Gadget", "g", api="example.com/v1")
    findings = list(rule.evaluate(derived(offline(gadget, delete=True))))
    assert [(f.enforcement, f.unknown) for f in findings] == [(Enforcement.SOFT, True)]
    assert "so its namespace is unknown" in findings[0].message
