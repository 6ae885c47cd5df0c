"""What the fleet canary and the node-pool cycle ask of a real cluster, step by step through the adapter:
held nodes released batch by batch under a required-affinity DaemonSet, an OnDelete update replaced pod by pod, the APF
objects that bound and protect flows, and a node drained, replaced and validated."""

from __future__ import annotations

from typing import Any

import kmock

from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.kube.cluster import EvictionOutcome
from guardrail.core.kube.objects import ObjectRef
from tests.adapters.kubernetes.emulator import ApiServer, declare_evictions, declare_logs

ROLLOUT_LABEL = "guardrail.dev/rollout"
FLOWCONTROL = "flowcontrol.apiserver.k8s.io/v1"


def _node(name: str, ready: bool = True) -> dict[str, Any]:
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"agentpool": "gpu"}},
        "spec": {},
        "status": {"conditions": [condition], "allocatable": {"nvidia.com/gpu": "8"}},
    }


def _agent(image: str, *, strategy: str = "RollingUpdate", affinity: bool = False) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [{"name": "agent", "image": image}]}
    if affinity:
        term = {"matchExpressions": [{"key": ROLLOUT_LABEL, "operator": "NotIn", "values": ["hold"]}]}
        pod_spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "telemetry-agent", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "updateStrategy": {"type": strategy},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": pod_spec},
        },
    }


def _agent_pod(node: str) -> dict[str, Any]:
    owner = {"kind": "DaemonSet", "name": "telemetry-agent", "controller": True}
    metadata = {
        "name": f"agent-{node}",
        "namespace": "kube-system",
        "labels": {"app": "agent"},
        "ownerReferences": [owner],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"nodeName": node}}


def test_new_daemonset_widens_by_releasing_held_nodes(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    for name in ("n1", "n2", "n3"):
        emulator.objects["v1/nodes", None, name] = _node(name)
    for name in ("n1", "n2", "n3"):  # held before the DaemonSet exists
        cluster.label_node(name, {ROLLOUT_LABEL: "hold"})
    cluster.apply(_agent("agent:2", affinity=True), field_manager="guardrail")
    cluster.label_node("n1", {ROLLOUT_LABEL: None})  # the canary
    assert [n.name for n in cluster.nodes(f"{ROLLOUT_LABEL}=hold")] == ["n2", "n3"]
    assert [n.name for n in cluster.nodes(f"{ROLLOUT_LABEL}!=hold")] == ["n1"]
    for name in ("n2", "n3"):
        cluster.label_node(name, {ROLLOUT_LABEL: None})
    assert cluster.nodes(ROLLOUT_LABEL) == []  # nothing left on the nodes at 100%
    live = cluster.get(ObjectRef("apps", "DaemonSet", "kube-system", "telemetry-agent"), "apps/v1")
    assert live is not None
    affinity = live["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    term = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"][0] == {"key": ROLLOUT_LABEL, "operator": "NotIn", "values": ["hold"]}
    # Rolling back a step is the same patch the other way.
    cluster.label_node("n1", {ROLLOUT_LABEL: "hold"})
    assert [n.name for n in cluster.nodes(f"{ROLLOUT_LABEL}=hold")] == ["n1"]


def test_ondelete_update_replaces_pods_batch_by_batch(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    cluster.apply(_agent("agent:1"), field_manager="guardrail")
    for name in ("n1", "n2", "n3"):
        emulator.objects["v1/pods", "kube-system", f"agent-{name}"] = _agent_pod(name)
    updated = cluster.apply(_agent("agent:2", strategy="OnDelete"), field_manager="guardrail")
    assert updated["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert updated["spec"]["template"]["spec"]["containers"][0]["image"] == "agent:2"
    for pod in cluster.pods(namespace="kube-system", label_selector="app=agent", node="n1"):
        assert (pod.owner_kind, pod.owner_name) == ("DaemonSet", "telemetry-agent")
        cluster.delete_pod(pod.namespace, pod.name)
    assert [p.node for p in cluster.pods(namespace="kube-system", label_selector="app=agent")] == ["n2", "n3"]


def test_apf_objects_are_applied_and_read_back(cluster: KubernetesCluster) -> None:
    assert cluster.served(FLOWCONTROL, "PriorityLevelConfiguration") is not None
    level = {
        "apiVersion": FLOWCONTROL,
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "guardrail-telemetry-agent"},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 5,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 16, "handSize": 4, "queueLengthLimit": 50}},
            },
        },
    }
    subject = {"kind": "ServiceAccount", "serviceAccount": {"name": "telemetry-agent", "namespace": "kube-system"}}
    rule = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}
    schema = {
        "apiVersion": FLOWCONTROL,
        "kind": "FlowSchema",
        "metadata": {"name": "guardrail-telemetry-agent"},
        "spec": {
            "priorityLevelConfiguration": {"name": "guardrail-telemetry-agent"},
            "matchingPrecedence": 1000,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [{"subjects": [subject], "resourceRules": [rule]}],
        },
    }
    for manifest in (level, schema):
        assert cluster.apply(manifest, field_manager="guardrail", dry_run=True)["metadata"]["name"]
        cluster.apply(manifest, field_manager="guardrail")
    found = cluster.list_objects(FLOWCONTROL, "FlowSchema")
    assert [(o["kind"], o["spec"]["priorityLevelConfiguration"]["name"]) for o in found] == [
        ("FlowSchema", "guardrail-telemetry-agent")
    ]
    ref = ObjectRef("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", None, "guardrail-telemetry-agent")
    live = cluster.get(ref, FLOWCONTROL)
    assert live is not None
    assert live["spec"]["limited"]["nominalConcurrencyShares"] == 5


def test_a_node_is_drained_replaced_and_validated(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/nodes", None, "gpu-1"] = _node("gpu-1")
    emulator.objects["v1/pods", "ml", "trainer-0"] = {
        "metadata": {"name": "trainer-0", "namespace": "ml"},
        "spec": {"nodeName": "gpu-1"},
    }
    emulator.objects["v1/pods", "ml", "server-0"] = {
        "metadata": {"name": "server-0", "namespace": "ml"},
        "spec": {"nodeName": "gpu-1"},
    }
    budget_allows = {"trainer-0"}  # server-0's disruption budget allows nothing yet
    declare_evictions(emulator, protected=lambda namespace, name: name not in budget_allows)

    cluster.set_unschedulable("gpu-1", True)
    outcomes = {p.name: cluster.evict(p.namespace, p.name) for p in cluster.pods(node="gpu-1")}
    assert outcomes == {"server-0": EvictionOutcome.BLOCKED, "trainer-0": EvictionOutcome.EVICTED}
    budget_allows.add("server-0")  # the budget recovers; the engine tries again
    assert cluster.evict("ml", "server-0") is EvictionOutcome.EVICTED
    assert cluster.pods(node="gpu-1") == []

    cluster.delete_node("gpu-1")
    assert cluster.nodes("agentpool=gpu") == []
    emulator.objects["v1/nodes", None, "gpu-1"] = _node("gpu-1", ready=True)  # the pool re-creates it
    (back,) = cluster.nodes("agentpool=gpu")
    assert (back.ready, back.unschedulable, back.allocatable_count("nvidia.com/gpu")) == (True, False, 8)

    validation = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "gpu-validate-gpu-1", "namespace": "guardrail"},
        "spec": {
            "nodeName": "gpu-1",
            "restartPolicy": "Never",
            "containers": [
                {"name": "check", "image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "command": ["nvidia-smi"]}
            ],
        },
    }
    cluster.create(validation)
    emulator.objects["v1/pods", "guardrail", "gpu-validate-gpu-1"].patch({"status": {"phase": "Succeeded"}})
    declare_logs(emulator, {("guardrail", "gpu-validate-gpu-1"): "GPU 0: NVIDIA A100\nGPU 7: NVIDIA A100\n"})
    (pod,) = cluster.pods(namespace="guardrail", node="gpu-1")
    assert pod.phase == "Succeeded"
    assert cluster.pod_log("guardrail", "gpu-validate-gpu-1", tail_lines=1) == "GPU 7: NVIDIA A100\n"
    creations = list(emulator[kmock.method.POST, kmock.resource("v1/pods")])
    assert creations[-1].data["spec"]["nodeName"] == "gpu-1"
