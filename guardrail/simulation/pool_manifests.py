"""The simulated pool's objects as the API serves them (v1 Node and Pod), and pods read from a manifest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from guardrail.core.audit import iso_utc
from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo
from guardrail.simulation.pool_pods import Pod


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment).split(".")[0] + "Z"


def node_manifest(node: NodeInfo) -> dict[str, Any]:
    """A v1 Node that NodeInfo.from_manifest reads back as `node`."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "labels": dict(node.labels), "creationTimestamp": _stamp(node.created_at)},
        "spec": {
            "providerID": node.provider_id,
            "unschedulable": node.unschedulable,
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in node.taints],
        },
        "status": {
            "conditions": [{"type": kind, "status": status} for kind, status in node.conditions.items()],
            "allocatable": dict(node.allocatable),
            "nodeInfo": {
                "kubeletVersion": node.kubelet_version,
                "osImage": node.os_image,
                "kernelVersion": node.kernel_version,
                "bootID": node.boot_id,
            },
        },
    }


def pod_manifest(pod: Pod, created: datetime) -> dict[str, Any]:
    """A v1 Pod that PodInfo.from_manifest reads back."""
    metadata: dict[str, Any] = {
        "name": pod.name,
        "namespace": pod.namespace,
        "labels": dict(pod.labels),
        "creationTimestamp": _stamp(created),
    }
    if pod.owner_kind is not None:
        metadata["ownerReferences"] = [{"kind": pod.owner_kind, "name": pod.owner_name, "controller": True}]
    spec: dict[str, Any] = {"containers": [{"name": "main", "resources": {"limits": {GPU_RESOURCE: str(pod.gpus)}}}]}
    if pod.node is not None:
        spec["nodeName"] = pod.node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "phase": pod.phase,
            "conditions": [{"type": "Ready", "status": "True" if pod.ready else "False"}],
        },
    }


def pod_from_manifest(manifest: Mapping[str, Any]) -> tuple[Pod, float | None]:
    """A pod to create, and its activeDeadlineSeconds (None when unset)."""
    metadata = manifest.get("metadata") or {}
    spec = manifest.get("spec") or {}
    gpus = 0
    for container in spec.get("containers") or ():
        limits = (container.get("resources") or {}).get("limits") or {}
        text = str(limits.get(GPU_RESOURCE, "0"))
        gpus += int(text) if text.isdigit() else 0
    node = spec.get("nodeName")
    pod = Pod(
        str(metadata.get("namespace") or "default"),
        str(metadata.get("name", "")),
        str(node) if node else None,
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
        gpus=gpus,
    )
    deadline = spec.get("activeDeadlineSeconds")
    return pod, float(deadline) if isinstance(deadline, int | float) else None
