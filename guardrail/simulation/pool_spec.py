"""A simulated node pool, described: groups of identical machines (how long they boot, how many GPUs they
really expose), the workloads on them with their PodDisruptionBudgets, and the provider's boot limit.

This is the simulator's truth; the engine never reads it, only what the simulated cluster shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

# Where simulated time starts: fixed, so that two rehearsals of one pool are identical to the byte.
SIMULATION_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class ReplaceMode(StrEnum):
    DELETE_NODE = "delete-node"  # the Node is deleted; the pool creates a new machine with a new name
    REIMAGE = "reimage"  # a replace command reimages the machine in place: same name, new boot


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """`count` identical machines. Durations in seconds."""

    count: int
    instance_type: str
    zone: str
    gpus: int
    boot: float
    gpu_diag: float = 0.0
    visible_gpus: int | None = None  # GPUs a rejoined node exposes (None: all of them)
    region: str | None = None  # default: the zone without its last `-N`
    xid: bool = False  # a rejoined node reports a GPU XID error (a node condition) soon after Ready
    kubelet: str = "v1.29.7"
    os_image: str = "Ubuntu 22.04.4 LTS"
    kernel: str = "5.15.0-1071-azure"
    driver: str = "550.90.07"
    gpu_product: str = "NVIDIA-A100-SXM4-80GB"

    @property
    def placement_region(self) -> str:
        return self.region if self.region is not None else self.zone.rsplit("-", 1)[0]

    @property
    def rejoined_gpus(self) -> int:
        return self.gpus if self.visible_gpus is None else self.visible_gpus


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """A Deployment's pods spread over the pool, and the PodDisruptionBudget that guards them."""

    name: str
    replicas: int
    namespace: str = "default"
    gpus: int = 0  # per pod
    min_available: int | None = None
    max_unavailable: int | None = None
    start: float = 30.0  # seconds from scheduled to Ready


@dataclass(frozen=True, slots=True)
class PoolSpec:
    pool: str
    boot_timeout: float  # the provider's limit: a machine whose boot + gpu_diag take longer never joins
    groups: tuple[GroupSpec, ...]
    seed: int = 0
    jitter: float = 0.1  # every simulated duration is scaled by a seeded factor in [1 - jitter, 1 + jitter]
    replace: ReplaceMode = ReplaceMode.DELETE_NODE
    workloads: tuple[WorkloadSpec, ...] = ()
    start: datetime = SIMULATION_START
