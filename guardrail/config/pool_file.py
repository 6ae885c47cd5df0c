"""The pool file of `guardrail nodes rehearse POOL.yaml`: a simulated node pool, as a contract.

```yaml
pool: gpu-a100
boot_timeout: 15m            # the provider's limit: a node whose boot (boot + gpu_diag) takes longer never joins
capacity_floor: 0.9
groups:
  - {count: 40, instance_type: Standard_ND96asr_v4, zone: eastus-1, gpus: 8, boot: 6m, gpu_diag: 3m}
  - {count: 20, instance_type: Standard_NC24ads_A100_v4, zone: westus2-1, gpus: 1, boot: 5m, gpu_diag: 2m,
     visible_gpus: 1}        # GPUs a rejoined node exposes (default: gpus); fewer = it joins, Ready, but broken
seed: 1
```

Unknown keys and bad values are refused with the file and line, like guardrail.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guardrail.config.files import load_model
from guardrail.config.nodes import Duration


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoolGroup(_Entry):
    """`count` identical machines of one instance type in one zone."""

    count: int = Field(ge=1, description="How many machines.")
    instance_type: str = Field(min_length=1, description="node.kubernetes.io/instance-type.")
    zone: str = Field(min_length=1, description="topology.kubernetes.io/zone, e.g. westus2-1.")
    region: str | None = Field(
        default=None, description="topology.kubernetes.io/region (default: the zone without -N)."
    )
    gpus: int = Field(ge=0, description="GPUs per machine.")
    boot: Duration = Field(description="Boot time up to the GPU diagnostics.")
    gpu_diag: Duration | None = Field(default=None, description="The boot script's GPU diagnostics.")
    visible_gpus: int | None = Field(
        default=None, ge=0, description="GPUs a rejoined machine exposes (default: gpus); fewer: Ready, but broken."
    )
    xid: bool = Field(default=False, description="A rejoined machine reports a GPU XID error soon after Ready.")
    kubelet: str = Field(default="v1.29.7", description="Kubelet version of the machines.")
    os_image: str = Field(default="Ubuntu 22.04.4 LTS", description="OS image.")
    kernel: str = Field(default="5.15.0-1071-azure", description="Kernel version.")
    driver: str = Field(default="550.90.07", description="NVIDIA driver version (its GPU feature discovery label).")
    gpu_product: str = Field(default="NVIDIA-A100-SXM4-80GB", description="nvidia.com/gpu.product.")

    @model_validator(mode="after")
    def _visible_within_gpus(self) -> PoolGroup:
        if self.visible_gpus is not None and self.visible_gpus > self.gpus:
            raise ValueError(f"visible_gpus ({self.visible_gpus}) is more than gpus ({self.gpus})")
        return self


class PoolWorkload(_Entry):
    """A Deployment spread over the pool, guarded by a PodDisruptionBudget (at most one of its two limits)."""

    name: str = Field(min_length=1, description="Its name (and app label).")
    replicas: int = Field(ge=1, description="How many pods.")
    namespace: str = Field(default="default", description="Its namespace.")
    gpus: int = Field(default=0, ge=0, description="GPUs each pod requests.")
    min_available: int | None = Field(default=None, ge=0, description="PodDisruptionBudget minAvailable.")
    max_unavailable: int | None = Field(default=None, ge=0, description="PodDisruptionBudget maxUnavailable.")
    start: Duration = Field(default="30s", description="From scheduled to Ready.")

    @model_validator(mode="after")
    def _one_budget(self) -> PoolWorkload:
        if self.min_available is not None and self.max_unavailable is not None:
            raise ValueError("a PodDisruptionBudget has min_available or max_unavailable, not both")
        return self


class PoolFile(_Entry):
    """A simulated node pool and the cycle's capacity floor."""

    pool: str = Field(min_length=1, description="The pool's name (its agentpool label).")
    boot_timeout: Duration = Field(description="The provider's limit: a longer boot + gpu_diag never joins.")
    capacity_floor: float | None = Field(
        default=None, gt=0, le=1, description="Share of the pool's GPUs that always serves (default: guardrail.yaml's)."
    )
    groups: list[PoolGroup] = Field(min_length=1, description="The machines.")
    seed: int = Field(default=0, description="Seed of every simulated duration's jitter.")
    jitter: float = Field(default=0.1, ge=0, lt=1, description="Durations vary by up to this share either way.")
    replace: Literal["delete-node", "reimage"] = Field(
        default="delete-node", description="delete-node: a new machine with a new name; reimage: the same name reboots."
    )
    workloads: list[PoolWorkload] = Field(default_factory=list, description="Pods the drains must move.")


def load_pool_file(path: Path) -> PoolFile:
    """The pool file at `path`. Raises ConfigError (exit 3) naming the file and line of what is wrong."""
    return load_model(path, PoolFile, what="pool file", expected="a mapping with pool:, boot_timeout: and groups:")
