"""GPU validation of a rejoined node: Ready is not enough (NVIDIA's validator can report ready while GPU
devices are missing), so a node counts as back only when

- `nvidia.com/gpu` allocatable equals what its stratum had before;
- the GPU operator's validations passed: its labels are on the node and its validator pod completed;
- a validation pod pinned to the node (`nvidia-smi`, then `dcgmi diag -r 1` by default) succeeded;
- no GPU-unhealthy condition (an XID error, a GPU fallen off the bus) is set on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo, PodInfo
from guardrail.core.kube.labels import LabelSelector
from guardrail.core.nodes.settings import CycleSettings

# On every validation pod, so that a person (or a resumed cycle) can find them.
VALIDATION_LABEL = "guardrail.dev/gpu-validation"


@lru_cache(maxsize=16)
def _selector(text: str) -> LabelSelector:
    return LabelSelector.parse(text)


def validation_pod_name(node: str, started: float) -> str:
    """A pod name unique to this node and attempt, within Kubernetes' 63 characters of a label value."""
    digest = hashlib.sha256(f"{node}@{started}".encode()).hexdigest()[:8]
    return f"gpu-validate-{node[:40].rstrip('-.')}-{digest}"


def validation_pod_manifest(
    settings: CycleSettings, node: str, name: str, gpus: int, deadline: float
) -> dict[str, Any]:
    """The validation pod: pinned to `node` by nodeName (the scheduler is bypassed, so the cordon does not
    keep it off), asking for every GPU the node should have, ended by the kubelet at `deadline` seconds."""
    spec = settings.validation
    container: dict[str, Any] = {
        "name": "gpu-validation",
        "image": spec.image,
        "command": list(spec.command),
        "resources": {"limits": {GPU_RESOURCE: str(gpus)}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": {VALIDATION_LABEL: "true"}},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "activeDeadlineSeconds": max(1, int(deadline)),
            "tolerations": [{"operator": "Exists"}],
            "containers": [container],
        },
    }


def unhealthy_conditions(node: NodeInfo, settings: CycleSettings) -> list[str]:
    """The GPU-unhealthy conditions set (True) on the node."""
    return [c for c in settings.unhealthy_conditions if node.conditions.get(c) == "True"]


def gpu_shortfall(node: NodeInfo, expected: int) -> str | None:
    """Why the node's GPUs are not what its stratum had, or None when they are."""
    actual = node.allocatable_count(GPU_RESOURCE)
    if actual == expected:
        return None
    return f"{GPU_RESOURCE} allocatable is {actual}, the stratum had {expected}"


@dataclass(frozen=True, slots=True)
class ValidationReading:
    """Where a node's validation stands: `failed` is final; `waiting` lists checks not passed yet."""

    failed: str | None
    waiting: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.failed is None and not self.waiting


def read_validation(
    node: NodeInfo, pods: Sequence[PodInfo], settings: CycleSettings, pod_name: str | None, expected: int
) -> ValidationReading:
    """The validation checks against what the cluster shows of the node and the pods on it."""
    unhealthy = unhealthy_conditions(node, settings)
    if unhealthy:
        return ValidationReading(f"GPU-unhealthy condition {', '.join(unhealthy)} is set on the node", ())
    shortfall = gpu_shortfall(node, expected)
    if shortfall is not None:
        return ValidationReading(shortfall, ())
    waiting: list[str] = []
    if pod_name is not None:
        pod = next((p for p in pods if p.name == pod_name and p.namespace == settings.validation.namespace), None)
        if pod is not None and pod.phase == "Failed":
            return ValidationReading(f"validation pod {settings.validation.namespace}/{pod_name} failed", ())
        if pod is None or pod.phase != "Succeeded":
            phase = pod.phase if pod is not None else "not found"
            waiting.append(f"validation pod {settings.validation.namespace}/{pod_name} ({phase})")
    operator = settings.operator
    if operator.required:
        missing = [f"{k}={v}" for k, v in operator.labels.items() if node.labels.get(k) != v]
        if missing:
            waiting.append(f"GPU operator label {', '.join(missing)}")
        selector = _selector(operator.validator_selector)
        validators = [p for p in pods if p.namespace == operator.namespace and selector.matches(p.labels)]
        if not any(p.phase == "Succeeded" for p in validators):
            waiting.append(
                f"GPU operator validator pod ({operator.namespace}, {operator.validator_selector}) completed"
            )
    return ValidationReading(None, tuple(waiting))
