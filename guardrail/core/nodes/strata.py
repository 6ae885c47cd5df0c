"""Strata: the nodes of a pool that should behave alike, because failures are specific to one of these.

A stratum is one instance type in one region and zone, with one OS image, kernel and GPU product. Its
first node (by name) is its canary; it widens only after the canary came back healthy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guardrail.core.kube.cluster import NodeInfo

# Well-known labels (kubernetes.io) and the one NVIDIA's GPU feature discovery sets.
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
LEGACY_INSTANCE_TYPE_LABEL = "beta.kubernetes.io/instance-type"
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


@dataclass(frozen=True, slots=True, order=True)
class StratumKey:
    """What the nodes of one stratum share. Empty strings stand for a label or field a node lacks."""

    instance_type: str
    region: str
    zone: str
    os_image: str
    kernel: str
    gpu_product: str

    @property
    def placement(self) -> tuple[str, str, str]:
        """Where a machine of this stratum lives: a replacement node joins with the same placement, though
        it may come up with a new OS image or kernel (which is often the point of the cycle)."""
        return (self.instance_type, self.region, self.zone)

    @property
    def label(self) -> str:
        """Short and readable: `Standard_ND96asr_v4 westus2-1`."""
        return f"{self.instance_type or '?'} {self.zone or self.region or '?'}"

    def describe(self) -> str:
        """Every part, for reports: `Standard_ND96asr_v4 westus2-1 (Ubuntu 22.04.4 LTS, 5.15.0, A100)`."""
        extras = ", ".join(part for part in (self.os_image, self.kernel, self.gpu_product) if part)
        return f"{self.label} ({extras})" if extras else self.label

    def to_json(self) -> dict[str, str]:
        return {
            "instance_type": self.instance_type,
            "region": self.region,
            "zone": self.zone,
            "os_image": self.os_image,
            "kernel": self.kernel,
            "gpu_product": self.gpu_product,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StratumKey:
        return cls(
            str(data["instance_type"]),
            str(data["region"]),
            str(data["zone"]),
            str(data["os_image"]),
            str(data["kernel"]),
            str(data["gpu_product"]),
        )


def stratum_of(node: NodeInfo) -> StratumKey:
    """The stratum a node belongs to, from its labels and node info."""
    labels = node.labels
    return StratumKey(
        instance_type=labels.get(INSTANCE_TYPE_LABEL) or labels.get(LEGACY_INSTANCE_TYPE_LABEL, ""),
        region=labels.get(REGION_LABEL, ""),
        zone=labels.get(ZONE_LABEL, ""),
        os_image=node.os_image,
        kernel=node.kernel_version,
        gpu_product=labels.get(GPU_PRODUCT_LABEL, ""),
    )


def placement_of(node: NodeInfo) -> tuple[str, str, str]:
    """Instance type, region and zone of a node (see StratumKey.placement)."""
    return stratum_of(node).placement


def group_strata(nodes: Iterable[NodeInfo]) -> dict[StratumKey, list[NodeInfo]]:
    """Nodes by stratum: strata in key order, nodes by name (the first is the canary)."""
    groups: dict[StratumKey, list[NodeInfo]] = {}
    for node in nodes:
        groups.setdefault(stratum_of(node), []).append(node)
    return {key: sorted(groups[key], key=lambda n: n.name) for key in sorted(groups)}
