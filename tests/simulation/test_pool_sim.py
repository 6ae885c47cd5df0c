"""The node-pool simulator: deterministic, and a cluster that shows only what a real one would."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import GPU_RESOURCE, EvictionOutcome, NodeInfo
from guardrail.core.kube.objects import ObjectRef
from guardrail.simulation.pool_commands import GpuTruth, run_container
from guardrail.simulation.pool_sim import PoolSimulator
from guardrail.simulation.pool_spec import GroupSpec, PoolSpec, ReplaceMode, WorkloadSpec

MINUTE = 60.0


def _spec(*groups: GroupSpec, seed: int = 1, **changes: Any) -> PoolSpec:
    return PoolSpec("gpu", 15 * MINUTE, groups, seed=seed, **changes)


def _group(count: int = 2, **changes: Any) -> GroupSpec:
    base: dict[str, Any] = {"instance_type": "ND96", "zone": "eastus-1", "gpus": 8, "boot": 6 * MINUTE}
    return GroupSpec(count, **{**base, **changes})


def _snapshot(simulator: PoolSimulator) -> list[tuple[str, str, str, str, bool]]:
    return [
        (n.name, n.conditions.get("Ready", ""), n.allocatable.get(GPU_RESOURCE, ""), n.boot_id, n.unschedulable)
        for n in simulator.nodes()
    ]


def test_the_pool_starts_healthy_with_its_labels() -> None:
    simulator = PoolSimulator(_spec(_group(2, gpu_diag=3 * MINUTE), _group(1, zone="westus2-1", gpus=1)))
    nodes = simulator.nodes()
    assert [n.name for n in nodes] == ["aks-gpu-0-vmss000000", "aks-gpu-0-vmss000001", "aks-gpu-1-vmss000000"]
    first = nodes[0]
    assert first.ready
    assert not first.unschedulable
    assert first.allocatable_count(GPU_RESOURCE) == 8
    assert first.labels["agentpool"] == "gpu"
    assert first.labels["topology.kubernetes.io/region"] == "eastus"
    assert first.labels["nvidia.com/gpu.present"] == "true"
    assert simulator.nodes("topology.kubernetes.io/zone=westus2-1")[0].allocatable_count(GPU_RESOURCE) == 1


def test_discovery_and_counts_show_a_node_pool_and_nothing_else() -> None:
    simulator = PoolSimulator(_spec(_group(3)))
    assert simulator.default_namespace == "default"
    node = simulator.preferred("", "Node")
    assert node is not None
    assert (node.plural, node.namespaced) == ("nodes", False)
    assert simulator.preferred("apps", "DaemonSet") is None
    assert simulator.served("apps/v1", "DaemonSet") is None
    assert simulator.count_objects("v1", "Node") == 3
    assert simulator.count_objects("v1", "Pod") == 9  # two DaemonSet pods and a completed validator per node
    assert simulator.count_objects("apps/v1", "Deployment") is None
    pod = simulator.pods(node=simulator.nodes()[0].name)[0]
    assert simulator.pod_metrics_text(pod.namespace, pod.name, port=9400) is None
    with pytest.raises(ClusterError, match="not found"):
        simulator.pod_metrics_text("gpu-operator", "nope", port=9400)


def test_what_the_simulator_serves_reads_back_as_the_same_node() -> None:
    simulator = PoolSimulator(_spec(_group(1)))
    node = simulator.nodes()[0]
    manifest = simulator.get(ObjectRef("", "Node", None, node.name), "v1")
    assert manifest is not None
    assert NodeInfo.from_manifest(manifest) == node


def test_the_same_pool_and_seed_give_the_same_world_and_another_seed_another() -> None:
    def run(seed: int) -> list[list[tuple[str, str, str, str, bool]]]:
        simulator = PoolSimulator(_spec(_group(3, gpu_diag=3 * MINUTE), seed=seed))
        for node in simulator.nodes():
            simulator.set_unschedulable(node.name, True)
            simulator.delete_node(node.name)
        seen = []
        for _ in range(40):
            simulator.clock.sleep(15)
            seen.append(_snapshot(simulator))
        return seen

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_a_deleted_node_is_replaced_by_a_new_machine_that_boots_registers_and_advertises_its_gpus() -> None:
    simulator = PoolSimulator(_spec(_group(1, gpu_diag=3 * MINUTE), jitter=0.0))
    simulator.delete_node("aks-gpu-0-vmss000000")
    assert simulator.nodes() == []
    simulator.clock.sleep(9 * MINUTE - 1)
    assert simulator.nodes() == []  # boot + gpu_diag: 9 minutes
    simulator.clock.sleep(1)
    (fresh,) = simulator.nodes()
    assert fresh.name == "aks-gpu-0-vmss000001"
    assert not fresh.ready
    assert fresh.allocatable_count(GPU_RESOURCE) == 0
    simulator.clock.sleep(20)
    assert simulator.nodes()[0].ready
    simulator.clock.sleep(30)
    assert simulator.nodes()[0].allocatable_count(GPU_RESOURCE) == 8


def test_a_machine_whose_boot_passes_the_providers_limit_never_joins() -> None:
    simulator = PoolSimulator(_spec(_group(1, gpu_diag=12 * MINUTE), jitter=0.0))  # 6m + 12m > 15m
    simulator.delete_node("aks-gpu-0-vmss000000")
    simulator.clock.sleep(5 * 3600)
    assert simulator.nodes() == []


def test_a_reimaged_machine_goes_unknown_then_comes_back_under_its_name_with_a_new_boot_id() -> None:
    simulator = PoolSimulator(_spec(_group(1), jitter=0.0, replace=ReplaceMode.REIMAGE))
    before = simulator.nodes()[0]
    simulator.reimage(before.name)
    simulator.clock.sleep(60)
    assert simulator.nodes()[0].conditions["Ready"] == "Unknown"
    simulator.clock.sleep(6 * MINUTE)
    after = simulator.nodes()[0]
    assert after.name == before.name
    assert after.boot_id != before.boot_id
    assert after.ready


def test_fewer_visible_gpus_join_ready_but_broken() -> None:
    simulator = PoolSimulator(_spec(_group(1, visible_gpus=7), jitter=0.0))
    simulator.delete_node("aks-gpu-0-vmss000000")
    simulator.clock.sleep(7 * MINUTE)
    (node,) = simulator.nodes()
    assert node.ready
    assert node.allocatable_count(GPU_RESOURCE) == 7
    assert node.labels["nvidia.com/gpu.count"] == "7"


def test_a_pod_disruption_budget_blocks_evictions_until_moved_pods_are_ready() -> None:
    job = WorkloadSpec("job", 4, gpus=1, max_unavailable=1, start=30.0)
    simulator = PoolSimulator(_spec(_group(4), jitter=0.0, workloads=(job,)))
    target = simulator.nodes()[0].name
    simulator.set_unschedulable(target, True)
    pods = [p for p in simulator.pods(node=target) if p.owner_kind == "ReplicaSet"]
    assert len(pods) == 1
    assert simulator.evict(pods[0].namespace, pods[0].name) is EvictionOutcome.EVICTED
    other = next(p for p in simulator.pods(label_selector="app=job") if p.ready)
    assert simulator.evict(other.namespace, other.name) is EvictionOutcome.BLOCKED  # one is unavailable already
    simulator.clock.sleep(31)
    assert simulator.evict(other.namespace, other.name) is EvictionOutcome.EVICTED
    assert simulator.evict(other.namespace, other.name) is EvictionOutcome.GONE
    assert all(p.node != target for p in simulator.pods(label_selector="app=job"))


def _validation_pod(node: str, command: list[str], gpus: int = 8, deadline: int = 600) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "check", "namespace": "kube-system"},
        "spec": {
            "nodeName": node,
            "activeDeadlineSeconds": deadline,
            "containers": [{"name": "c", "command": command, "resources": {"limits": {GPU_RESOURCE: str(gpus)}}}],
        },
    }


@pytest.mark.parametrize(
    ("command", "gpus", "phase", "log"),
    [
        (["sh", "-c", "nvidia-smi && dcgmi diag -r 1"], 8, "Succeeded", "dcgmi diag -r 1: Pass (8 GPU(s))"),
        (["nvidia-smi"], 8, "Succeeded", "GPU 7: NVIDIA-A100-SXM4-80GB"),
        (["sh", "-c", "false && nvidia-smi; true"], 8, "Succeeded", ""),
        (["sh", "-c", "fancy-check"], 8, "Failed", "sh: fancy-check: not found"),
        (["sh", "-c", "dcgmi diag -r 3"], 8, "Failed", "DeadlineExceeded"),  # 15 minutes, deadline 10
        (["nvidia-smi"], 9, "Failed", "UnexpectedAdmissionError: requested 9 nvidia.com/gpu, 8 available"),
    ],
)
def test_validation_pods_run_their_command_against_the_machines_gpus(
    command: list[str], gpus: int, phase: str, log: str
) -> None:
    simulator = PoolSimulator(_spec(_group(1)))
    node = simulator.nodes()[0].name
    simulator.create(_validation_pod(node, command, gpus))
    simulator.clock.sleep(3600)
    (found,) = simulator.pods(namespace="kube-system", node=node)
    assert found.phase == phase
    assert log in simulator.pod_log("kube-system", "check")


def test_dcgmi_fails_on_a_gpu_with_an_xid_error_and_on_a_missing_device() -> None:
    assert not run_container(["dcgmi", "diag", "-r", "1"], GpuTruth(8, 8, "A100", xid=True), 8).succeeded
    assert not run_container(["dcgmi", "diag", "-r", "1"], GpuTruth(8, 7, "A100"), 8).succeeded
    assert run_container(["dcgmi", "diag", "-r", "1"], GpuTruth(8, 8, "A100"), 8).seconds == 60
    assert not run_container(["dcgmi", "diag", "-r", "9"], GpuTruth(8, 8, "A100"), 8).succeeded


def test_creating_a_pod_twice_or_what_is_not_simulated_is_refused() -> None:
    simulator = PoolSimulator(_spec(_group(1)))
    node = simulator.nodes()[0].name
    simulator.create(_validation_pod(node, ["true"]))
    with pytest.raises(ClusterError, match="already exists"):
        simulator.create(_validation_pod(node, ["true"]))
    with pytest.raises(ClusterError, match="not part of the node-pool simulation"):
        simulator.create({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x"}})
    with pytest.raises(ClusterError, match="not found"):
        simulator.delete_node("no-such-node")
