"""A fleet file: the clusters a rollout goes to, and for a rehearsal what they are and what the workload
does. The format is a contract: unknown keys are an error, reported with the file and line. One file may
serve both: a real rollout reads the contexts, a rehearsal the simulated sizes (and ignores the contexts).

```yaml
kubeconfig: ~/.kube/config     # real rollouts: the kubeconfig of every context (default: $KUBECONFIG, ~/.kube/config)
clusters:
  - name: prod-eu-1
    context: prod-eu-1-admin   # real rollouts: the kubeconfig context (default: the name)
    kubeconfig: prod.yaml      # real rollouts: this cluster's kubeconfig, over the fleet's
    prometheus_url: http://prometheus.prod-eu-1:9090   # the PromQL gates' Prometheus, over rollout.prometheus_url
    dns_cache_ttl: 20m         # node DNS answers survive this long after the API server stops serving
                               # (default: rollout.dns_cache_ttl)
    values: {region: eu-1}     # template values of this cluster (over the fleet's `values`)
    nodes: 5000                # rehearsals: the simulated cluster
    pods_per_node: 30
    seats: 600                 # requests the API servers can execute at once
    baseline: 0.30             # share of seats busy before the change
workload:                      # rehearsals: what each pod of the rolled-out DaemonSet does (the simulator's truth)
  calls:
    - {verb: list, resource: pods, scope: cluster, every: 30s}
cost: {request_ms: 2, per_object_ms: 0.05}   # rehearsals
rollout: {}                    # rollout settings over guardrail.yaml's (a rehearsal: over the defaults)
duration: 6h                   # rehearsals: simulated time limit
seed: 1                        # rehearsals
manifests: [../../templates/telemetry-agent]   # what a rehearsal rolls out (a real rollout: PATH...)
values: {image: ...}           # template values of every cluster
```

Relative paths (manifests, kubeconfig) are relative to the fleet file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.config.files import load_model
from guardrail.config.rollout import RolloutSettings
from guardrail.core.errors import BadInputError
from guardrail.core.locks import parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_duration(value: str) -> str:
    try:
        parse_duration(value)
    except BadInputError as exc:
        raise ValueError(str(exc)) from None
    return value


class FleetCluster(_Strict):
    """One cluster of the fleet."""

    name: str = Field(min_length=1, description="The cluster's name in every report (and its context by default).")
    context: str | None = Field(None, min_length=1, description="Its kubeconfig context (default: the name).")
    kubeconfig: str | None = Field(None, min_length=1, description="Its kubeconfig file, over the fleet's.")
    prometheus_url: str | None = Field(
        None, pattern=r"^https?://", description="The Prometheus of its PromQL gates, over rollout.prometheus_url."
    )
    dns_cache_ttl: str | None = Field(
        None,
        description="How long node DNS answers survive the API server's failure (default: rollout.dns_cache_ttl).",
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Template values of this cluster.")
    nodes: int | None = Field(None, ge=1, description="Nodes of the simulated cluster (rehearsals).")
    pods_per_node: int = Field(30, ge=0, description="Pods already running on each simulated node (rehearsals).")
    seats: int | None = Field(None, ge=1, description="Requests the simulated API servers execute at once.")
    baseline: float | None = Field(None, ge=0, lt=1, description="Share of the simulated seats busy before.")

    @field_validator("dns_cache_ttl")
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        return None if value is None else _check_duration(value)

    @property
    def context_name(self) -> str:
        return self.context or self.name


class SimulatedCluster(FleetCluster):
    """A cluster of a rehearsal: its size and load are required."""

    nodes: int = Field(ge=1, description="Nodes of the simulated cluster.")
    seats: int = Field(ge=1, description="Requests the API servers can execute at once.")
    baseline: float = Field(ge=0, lt=1, description="Share of the seats busy before the change.")


class WorkloadCall(_Strict):
    """One API call each pod of the workload makes."""

    verb: Literal["list", "get"] = Field(description="list or get.")
    resource: Literal["pods", "nodes", "services", "endpoints", "configmaps", "namespaces", "secrets"]
    scope: Literal["cluster", "node"] = Field(
        description="cluster: every object of the cluster; node: those of the pod's own node."
    )
    every: str = Field(description="How often, e.g. 30s.")

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        return _check_duration(value)


class Workload(_Strict):
    """What each pod of the rolled-out DaemonSet does: the simulator's truth, never the engine's."""

    calls: list[WorkloadCall] = Field(min_length=1, description="The API calls of each pod.")


class Cost(_Strict):
    """Seat time of a request = request_ms + per_object_ms x objects returned."""

    request_ms: float = Field(ge=0, description="Seat time of any request, in milliseconds.")
    per_object_ms: float = Field(ge=0, description="Seat time per object returned, in milliseconds.")


class FleetFile(_Strict):
    """A fleet file as a real rollout reads it. Relative paths are relative to the file's folder."""

    clusters: list[FleetCluster] = Field(min_length=1, description="The clusters.")
    kubeconfig: str | None = Field(None, min_length=1, description="The kubeconfig of every cluster's context.")
    workload: Workload | None = Field(None, description="What each pod does (the simulator's truth: rehearsals).")
    cost: Cost | None = Field(None, description="What a request costs (the simulator's truth: rehearsals).")
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)  # type: ignore[arg-type]
    duration: str = Field("6h", description="Simulated time limit of a rehearsal.")
    seed: int = Field(1, description="Seed of the simulator: one seed, one result.")
    manifests: list[str] = Field(default_factory=list, description="Manifest files or folders a rehearsal rolls out.")
    values: dict[str, Any] = Field(default_factory=dict, description="Template values of every cluster.")
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True, description="Where relative paths start.")

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        return _check_duration(value)

    @model_validator(mode="after")
    def _unique_names(self) -> FleetFile:
        names = [c.name for c in self.clusters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"cluster names must be unique: {', '.join(twice)}")
        return self

    def manifest_paths(self) -> list[Path]:
        return [self.base_dir / p for p in self.manifests]

    def duration_seconds(self) -> float:
        return parse_duration(self.duration).total_seconds()

    def kubeconfig_of(self, cluster: FleetCluster) -> str | None:
        """The kubeconfig file of a cluster's context (None: kubectl's default), relative paths resolved."""
        chosen = cluster.kubeconfig or self.kubeconfig
        if chosen is None:
            return None
        path = Path(chosen).expanduser()
        return str(path if path.is_absolute() else self.base_dir / path)

    def dns_cache_ttl_seconds(self, cluster: FleetCluster, rollout: RolloutSettings | None = None) -> float:
        """A cluster's node DNS cache lifetime: its own, else `rollout`'s dns_cache_ttl (default: the file's
        rollout settings; a real rollout passes them merged over guardrail.yaml's)."""
        chosen = cluster.dns_cache_ttl or (rollout or self.rollout).dns_cache_ttl
        return parse_duration(chosen).total_seconds()

    def values_of(self, cluster: FleetCluster) -> dict[str, Any]:
        """A cluster's template values: the fleet's, then its own."""
        return {**self.values, **cluster.values}


class RehearsalFile(FleetFile):
    """A fleet file as a rehearsal reads it: the simulated sizes, the workload and its cost are required."""

    clusters: list[SimulatedCluster] = Field(min_length=1, description="The simulated clusters.")  # type: ignore[assignment]
    workload: Workload = Field(description="What each pod of the rolled-out DaemonSet does.")
    cost: Cost = Field(description="What a request costs the simulated API servers.")


Fleet = TypeVar("Fleet", bound=FleetFile)


def load_fleet(path: Path, model: type[Fleet]) -> Fleet:
    """The fleet file at `path`, read as `model` (FleetFile for a real rollout, RehearsalFile for a
    rehearsal). Raises ConfigError naming the file (and line) when it is missing, not YAML, has unknown
    keys or bad values."""
    return load_model(
        path,
        model,
        what="fleet file",
        expected="a mapping with clusters:",
        extra={"base_dir": path.parent.resolve()},
    )
