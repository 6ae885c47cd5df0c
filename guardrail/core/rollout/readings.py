"""What the engine sees of a cluster: what a real cluster shows, nothing more.

The API server's /metrics (APF seats, dispatched requests and execution time per flow schema,
rejections, 429s, request latency, stored objects), /readyz, node and pod status, and CoreDNS's metrics
read through the API server's pod proxy. Counters are kept raw: the gates and the load measurement
work on the difference between two readings. Every record turns into plain JSON and back, since the
previous reading and the baseline live in the run's saved state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.core.audit import iso_utc, parse_iso
from guardrail.core.rollout.promql import PromqlValue


@dataclass(frozen=True, slots=True)
class FlowSample:
    """One APF flow schema's counters (the workload's own, when guardrail created its FlowSchema)."""

    dispatched_total: float = 0.0  # apiserver_flowcontrol_dispatched_requests_total
    execution_seconds_total: float = 0.0  # apiserver_flowcontrol_request_execution_seconds_sum
    rejected_total: float = 0.0  # apiserver_flowcontrol_rejected_requests_total


@dataclass(frozen=True, slots=True)
class ApiServerSample:
    """One reading of an API server's /metrics, summed over its series."""

    # Seats: the sum of apiserver_flowcontrol_nominal_limit_seats over the priority levels, which APF
    # derives from --max-requests-inflight + --max-mutating-requests-inflight.
    seats: float
    executing_seats: float  # apiserver_flowcontrol_current_executing_seats
    inqueue_requests: float = 0.0  # apiserver_flowcontrol_current_inqueue_requests
    rejected_total: float = 0.0  # apiserver_flowcontrol_rejected_requests_total
    throttled_total: float = 0.0  # apiserver_request_total{code="429"}
    requests_total: float = 0.0  # apiserver_request_total
    # apiserver_request_duration_seconds buckets summed over verbs and resources: (le, cumulative count).
    latency_buckets: tuple[tuple[float, float], ...] = ()
    objects: float = 0.0  # apiserver_storage_objects, summed over resources
    flows: Mapping[str, FlowSample] = field(default_factory=dict)

    @property
    def utilisation(self) -> float:
        """Seats in use over seats; 0 when the server shows no seats (fail closed is the gate's job)."""
        return self.executing_seats / self.seats if self.seats > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        # Built by hand, not with asdict: a run saves its readings at every observation.
        return {
            "seats": self.seats,
            "executing_seats": self.executing_seats,
            "inqueue_requests": self.inqueue_requests,
            "rejected_total": self.rejected_total,
            "throttled_total": self.throttled_total,
            "requests_total": self.requests_total,
            "latency_buckets": [[_finite(le), count] for le, count in self.latency_buckets],
            "objects": self.objects,
            "flows": {
                name: {
                    "dispatched_total": flow.dispatched_total,
                    "execution_seconds_total": flow.execution_seconds_total,
                    "rejected_total": flow.rejected_total,
                }
                for name, flow in self.flows.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiServerSample:
        return cls(
            seats=float(data["seats"]),
            executing_seats=float(data["executing_seats"]),
            inqueue_requests=float(data["inqueue_requests"]),
            rejected_total=float(data["rejected_total"]),
            throttled_total=float(data["throttled_total"]),
            requests_total=float(data["requests_total"]),
            latency_buckets=tuple((_infinite(le), float(count)) for le, count in data["latency_buckets"]),
            objects=float(data["objects"]),
            flows={name: FlowSample(**flow) for name, flow in data["flows"].items()},
        )


@dataclass(frozen=True, slots=True)
class DnsSample:
    """CoreDNS: its pods' readiness and its answer counters (coredns_dns_responses_total by rcode)."""

    pods: int
    pods_ready: int
    responses_total: float = 0.0
    failures_total: float = 0.0  # SERVFAIL answers: the upstream (the API server's data) is gone

    def to_json(self) -> dict[str, Any]:
        return {
            "pods": self.pods,
            "pods_ready": self.pods_ready,
            "responses_total": self.responses_total,
            "failures_total": self.failures_total,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DnsSample:
        pods, ready = int(data["pods"]), int(data["pods_ready"])
        return cls(pods, ready, float(data["responses_total"]), float(data["failures_total"]))


@dataclass(frozen=True, slots=True)
class WorkloadPods:
    """The rolled-out DaemonSet's pods on the nodes of the steps taken so far."""

    expected: int  # nodes that should run a new pod by now
    ready: int  # new pods Ready on those nodes
    restarts: int  # container restarts of those pods, summed
    not_ready: tuple[str, ...] = ()  # a few nodes whose pod is missing or not Ready, for the message

    def to_json(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "ready": self.ready,
            "restarts": self.restarts,
            "not_ready": list(self.not_ready),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkloadPods:
        return cls(int(data["expected"]), int(data["ready"]), int(data["restarts"]), tuple(data["not_ready"]))


@dataclass(frozen=True, slots=True)
class ClusterReading:
    """One observation of one cluster. `error` is set when the API server did not answer."""

    cluster: str
    at: datetime
    api_ready: bool
    apiserver: ApiServerSample | None  # None: /metrics not readable
    nodes: int
    nodes_ready: int
    not_ready_nodes: tuple[str, ...] = ()  # a few names, for the message
    workload: WorkloadPods | None = None
    dns: DnsSample | None = None  # None: CoreDNS's metrics not readable
    error: str | None = None
    promql: Mapping[str, PromqlValue] = field(default_factory=dict)  # by PromQL gate name

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "at": iso_utc(self.at),
            "api_ready": self.api_ready,
            "apiserver": self.apiserver.to_json() if self.apiserver else None,
            "nodes": self.nodes,
            "nodes_ready": self.nodes_ready,
            "not_ready_nodes": list(self.not_ready_nodes),
            "workload": self.workload.to_json() if self.workload else None,
            "dns": self.dns.to_json() if self.dns else None,
            "error": self.error,
            "promql": {name: value.to_json() for name, value in self.promql.items()},
        }

    def summary(self) -> dict[str, Any]:
        """The few numbers of an observation the audit log keeps (and the TUI's sparklines read)."""
        return {
            "cluster": self.cluster,
            "utilisation": round(self.apiserver.utilisation, 4) if self.apiserver is not None else None,
            "nodes_ready": self.nodes_ready,
            "nodes": self.nodes,
            "pods_ready": self.workload.ready if self.workload is not None else None,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterReading:
        return cls(
            cluster=str(data["cluster"]),
            at=parse_iso(str(data["at"])),
            api_ready=bool(data["api_ready"]),
            apiserver=ApiServerSample.from_json(data["apiserver"]) if data["apiserver"] else None,
            nodes=int(data["nodes"]),
            nodes_ready=int(data["nodes_ready"]),
            not_ready_nodes=tuple(data["not_ready_nodes"]),
            workload=WorkloadPods.from_json(data["workload"]) if data["workload"] else None,
            dns=DnsSample.from_json(data["dns"]) if data["dns"] else None,
            error=data["error"],
            promql={name: PromqlValue.from_json(v) for name, v in data.get("promql", {}).items()},
        )


def unreachable(cluster: str, at: datetime, error: str) -> ClusterReading:
    """The reading of a cluster whose API server did not answer: every gate that needs it fails."""
    return ClusterReading(cluster, at, False, None, 0, 0, error=error)


def latency_quantile(
    before: Sequence[tuple[float, float]], after: Sequence[tuple[float, float]], quantile: float
) -> float | None:
    """The `quantile` of request latency between two readings of a cumulative histogram, interpolated
    within the bucket as Prometheus' histogram_quantile does; None when no request completed between
    them. A quantile in the +Inf bucket reads as the highest finite bound."""
    earlier = dict(before)
    counts = [(le, count - earlier.get(le, 0.0)) for le, count in sorted(after)]
    if not counts or counts[-1][1] <= 0:
        return None
    rank = quantile * counts[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for le, count in counts:
        if count >= rank:
            if math.isinf(le):
                return lower_bound
            if count == lower_count:
                return le
            return lower_bound + (le - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = le, count
    return lower_bound


def _finite(value: float) -> float | str:
    return "+Inf" if math.isinf(value) else value


def _infinite(value: float | str) -> float:
    return math.inf if value == "+Inf" else float(value)
