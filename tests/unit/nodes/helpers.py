"""Nodes, pods and observations as a cluster would show them, for the engine's tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo, PodInfo
from guardrail.core.nodes.actions import Observation
from guardrail.core.nodes.settings import Budgets, CycleSettings, OperatorChecks, ValidationPod

T0 = 1_700_000_000.0  # seconds since the epoch: where the engine's tests start


def node(
    name: str,
    *,
    instance_type: str = "Standard_ND96asr_v4",
    zone: str = "eastus-1",
    gpus: int = 8,
    pool: str = "gpu",
    ready: bool = True,
    cordoned: bool = False,
    os_image: str = "Ubuntu 22.04",
    kernel: str = "5.15",
    kubelet: str = "v1.29.7",
    product: str = "A100",
    boot_id: str = "boot-1",
    labels: Mapping[str, str] | None = None,
    conditions: Mapping[str, str] | None = None,
) -> NodeInfo:
    """A node of the pool `pool` (agentpool label), Ready and schedulable unless told otherwise."""
    all_labels = {
        "agentpool": pool,
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": zone.rsplit("-", 1)[0],
        "topology.kubernetes.io/zone": zone,
        "nvidia.com/gpu.product": product,
        "nvidia.com/gpu.present": "true",
        **(labels or {}),
    }
    return NodeInfo(
        name=name,
        labels=all_labels,
        unschedulable=cordoned,
        conditions={"Ready": "True" if ready else "False", **(conditions or {})},
        allocatable={GPU_RESOURCE: str(gpus), "cpu": "96"},
        provider_id=f"azure:///vm/{name}",
        kubelet_version=kubelet,
        os_image=os_image,
        kernel_version=kernel,
        boot_id=boot_id,
    )


def pod(
    name: str,
    node_name: str,
    *,
    namespace: str = "default",
    phase: str = "Running",
    owner_kind: str | None = "ReplicaSet",
    labels: Mapping[str, str] | None = None,
) -> PodInfo:
    return PodInfo(namespace, name, node_name, phase, phase == "Running", 0, dict(labels or {}), owner_kind, "owner")


def validator(node_name: str) -> PodInfo:
    """The GPU operator's CUDA validator, completed on the node."""
    return pod(
        f"nvidia-cuda-validator-{node_name}",
        node_name,
        namespace="gpu-operator",
        phase="Succeeded",
        owner_kind=None,
        labels={"app": "nvidia-cuda-validator"},
    )


def observe(now: float, nodes: Iterable[NodeInfo], pods: Mapping[str, Sequence[PodInfo]] | None = None) -> Observation:
    """An observation of `nodes` at `now` (seconds after T0), with the pods listed for some of them."""
    listed = Observation.read(T0 + now, nodes, lambda labels: True)
    return replace(listed, pods=dict(pods or {}))


def settings(**changes: Any) -> CycleSettings:
    """Small budgets that make hand-computed times easy: boot 15m, the rest 5m, polls of 30s."""
    base = CycleSettings(
        capacity_floor=0.9,
        budgets=Budgets(drain=300, replace=300, boot=900, gpu=300, validation=300, api=300),
        validation=ValidationPod(),
        operator=OperatorChecks(),
    )
    return replace(base, **changes)
