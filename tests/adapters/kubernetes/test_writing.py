"""Changing a cluster through the real adapter: server-side apply, deletes, node and pod operations."""

from __future__ import annotations

from typing import Any

import kmock
import pytest

from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.cluster import EvictionOutcome
from guardrail.core.kube.objects import ObjectRef
from tests.adapters.kubernetes.emulator import APPLY_PATCH, ApiServer, declare_evictions, declare_logs


def _config_map(data: dict[str, str], name: str = "settings") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "app"}, "data": data}


def test_apply_creates_then_updates(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    created = cluster.apply(_config_map({"level": "info"}), field_manager="guardrail")
    assert created["data"] == {"level": "info"}
    assert created["metadata"]["managedFields"][0]["manager"] == "guardrail"
    updated = cluster.apply(_config_map({"level": "debug"}), field_manager="guardrail")
    assert updated["data"] == {"level": "debug"}
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert emulator.objects["v1/configmaps", "app", "settings"]["data"] == {"level": "debug"}
    first, _ = list(emulator[kmock.method.PATCH])
    assert first.headers["Content-Type"] == APPLY_PATCH
    assert first.params == {"fieldManager": "guardrail"}


def test_a_dry_run_apply_changes_nothing(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    cluster.apply(_config_map({"level": "info"}), field_manager="guardrail")
    would_be = cluster.apply(_config_map({"level": "debug"}), field_manager="guardrail", dry_run=True, force=True)
    assert would_be["data"] == {"level": "debug"}
    assert emulator.objects["v1/configmaps", "app", "settings"]["data"] == {"level": "info"}
    last = list(emulator[kmock.method.PATCH])[-1]
    assert last.params == {"fieldManager": "guardrail", "dryRun": "All", "force": "true"}
    assert cluster.apply(_config_map({}, name="new"), field_manager="guardrail", dry_run=True)["metadata"]["uid"]
    assert cluster.get(ObjectRef("", "ConfigMap", "app", "new"), "v1") is None


def test_an_apply_conflict_is_a_refusal(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    conflict = 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply": .data.level'
    emulator[kmock.method.PATCH, kmock.resource("v1/configmaps")] << kmock.KubernetesError(409, "Conflict", conflict)
    with pytest.raises(ClusterError, match=r"apply configmap/app/settings: 409 Conflict: .*kubectl-client-side-apply"):
        cluster.apply(_config_map({"level": "info"}), field_manager="guardrail")


def test_an_object_without_its_namespace_is_bad_input(cluster: KubernetesCluster) -> None:
    manifest = _config_map({})
    del manifest["metadata"]["namespace"]
    with pytest.raises(BadInputError, match="a ConfigMap lives in a namespace"):
        cluster.apply(manifest, field_manager="guardrail")


def test_delete(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    cluster.apply(_config_map({}), field_manager="guardrail")
    ref = ObjectRef("", "ConfigMap", "app", "settings")
    assert cluster.delete(ref, "v1", dry_run=True) is True
    assert cluster.get(ref, "v1") is not None
    assert cluster.delete(ref, "v1") is True
    assert cluster.get(ref, "v1") is None
    assert cluster.delete(ref, "v1") is False


def _node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"pool": "gpu"}}, "spec": {}}


def test_node_labels_set_and_removed(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/nodes", None, "n1"] = _node("n1")
    cluster.label_node("n1", {"guardrail.dev/rollout": "batch-1", "pool": None})
    (node,) = cluster.nodes()
    assert node.labels == {"guardrail.dev/rollout": "batch-1"}
    patch = list(emulator[kmock.method.PATCH])[-1]
    assert patch.headers["Content-Type"] == "application/merge-patch+json"


def test_cordon_and_uncordon(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/nodes", None, "n1"] = _node("n1")
    cluster.set_unschedulable("n1", True)
    assert cluster.nodes()[0].unschedulable is True
    cluster.set_unschedulable("n1", False)
    assert cluster.nodes()[0].unschedulable is False


def test_a_missing_node_cannot_be_cordoned(cluster: KubernetesCluster) -> None:
    with pytest.raises(ClusterError, match="cordon node ghost: 404"):
        cluster.set_unschedulable("ghost", True)


def _pod(name: str, node: str = "n1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "app"},
        "spec": {"nodeName": node},
    }


def test_eviction_honours_a_disruption_budget(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/pods", "app", "web-1"] = _pod("web-1")
    emulator.objects["v1/pods", "app", "db-0"] = _pod("db-0")
    declare_evictions(emulator, protected=lambda namespace, name: name.startswith("db-"))
    assert cluster.evict("app", "db-0") is EvictionOutcome.BLOCKED
    assert cluster.evict("app", "web-1") is EvictionOutcome.EVICTED
    assert cluster.evict("app", "web-1") is EvictionOutcome.GONE
    assert [p.name for p in cluster.pods(node="n1")] == ["db-0"]
    (eviction, *_) = list(emulator[kmock.method.POST, kmock.subresource("eviction")])
    assert eviction.data["kind"] == "Eviction"
    assert eviction.data["metadata"] == {"name": "db-0", "namespace": "app"}


def test_pod_and_node_deletes_accept_what_is_already_gone(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/pods", "app", "web-1"] = _pod("web-1")
    emulator.objects["v1/nodes", None, "n1"] = _node("n1")
    cluster.delete_pod("app", "web-1")
    cluster.delete_pod("app", "web-1")
    cluster.delete_node("n1")
    cluster.delete_node("n1")
    assert cluster.pods() == []
    assert cluster.nodes() == []


def test_create_a_pod_and_read_its_log(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    created = cluster.create(_pod("gpu-check"))
    assert created["metadata"]["uid"]
    declare_logs(emulator, {("app", "gpu-check"): "".join(f"line {i}\n" for i in range(100))})
    assert cluster.pod_log("app", "gpu-check", tail_lines=2) == "line 98\nline 99\n"
    with pytest.raises(ClusterError, match="409"):
        cluster.create(_pod("gpu-check"))
