"""Reading a cluster through the real adapter, over HTTP, from the emulated API server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kmock
import pytest
from kmock._internal.rendering import Response

from guardrail.adapters.kubernetes import cluster as adapter
from guardrail.adapters.kubernetes import connect
from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import Cluster, ServedResource
from guardrail.core.kube.objects import ObjectRef
from tests.adapters.kubernetes.conftest import CONTEXT
from tests.adapters.kubernetes.emulator import ApiServer

VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.4-eks-2c4d7a1", "platform": "linux/amd64"}


def _node(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"providerID": f"aws:///eu-west-1a/{name}"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "allocatable": {"nvidia.com/gpu": "8"}},
    }


def _pod(namespace: str, name: str, node: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "containerStatuses": [{"restartCount": 2}]},
    }


def test_the_adapter_is_a_cluster(cluster: KubernetesCluster) -> None:
    port: Cluster = cluster  # checked by mypy: the adapter implements the whole port
    assert port.name == CONTEXT
    assert port.default_namespace == "default"


def test_server_version_from_version(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator["get /version"] << VERSION
    assert cluster.server_version() == "1.31.4"


def test_discovery(cluster: KubernetesCluster) -> None:
    assert cluster.served("apps/v1", "DaemonSet") == ServedResource("apps/v1", "DaemonSet", "daemonsets", True)
    assert cluster.served("v1", "Node") == ServedResource("v1", "Node", "nodes", False)
    assert cluster.served("extensions/v1beta1", "DaemonSet") is None  # removed in 1.16
    assert cluster.served("apps/v1", "Widget") is None
    preferred = cluster.preferred("flowcontrol.apiserver.k8s.io", "FlowSchema")
    assert preferred == ServedResource("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "flowschemas", False)
    assert cluster.preferred("", "ConfigMap") == ServedResource("v1", "ConfigMap", "configmaps", True)
    assert cluster.preferred("example.com", "Widget") is None


def test_discovery_is_asked_once_per_adapter(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    for _ in range(3):
        cluster.served("apps/v1", "DaemonSet")
        cluster.served("apps/v1beta1", "DaemonSet")
    asked = [r for r in emulator if r.url.path == "/apis/apps/v1"]
    assert len(asked) == 1


def test_get_and_a_missing_object(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/configmaps", "app", "settings"] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "app"},
        "data": {"level": "info"},
    }
    ref = ObjectRef("", "ConfigMap", "app", "settings")
    found = cluster.get(ref, "v1")
    assert found is not None
    assert found["data"] == {"level": "info"}
    assert cluster.get(ref.in_namespace("other"), "v1") is None


def test_list_objects_by_label_across_pages(
    emulator: ApiServer, cluster: KubernetesCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        emulator.objects["v1/configmaps", "app", f"c{index}"] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"c{index}", "namespace": "app", "labels": {"tier": "web" if index % 2 else "db"}},
        }
    monkeypatch.setattr(adapter, "PAGE_SIZE", 2)
    everything = cluster.list_objects("v1", "ConfigMap")
    assert [o["metadata"]["name"] for o in everything] == ["c0", "c1", "c2", "c3", "c4"]
    # List answers leave apiVersion and kind out of each item; the adapter puts them back.
    assert {(o["apiVersion"], o["kind"]) for o in everything} == {("v1", "ConfigMap")}
    assert len([r for r in emulator if r.url.path == "/api/v1/configmaps"]) == 3
    web = cluster.list_objects("v1", "ConfigMap", namespace="app", label_selector="tier=web")
    assert [o["metadata"]["name"] for o in web] == ["c1", "c3"]
    assert cluster.list_objects("v1", "ConfigMap", namespace="elsewhere") == []


def test_count_objects_reads_one_item(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    for index in range(7):
        emulator.objects["v1/nodes", None, f"n{index}"] = _node(f"n{index}")
    assert cluster.count_objects("v1", "Node") == 7
    (counted,) = [r for r in emulator if r.url.path == "/api/v1/nodes"]
    assert counted.params["limit"] == "1"
    assert cluster.count_objects("v1", "Secret") == 0


def test_count_is_unknown_without_remaining_item_count(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[kmock.method.GET, kmock.resource("v1/pods")] << {
        "metadata": {"continue": "opaque"},
        "items": [_pod("a", "p", "n1")],
    }
    assert cluster.count_objects("v1", "Pod") is None


def test_nodes_and_their_readings(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/nodes", None, "gpu-1"] = _node("gpu-1", pool="gpu")
    emulator.objects["v1/nodes", None, "cpu-1"] = _node("cpu-1", pool="cpu")
    nodes = cluster.nodes()
    assert [n.name for n in nodes] == ["cpu-1", "gpu-1"]
    (gpu,) = cluster.nodes("pool=gpu")
    assert (gpu.ready, gpu.allocatable_count("nvidia.com/gpu"), gpu.provider_id) == (
        True,
        8,
        "aws:///eu-west-1a/gpu-1",
    )


def test_pods_by_namespace_label_and_node(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/pods", "kube-system", "agent-a"] = _pod("kube-system", "agent-a", "n1", app="agent")
    emulator.objects["v1/pods", "kube-system", "agent-b"] = _pod("kube-system", "agent-b", "n2", app="agent")
    emulator.objects["v1/pods", "web", "front"] = _pod("web", "front", "n1", app="front")
    assert [p.name for p in cluster.pods()] == ["agent-a", "agent-b", "front"]
    assert [p.name for p in cluster.pods(node="n1")] == ["agent-a", "front"]
    assert [p.name for p in cluster.pods(namespace="kube-system", node="n1")] == ["agent-a"]
    (pod,) = cluster.pods(label_selector="app in (front)")
    assert (pod.namespace, pod.node, pod.phase, pod.restarts) == ("web", "n1", "Running", 2)
    by_node = [r for r in emulator if r.url.path == "/api/v1/pods" and "fieldSelector" in r.params]
    assert by_node[0].params["fieldSelector"] == "spec.nodeName=n1"


METRICS = """# HELP apiserver_flowcontrol_rejected_requests_total Number of requests rejected by APF
# TYPE apiserver_flowcontrol_rejected_requests_total counter
apiserver_flowcontrol_rejected_requests_total{flow_schema="agent",priority_level="workload-low",reason="queue-full"} 12
"""


def test_metrics_text(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator["get /metrics"] << METRICS.encode()
    text = cluster.metrics_text()
    assert text is not None
    assert 'flow_schema="agent"' in text


@pytest.mark.parametrize("status", [403, 404])
def test_metrics_not_readable_is_none(emulator: ApiServer, cluster: KubernetesCluster, status: int) -> None:
    emulator["get /metrics"] << kmock.KubernetesError(status, "Forbidden" if status == 403 else "NotFound")
    assert cluster.metrics_text() is None


def test_ready_reads_readyz(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator["get /readyz"][:1] << b"ok"
    emulator["get /readyz"] << Response(status=500, payload=b"[-]etcd failed: reason withheld\nreadyz check failed")
    assert cluster.ready() is True
    assert cluster.ready() is False


def test_a_kubeconfig_without_the_context(kubeconfig: Path) -> None:
    from guardrail.core.errors import BadInputError

    with pytest.raises(BadInputError, match=rf"context 'prod' is not in kubeconfig {kubeconfig}"):
        connect("prod", str(kubeconfig))


COREDNS_METRICS = 'coredns_dns_responses_total{rcode="NOERROR",server="dns://:53",zone="."} 12\n'
COREDNS_PROXY = "get /api/v1/namespaces/kube-system/pods/coredns-1:9153/proxy/metrics"


def test_pod_metrics_through_the_proxy(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[COREDNS_PROXY] << COREDNS_METRICS.encode()
    assert cluster.pod_metrics_text("kube-system", "coredns-1", port=9153) == COREDNS_METRICS


@pytest.mark.parametrize("status", [502, 503])
def test_pod_that_does_not_serve_metrics_is_none(emulator: ApiServer, cluster: KubernetesCluster, status: int) -> None:
    emulator[COREDNS_PROXY] << kmock.KubernetesError(status, "ServiceUnavailable", "error trying to reach service")
    assert cluster.pod_metrics_text("kube-system", "coredns-1", port=9153) is None


def test_pod_metrics_of_a_missing_pod_is_an_error(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[COREDNS_PROXY] << kmock.KubernetesError(404, "NotFound", 'pods "coredns-1" not found', {"kind": "pods"})
    with pytest.raises(ClusterError, match="coredns-1: no such pod"):
        cluster.pod_metrics_text("kube-system", "coredns-1", port=9153)
