"""The machines of a simulated pool and the Node each shows the API once its kubelet registered.

What a machine does after a boot starts, in simulated seconds (each scaled by the seeded jitter):

    boot + gpu_diag        the provider's boot script; longer than the pool's boot_timeout: never joins
    + REGISTER_TO_READY    the kubelet registered (NotReady, no GPUs) and turns Ready
    + READY_TO_PLUGIN      the device plugin advertises the GPUs the machine exposes (visible_gpus)
    + READY_TO_VALIDATOR   the GPU operator's CUDA validator completed (it does even with a GPU missing)
    + READY_TO_XID         a machine with an XID error gets the condition that says so
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo, Taint
from guardrail.simulation.pool_spec import GroupSpec

REGISTER_TO_READY = 20.0
READY_TO_PLUGIN = 30.0
READY_TO_VALIDATOR = 60.0
READY_TO_XID = 45.0
NODE_MONITOR_GRACE = 40.0  # how long the node controller waits before a silent kubelet is Unknown
XID_CONDITION = "SysLogsXIDError"

_UNSCHEDULABLE = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
_NOT_READY = Taint("node.kubernetes.io/not-ready", "", "NoSchedule")
_UNREACHABLE = Taint("node.kubernetes.io/unreachable", "", "NoExecute")


@dataclass(slots=True)
class Machine:
    """One machine: its Node's fields while registered, and how many times it booted."""

    name: str
    group: int
    spec: GroupSpec
    provider_id: str
    pool: str
    registered: bool = False
    ready_status: str = "False"
    unschedulable: bool = False
    allocatable_gpus: int = 0
    gpu_labels: dict[str, str] = field(default_factory=dict)
    extra_labels: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)
    boot_id: str = ""
    created_at: datetime | None = None
    epoch: int = 0  # bumped by every reimage or deletion: callbacks of an earlier boot do nothing
    boots: int = 0
    exposed_gpus: int = 0  # the GPUs the hardware really shows since its last boot
    xid: bool = False
    _info: NodeInfo | None = None

    @property
    def ready(self) -> bool:
        return self.registered and self.ready_status == "True"

    @property
    def serving(self) -> bool:
        return self.ready and not self.unschedulable

    def changed(self) -> None:
        self._info = None

    def labels(self) -> dict[str, str]:
        group = self.spec
        return {
            "agentpool": self.pool,
            "kubernetes.azure.com/agentpool": self.pool,
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": group.instance_type,
            "topology.kubernetes.io/region": group.placement_region,
            "topology.kubernetes.io/zone": group.zone,
            **self.gpu_labels,
            **self.extra_labels,
        }

    def gpus_advertised(self, count: int) -> None:
        """The device plugin and GPU feature discovery ran: allocatable GPUs and their labels."""
        self.allocatable_gpus = count
        self.gpu_labels = {
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.count": str(count),
            "nvidia.com/gpu.product": self.spec.gpu_product,
            "nvidia.com/cuda.driver-version.full": self.spec.driver,
        }
        self.changed()

    def info(self) -> NodeInfo:
        """The Node as the API shows it (cached until the machine changes)."""
        if self._info is None:
            taints: list[Taint] = [_UNSCHEDULABLE] if self.unschedulable else []
            if self.ready_status == "Unknown":
                taints.append(_UNREACHABLE)
            elif self.ready_status != "True":
                taints.append(_NOT_READY)
            group = self.spec
            self._info = NodeInfo(
                name=self.name,
                labels=self.labels(),
                taints=tuple(taints),
                unschedulable=self.unschedulable,
                conditions={"Ready": self.ready_status, **self.conditions},
                allocatable={"cpu": "96", "pods": "110", GPU_RESOURCE: str(self.allocatable_gpus)},
                provider_id=self.provider_id,
                kubelet_version=group.kubelet,
                os_image=group.os_image,
                kernel_version=group.kernel,
                created_at=self.created_at,
                boot_id=self.boot_id,
            )
        return self._info
