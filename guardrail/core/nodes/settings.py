"""What a cycle is held to: the phases of a node, their budgets (per stratum), the capacity floor and the
GPU checks. Read from guardrail.yaml's `nodes:` section (guardrail.config.nodes) and kept in the run's
state, so a resumed cycle keeps the budgets it started with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from guardrail.core.nodes.strata import StratumKey


class Phase(StrEnum):
    """A node's way through a cycle, in order."""

    CORDON = "cordon"
    DRAIN = "drain"  # evictions that respect PodDisruptionBudgets
    REPLACE = "replace"  # the replace command, or the Node's deletion
    REGISTER = "register"  # the replacement (same name or a new node of the stratum) appears
    READY = "ready"
    GPU = "gpu-allocatable"  # nvidia.com/gpu allocatable back to what the stratum had
    VALIDATION = "validation"  # GPU operator's validations, the validation pod, no GPU-unhealthy condition
    UNCORDON = "uncordon"


PHASES = tuple(Phase)
# Register and Ready share the boot budget, counted from the end of the replace: the provider's boot
# script (drivers, GPU diagnostics) runs before the kubelet registers, and its limit is what matters.
BOOT_PHASES = (Phase.REGISTER, Phase.READY)


@dataclass(frozen=True, slots=True)
class Budgets:
    """Longest time (seconds) each phase may take before the node counts as failed."""

    drain: float = 30 * 60
    replace: float = 20 * 60
    boot: float = 15 * 60
    gpu: float = 5 * 60
    validation: float = 10 * 60
    api: float = 5 * 60  # cordon and uncordon: an API call and its confirmation

    def of(self, phase: Phase) -> float:
        """The budget of `phase` (the boot budget for register and Ready, measured together)."""
        return {
            Phase.CORDON: self.api,
            Phase.DRAIN: self.drain,
            Phase.REPLACE: self.replace,
            Phase.REGISTER: self.boot,
            Phase.READY: self.boot,
            Phase.GPU: self.gpu,
            Phase.VALIDATION: self.validation,
            Phase.UNCORDON: self.api,
        }[phase]

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Budgets:
        return cls(**{f.name: float(data[f.name]) for f in fields(cls) if f.name in data})


def budget_name(phase: Phase) -> str:
    """How a message names the budget of a phase: `boot budget` for register and Ready."""
    return "boot budget" if phase in BOOT_PHASES else f"{phase.value} budget"


@dataclass(frozen=True, slots=True)
class BudgetOverride:
    """Budgets for the strata whose instance type, region and zone match these globs (unset: inherited)."""

    instance_type: str = "*"
    region: str = "*"
    zone: str = "*"
    budgets: Mapping[str, float] = field(default_factory=dict)  # Budgets field name -> seconds

    def applies(self, key: StratumKey) -> bool:
        return (
            fnmatchcase(key.instance_type, self.instance_type)
            and fnmatchcase(key.region, self.region)
            and fnmatchcase(key.zone, self.zone)
        )


@dataclass(frozen=True, slots=True)
class ValidationPod:
    """The pod pinned to a rejoined node that must succeed before the node counts as back."""

    enabled: bool = True
    image: str = "nvcr.io/nvidia/cloud-native/dcgm:3.3.8-1-ubuntu22.04"
    command: tuple[str, ...] = ("sh", "-c", "nvidia-smi && dcgmi diag -r 1")
    namespace: str = "kube-system"


@dataclass(frozen=True, slots=True)
class OperatorChecks:
    """The NVIDIA GPU operator's own verdict on a node: its labels, and its validator pod completed."""

    required: bool = True
    labels: Mapping[str, str] = field(default_factory=lambda: {"nvidia.com/gpu.present": "true"})
    namespace: str = "gpu-operator"
    validator_selector: str = "app=nvidia-cuda-validator"


# Conditions that GPU health monitors set on a node (NVIDIA NVSentinel's syslog checks by default).
DEFAULT_UNHEALTHY_CONDITIONS = ("SysLogsXIDError", "SysLogsSXIDError", "SysLogsGPUFallenOff")


@dataclass(frozen=True, slots=True)
class CycleSettings:
    """Everything the engine decides with, apart from the cluster's own readings."""

    capacity_floor: float = 0.9
    budgets: Budgets = field(default_factory=Budgets)
    overrides: tuple[BudgetOverride, ...] = ()
    warn_ratio: float = 0.7  # a phase whose p95 passes this share of its budget is a warning
    poll_interval: float = 30.0  # how often the pool is read while nodes wait (and evictions are retried)
    validation: ValidationPod = field(default_factory=ValidationPod)
    operator: OperatorChecks = field(default_factory=OperatorChecks)
    unhealthy_conditions: tuple[str, ...] = DEFAULT_UNHEALTHY_CONDITIONS

    def budgets_for(self, key: StratumKey) -> Budgets:
        """The budgets of a stratum: the defaults, then every matching override in order."""
        budgets = self.budgets
        for override in self.overrides:
            if override.applies(key):
                budgets = replace(budgets, **dict(override.budgets))
        return budgets

    def longest_replace(self) -> float:
        """The longest replace budget of any stratum: how long a replace command may run before it is
        killed (each stratum's own budget is held against the time its command took)."""
        given = [o.budgets["replace"] for o in self.overrides if "replace" in o.budgets]
        return max([self.budgets.replace, *given])

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the run's state. Overrides are left out: the plan keeps each stratum's budgets."""
        return {
            "capacity_floor": self.capacity_floor,
            "budgets": self.budgets.to_json(),
            "warn_ratio": self.warn_ratio,
            "poll_interval": self.poll_interval,
            "validation": {
                "enabled": self.validation.enabled,
                "image": self.validation.image,
                "command": list(self.validation.command),
                "namespace": self.validation.namespace,
            },
            "operator": {
                "required": self.operator.required,
                "labels": dict(self.operator.labels),
                "namespace": self.operator.namespace,
                "validator_selector": self.operator.validator_selector,
            },
            "unhealthy_conditions": list(self.unhealthy_conditions),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CycleSettings:
        validation, operator = data["validation"], data["operator"]
        return cls(
            capacity_floor=float(data["capacity_floor"]),
            budgets=Budgets.from_json(data["budgets"]),
            warn_ratio=float(data["warn_ratio"]),
            poll_interval=float(data["poll_interval"]),
            validation=ValidationPod(
                bool(validation["enabled"]),
                str(validation["image"]),
                tuple(str(c) for c in validation["command"]),
                str(validation["namespace"]),
            ),
            operator=OperatorChecks(
                bool(operator["required"]),
                {str(k): str(v) for k, v in operator["labels"].items()},
                str(operator["namespace"]),
                str(operator["validator_selector"]),
            ),
            unhealthy_conditions=tuple(str(c) for c in data["unhealthy_conditions"]),
        )
