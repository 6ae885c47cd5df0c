"""The health gates every step must pass, judged on a reading, the reading before it and the cluster's
pre-rollout baseline. A failing gate says which gate and by how much; a gate that cannot be read fails
(an unreadable API server is never "healthy").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrail.core.rollout.policy import GateLimits
from guardrail.core.rollout.promql import GATE_PREFIX, worst
from guardrail.core.rollout.readings import ClusterReading, latency_quantile


class GateStatus(StrEnum):
    PASS = "pass"
    WAIT = "wait"  # not failed yet, not settled either (pods still starting): the soak cannot end
    FAIL = "fail"


# The gates, in the order they are judged and shown: the one table renderers and the TUI read.
GATES: Mapping[str, str] = {
    "apiserver-reachable": "the API server answers guardrail's requests",
    "apiserver-ready": "the API server answers /readyz with ok",
    "seats-in-use": "APF seats in use over the API server's seats",
    "request-latency": "p99 of apiserver_request_duration_seconds since the last reading",
    "throttled": "429 answers per minute (apiserver_request_total) above the pre-rollout rate",
    "apf-rejections": "apiserver_flowcontrol_rejected_requests_total per minute above the pre-rollout rate",
    "nodes-ready": "Ready nodes fewer than before the rollout",
    "pods-ready": "the DaemonSet's new pods Ready on the nodes of the steps taken",
    "pods-restarting": "restarts of the DaemonSet's new pods since the step began",
    "coredns-ready": "CoreDNS pods Ready",
    "dns-failures": "failed DNS answers (CoreDNS SERVFAIL) since the last reading",
    "promql": "a query of rollout.promql_gates against the cluster's Prometheus, against its threshold "
    "(shown as promql:NAME)",
}


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    status: GateStatus
    detail: str  # the value against its limit, "seats in use 0.93 > 0.80 (by 0.13)"

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "status": self.status.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateResult:
        return cls(str(data["gate"]), GateStatus(data["status"]), str(data["detail"]))


@dataclass(frozen=True, slots=True)
class Baseline:
    """A cluster before the rollout, from two readings one observation apart."""

    utilisation: float
    nodes_ready: int
    throttled_per_minute: float
    rejected_per_minute: float
    seats: float
    objects: float

    def to_json(self) -> dict[str, Any]:
        return {
            "utilisation": self.utilisation,
            "nodes_ready": self.nodes_ready,
            "throttled_per_minute": self.throttled_per_minute,
            "rejected_per_minute": self.rejected_per_minute,
            "seats": self.seats,
            "objects": self.objects,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(
            float(data["utilisation"]),
            int(data["nodes_ready"]),
            float(data["throttled_per_minute"]),
            float(data["rejected_per_minute"]),
            float(data["seats"]),
            float(data["objects"]),
        )


def baseline_of(first: ClusterReading, second: ClusterReading) -> Baseline | str:
    """The baseline of two pre-rollout readings, or why there is none (unreachable, no metrics)."""
    if second.error is not None or first.error is not None:
        return f"API server not reachable: {second.error or first.error}"
    if first.apiserver is None or second.apiserver is None:
        return "API server metrics not readable"
    if second.apiserver.seats <= 0:
        return "API server shows no APF seats (apiserver_flowcontrol_nominal_limit_seats)"
    minutes = _minutes(first.at, second.at)
    before, after = first.apiserver, second.apiserver
    return Baseline(
        utilisation=(before.utilisation + after.utilisation) / 2,
        nodes_ready=second.nodes_ready,
        throttled_per_minute=_per_minute(after.throttled_total - before.throttled_total, minutes),
        rejected_per_minute=_per_minute(after.rejected_total - before.rejected_total, minutes),
        seats=after.seats,
        objects=after.objects,
    )


def judge(
    reading: ClusterReading,
    previous: ClusterReading | None,
    baseline: Baseline,
    limits: GateLimits,
    *,
    step_started_at: datetime | None = None,
    restarts_at_step_start: int = 0,
) -> list[GateResult]:
    """Every gate on `reading`. `previous` (the cluster's reading before) gives the window of the rates;
    `step_started_at` the time the pods had to become Ready (None: the cluster has no new pods yet)."""
    if reading.error is not None:
        return [GateResult("apiserver-reachable", GateStatus.FAIL, f"no answer: {reading.error}")]
    results = [GateResult("apiserver-reachable", GateStatus.PASS, "answers")]
    results.append(_check("apiserver-ready", reading.api_ready, "/readyz ok", "/readyz not ok"))
    results.extend(_apiserver_gates(reading, previous, baseline, limits))
    lost = baseline.nodes_ready - reading.nodes_ready
    named = f" ({', '.join(reading.not_ready_nodes)})" if reading.not_ready_nodes else ""
    allowed = float(limits.max_not_ready_nodes)
    results.append(_limit("nodes-ready", float(lost), allowed, f"{{}} fewer Ready nodes{named}", "{:.0f}"))
    results.extend(_workload_gates(reading, limits, step_started_at, restarts_at_step_start))
    results.extend(_dns_gates(reading, previous, limits))
    results.extend(_promql_gates(reading, limits))
    return results


def gate_description(gate: str) -> str:
    """What a gate result's gate checks (a PromQL gate's id is promql:NAME)."""
    return GATES["promql"] if gate.startswith(GATE_PREFIX) else GATES.get(gate, gate)


def failures(results: Sequence[GateResult]) -> list[GateResult]:
    return [r for r in results if r.status is GateStatus.FAIL]


def settled(results: Sequence[GateResult]) -> bool:
    """Every gate passes (none failing, none still waiting)."""
    return all(r.status is GateStatus.PASS for r in results)


def _apiserver_gates(
    reading: ClusterReading, previous: ClusterReading | None, baseline: Baseline, limits: GateLimits
) -> list[GateResult]:
    sample = reading.apiserver
    if sample is None or sample.seats <= 0:
        why = "metrics not readable" if sample is None else "no APF seats shown"
        return [GateResult("seats-in-use", GateStatus.FAIL, why)]
    results = [_limit("seats-in-use", sample.utilisation, limits.max_seat_utilisation, "seats in use {}", "{:.2f}")]
    before = previous.apiserver if previous is not None and previous.error is None else None
    if before is None or previous is None:
        return results
    minutes = _minutes(previous.at, reading.at)
    p99 = latency_quantile(before.latency_buckets, sample.latency_buckets, 0.99)
    if p99 is not None:
        results.append(
            _limit("request-latency", p99, limits.max_request_latency_seconds, "p99 request latency {} s", "{:.3f}")
        )
    throttled = _per_minute(sample.throttled_total - before.throttled_total, minutes) - baseline.throttled_per_minute
    results.append(_limit("throttled", throttled, limits.max_throttled_per_minute, "{} more 429s a minute", "{:.1f}"))
    rejected = _per_minute(sample.rejected_total - before.rejected_total, minutes) - baseline.rejected_per_minute
    results.append(
        _limit("apf-rejections", rejected, limits.max_rejected_per_minute, "{} more APF rejections a minute", "{:.1f}")
    )
    return results


def _workload_gates(
    reading: ClusterReading, limits: GateLimits, step_started_at: datetime | None, restarts_at_start: int
) -> list[GateResult]:
    pods = reading.workload
    if pods is None or step_started_at is None:
        return []
    missing = pods.expected - pods.ready
    if missing <= 0:
        ready = GateResult("pods-ready", GateStatus.PASS, f"{pods.ready}/{pods.expected} Ready")
    else:
        waited = (reading.at - step_started_at).total_seconds()
        names = f" (e.g. on {', '.join(pods.not_ready)})" if pods.not_ready else ""
        detail = f"{pods.ready}/{pods.expected} Ready, {missing} not Ready after {waited:.0f} s{names}"
        late = waited > limits.pod_ready_timeout_seconds
        ready = GateResult("pods-ready", GateStatus.FAIL if late else GateStatus.WAIT, detail)
    restarts = float(pods.restarts - restarts_at_start)
    return [ready, _limit("pods-restarting", restarts, float(limits.max_restarts), "{} restarts", "{:.0f}")]


def _dns_gates(reading: ClusterReading, previous: ClusterReading | None, limits: GateLimits) -> list[GateResult]:
    dns = reading.dns
    if dns is None:
        return [GateResult("coredns-ready", GateStatus.FAIL, "CoreDNS not readable")]
    results = [
        _check(
            "coredns-ready",
            dns.pods > 0 and dns.pods_ready == dns.pods,
            f"{dns.pods_ready}/{dns.pods} Ready",
            f"{dns.pods_ready}/{dns.pods} CoreDNS pods Ready",
        )
    ]
    if previous is not None and previous.dns is not None:
        failed = dns.failures_total - previous.dns.failures_total
        allowed = float(limits.max_dns_failures)
        results.append(_limit("dns-failures", failed, allowed, "{} failed DNS answers", "{:.0f}"))
    return results


def _promql_gates(reading: ClusterReading, limits: GateLimits) -> list[GateResult]:
    results = []
    for gate in limits.promql:
        value = reading.promql.get(gate.name)
        wanted = f"{gate.comparison} {gate.threshold:g}"
        if value is None or value.error is not None or not value.values:
            why = "not queried" if value is None else value.error or "no series in the answer"
            results.append(GateResult(gate.gate, GateStatus.FAIL, f"unreadable ({why}): must be {wanted}"))
            continue
        shown = worst(gate, value.values)
        if all(gate.passes(v) for v in value.values):
            results.append(GateResult(gate.gate, GateStatus.PASS, f"{gate.name} {shown:g} {wanted}"))
        else:
            by = abs(shown - gate.threshold)
            results.append(GateResult(gate.gate, GateStatus.FAIL, f"{gate.name} {shown:g}, not {wanted} (by {by:g})"))
    return results


def _limit(gate: str, value: float, limit: float, what: str, number: str) -> GateResult:
    shown = what.format(number.format(value))
    if value > limit:
        by = number.format(value - limit)
        return GateResult(gate, GateStatus.FAIL, f"{shown} > {number.format(limit)} (by {by})")
    return GateResult(gate, GateStatus.PASS, f"{shown} <= {number.format(limit)}")


def _check(gate: str, ok: bool, passed: str, failed: str) -> GateResult:
    return GateResult(gate, GateStatus.PASS, passed) if ok else GateResult(gate, GateStatus.FAIL, failed)


def _minutes(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 60


def _per_minute(count: float, minutes: float) -> float:
    return count / minutes if minutes > 0 else 0.0
