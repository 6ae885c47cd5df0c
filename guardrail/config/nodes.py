"""guardrail.yaml's `nodes:` section: how node-pool cycles are held to budgets, the capacity floor and the
GPU checks. Budgets per stratum match instance type, region and zone globs.

```yaml
nodes:
  capacity_floor: 0.9
  boot_budget: 15m             # the provider's boot-script timeout
  strata:
    - {instance_type: "Standard_ND96*", region: westus2, boot_budget: 20m}
  validation: {image: nvcr.io/nvidia/cloud-native/dcgm:3.3.8-1-ubuntu22.04}
```
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.core.errors import BadInputError
from guardrail.core.kube.labels import LabelSelector
from guardrail.core.locks import parse_duration
from guardrail.core.nodes.settings import (
    DEFAULT_UNHEALTHY_CONDITIONS,
    BudgetOverride,
    Budgets,
    CycleSettings,
    OperatorChecks,
    ValidationPod,
)

_DEFAULT_VALIDATION = ValidationPod()
_DEFAULT_OPERATOR = OperatorChecks()


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except BadInputError as exc:
        raise ValueError(str(exc)) from None
    return value


# A duration as people write it: 90s, 15m, 1h30m.
Duration = Annotated[str, AfterValidator(_duration)]


def seconds(duration: str) -> float:
    """The seconds of a validated Duration."""
    return parse_duration(duration).total_seconds()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StratumBudgetSettings(_Section):
    """Budgets for the strata matching these globs; unset budgets are the section's."""

    instance_type: str = Field(default="*", description="Glob on node.kubernetes.io/instance-type.")
    region: str = Field(default="*", description="Glob on topology.kubernetes.io/region.")
    zone: str = Field(default="*", description="Glob on topology.kubernetes.io/zone.")
    boot_budget: Duration | None = Field(default=None, description="From the replace to Ready.")
    drain_timeout: Duration | None = Field(default=None, description="Longest drain.")
    replace_timeout: Duration | None = Field(default=None, description="Longest replace command.")
    gpu_timeout: Duration | None = Field(default=None, description="From Ready to the GPUs allocatable again.")
    validation_timeout: Duration | None = Field(default=None, description="GPU operator checks and the validation pod.")

    def to_override(self) -> BudgetOverride:
        given = {
            "boot": self.boot_budget,
            "drain": self.drain_timeout,
            "replace": self.replace_timeout,
            "gpu": self.gpu_timeout,
            "validation": self.validation_timeout,
        }
        budgets = {name: seconds(value) for name, value in given.items() if value is not None}
        return BudgetOverride(self.instance_type, self.region, self.zone, budgets)


class ValidationPodSettings(_Section):
    """The pod pinned to every rejoined node; it must succeed within validation_timeout."""

    enabled: bool = Field(default=True, description="Run the validation pod (the GPU operator checks still apply).")
    image: str = Field(default=_DEFAULT_VALIDATION.image, description="An image with nvidia-smi and dcgmi.")
    command: list[str] = Field(
        default_factory=lambda: list(_DEFAULT_VALIDATION.command), description="The container's command."
    )
    namespace: str = Field(default=_DEFAULT_VALIDATION.namespace, description="Where validation pods are created.")


class GpuOperatorSettings(_Section):
    """The NVIDIA GPU operator's own validations, required on every rejoined node."""

    required: bool = Field(default=True, description="Wait for the operator's labels and validator pod.")
    labels: dict[str, str] = Field(
        default_factory=lambda: dict(_DEFAULT_OPERATOR.labels), description="Labels the node must carry."
    )
    namespace: str = Field(default=_DEFAULT_OPERATOR.namespace, description="The operator's namespace.")
    validator_selector: str = Field(
        default=_DEFAULT_OPERATOR.validator_selector, description="Label selector of its validator pod on the node."
    )

    @field_validator("validator_selector")
    @classmethod
    def _selector_parses(cls, value: str) -> str:
        try:
            LabelSelector.parse(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None
        return value


class NodesSettings(_Section):
    """Node-pool cycles: `guardrail nodes ...`."""

    capacity_floor: float = Field(default=0.9, gt=0, le=1, description="Share of the pool's GPUs that always serves.")
    boot_budget: Duration = Field(
        default="15m", description="From the replace to Ready: the provider's boot-script limit."
    )
    drain_timeout: Duration = Field(
        default="30m", description="Longest drain (evictions respect PodDisruptionBudgets)."
    )
    replace_timeout: Duration = Field(default="20m", description="Longest --replace-command run.")
    gpu_timeout: Duration = Field(default="5m", description="From Ready until nvidia.com/gpu is allocatable as before.")
    validation_timeout: Duration = Field(default="10m", description="GPU operator checks and the validation pod.")
    api_timeout: Duration = Field(default="5m", description="A cordon or uncordon, until the node shows it.")
    poll_interval: Duration = Field(default="30s", description="How often the cluster is read while waiting.")
    warn_at: float = Field(
        default=0.7, gt=0, le=1, description="A phase whose p95 passes this share of its budget warns."
    )
    unhealthy_conditions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_UNHEALTHY_CONDITIONS),
        description="Node conditions that mean a GPU is unhealthy (an XID error, a GPU off the bus).",
    )
    validation: ValidationPodSettings = Field(default_factory=ValidationPodSettings)
    gpu_operator: GpuOperatorSettings = Field(default_factory=GpuOperatorSettings)
    strata: list[StratumBudgetSettings] = Field(default_factory=list, description="Budgets of some strata.")
    approve_before_cycle: bool = Field(
        default=False,
        description="A cycle starts only once someone other than its author ran `guardrail approve` on the "
        "fingerprint of its plan (approvals: says who may and how many).",
    )

    @model_validator(mode="after")
    def _command_given(self) -> NodesSettings:
        if not self.validation.command:
            raise ValueError("validation.command must not be empty")
        return self

    def to_cycle_settings(self) -> CycleSettings:
        budgets = Budgets(
            drain=seconds(self.drain_timeout),
            replace=seconds(self.replace_timeout),
            boot=seconds(self.boot_budget),
            gpu=seconds(self.gpu_timeout),
            validation=seconds(self.validation_timeout),
            api=seconds(self.api_timeout),
        )
        return CycleSettings(
            capacity_floor=self.capacity_floor,
            budgets=budgets,
            overrides=tuple(s.to_override() for s in self.strata),
            warn_ratio=self.warn_at,
            poll_interval=seconds(self.poll_interval),
            validation=ValidationPod(
                self.validation.enabled,
                self.validation.image,
                tuple(self.validation.command),
                self.validation.namespace,
            ),
            operator=OperatorChecks(
                self.gpu_operator.required,
                dict(self.gpu_operator.labels),
                self.gpu_operator.namespace,
                self.gpu_operator.validator_selector,
            ),
            unhealthy_conditions=tuple(self.unhealthy_conditions),
        )
