"""The `rollout:` section of guardrail.yaml (and of a fleet file, to rehearse other choices)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.core.errors import BadInputError
from guardrail.core.locks import parse_duration
from guardrail.core.rollout.plan import validate_batches
from guardrail.core.rollout.policy import ROLLOUT_LABEL, GateLimits, RolloutPolicy
from guardrail.core.rollout.promql import PromqlGate


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _seconds(value: str) -> float:
    return parse_duration(value).total_seconds()


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parse_duration(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None
    return value


class RolloutGates(_Strict):
    """What the health gates tolerate at every step; a gate past its limit halts and rolls back."""

    max_seat_utilisation: float = Field(0.8, gt=0, description="APF seats in use over the API server's seats.")
    max_request_latency: str = Field("1s", description="p99 API request latency between two observations.")
    max_restarts: int = Field(0, ge=0, description="Restarts of the new pods since the step began.")
    max_throttled_per_minute: float = Field(0.0, ge=0, description="429 answers a minute above the pre-rollout rate.")
    max_rejected_per_minute: float = Field(
        0.0, ge=0, description="APF rejections (apiserver_flowcontrol_rejected_requests_total) a minute above baseline."
    )
    max_not_ready_nodes: int = Field(0, ge=0, description="Ready nodes fewer than before the rollout.")
    max_dns_failures: int = Field(0, ge=0, description="Failed DNS answers (CoreDNS SERVFAIL) between observations.")
    pod_ready_timeout: str = Field("5m", description="How long a batch's new pods may take to become Ready.")

    @field_validator("max_request_latency", "pod_ready_timeout")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        return str(_duration(value))

    def limits(self) -> GateLimits:
        return GateLimits(
            max_seat_utilisation=self.max_seat_utilisation,
            max_request_latency_seconds=_seconds(self.max_request_latency),
            max_restarts=self.max_restarts,
            max_throttled_per_minute=self.max_throttled_per_minute,
            max_rejected_per_minute=self.max_rejected_per_minute,
            max_not_ready_nodes=self.max_not_ready_nodes,
            max_dns_failures=self.max_dns_failures,
            pod_ready_timeout_seconds=_seconds(self.pod_ready_timeout),
        )


class PromqlGateSettings(_Strict):
    """A health gate read from Prometheus: the query's value must be `comparison` `threshold` to pass."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="The gate's name (promql:NAME in reports).")
    query: str = Field(min_length=1, description="An instant PromQL query; every series it returns is judged.")
    threshold: float = Field(description="The limit the value is compared with.")
    comparison: Literal["<", "<=", ">", ">="] = Field(
        "<", description="How the value must compare with the threshold to pass (default <)."
    )

    def gate(self) -> PromqlGate:
        return PromqlGate(self.name, self.query, self.threshold, self.comparison)


class RolloutSettings(_Strict):
    """How a fleet canary of a DaemonSet proceeds: batches, soaks, the load gate, the health gates."""

    canary_nodes: int = Field(1, ge=1, description="Nodes of the first step in each cluster.")
    batches: list[float] = Field(
        default_factory=lambda: [0.01, 0.10, 0.50, 1.0],
        description="Cumulative shares of a cluster's nodes after each step that follows the canary; ends with 1.0.",
    )
    soak: str = Field("10m", description="Least time between two steps, observing the health gates.")
    dns_cache_ttl: str = Field(
        "20m", description="Node DNS cache lifetime: a cluster-wide step soaks at least this long."
    )
    observe_every: str = Field("1m", description="How often the cluster being widened is observed while soaking.")
    watch_every: str = Field("5m", description="How often the other clusters the rollout touched are observed.")
    max_apiserver_utilisation: float = Field(
        0.6, gt=0, description="Refuse to widen when the projected API server utilisation passes this."
    )
    workload_concurrency_shares: int = Field(
        20, ge=1, description="nominalConcurrencyShares of the bounded APF priority level guardrail gives the workload."
    )
    rollback_verify_timeout: str = Field(
        "30m", description="How long to wait for the gates to be back at their baseline after a rollback."
    )
    baseline_tolerance: float = Field(
        0.05, ge=0, description="Utilisation above the pre-rollout baseline still counted as back at baseline."
    )
    label: str = Field(
        ROLLOUT_LABEL,
        description="Prefix of the node label (one per DaemonSet) that holds the new pods off a node until its batch.",
    )
    approve_after_canary: bool = Field(
        False,
        description="Widening past the first canary waits for approvals.required approvals of that step's "
        "fingerprint (guardrail approve), watched by the gates meanwhile.",
    )
    gates: RolloutGates = Field(default_factory=RolloutGates)  # type: ignore[arg-type]
    promql_gates: list[PromqlGateSettings] = Field(
        default_factory=list, description="More health gates: PromQL queries against each cluster's Prometheus."
    )
    prometheus_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Prometheus base URL of the PromQL gates (a fleet file's cluster may give its own).",
    )
    prometheus_timeout: str = Field("5s", description="How long one PromQL query may take; slower is a failed gate.")

    @model_validator(mode="after")
    def _unique_gate_names(self) -> RolloutSettings:
        names = [g.name for g in self.promql_gates]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"promql_gates: names must be unique: {', '.join(twice)}")
        return self

    @field_validator(
        "soak", "dns_cache_ttl", "observe_every", "watch_every", "rollback_verify_timeout", "prometheus_timeout"
    )
    @classmethod
    def _is_duration(cls, value: str) -> str:
        return str(_duration(value))

    @field_validator("batches")
    @classmethod
    def _batches_valid(cls, value: list[float]) -> list[float]:
        try:
            validate_batches(value)
        except BadInputError as exc:
            raise ValueError(str(exc).removeprefix("rollout.batches: ")) from None
        return value

    def policy(self) -> RolloutPolicy:
        """The settings in the engine's units."""
        return RolloutPolicy(
            canary_nodes=self.canary_nodes,
            batches=tuple(self.batches),
            soak_seconds=_seconds(self.soak),
            dns_cache_ttl_seconds=_seconds(self.dns_cache_ttl),
            observe_every_seconds=_seconds(self.observe_every),
            watch_every_seconds=_seconds(self.watch_every),
            max_apiserver_utilisation=self.max_apiserver_utilisation,
            workload_concurrency_shares=self.workload_concurrency_shares,
            rollback_verify_timeout_seconds=_seconds(self.rollback_verify_timeout),
            baseline_tolerance=self.baseline_tolerance,
            rollout_label=self.label,
            approve_after_canary=self.approve_after_canary,
            gates=replace(self.gates.limits(), promql=tuple(g.gate() for g in self.promql_gates)),
        )

    def prometheus_timeout_seconds(self) -> float:
        return _seconds(self.prometheus_timeout)
