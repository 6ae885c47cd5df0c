"""The simulated API server: seats, APF priority levels, and the metrics a real one exposes.

Model (per tick):
  utilisation = baseline + admitted workload seat-seconds per second / seats
  - without containment the workload shares the default levels: all its demand is admitted;
  - with guardrail's bounded priority level it is admitted up to that level's seats, the rest is
    rejected at once (429), which costs nothing.
  Above 1 requests queue and time out: the share 1 - 1/utilisation of every request is rejected, and
  after 60 s above 1 node heartbeats and CoreDNS's refreshes fail (the cluster tracks the consequences).
  The `exempt` level (guardrail's rollback identity, once its FlowSchema exists) is always served.

Seats are what APF derives from --max-requests-inflight + --max-mutating-requests-inflight; a real server
shows them split over its priority levels as apiserver_flowcontrol_nominal_limit_seats, and so does this.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from guardrail.simulation.spec import ClusterSpec

# The nominalConcurrencyShares of the built-in priority levels (global-default 20, workload-low 100,
# workload-high 40, leader-election 10, node-high 40, system 30, catch-all 5): a new level's share of
# the seats is shares / (245 + shares).
DEFAULT_SHARES = 245
FAILURE_AFTER_SECONDS = 60.0
_BASELINE_SEAT_SECONDS = 0.02  # mean seat time of the cluster's own requests
_BASELINE_JITTER = 0.02
LATENCY_BUCKETS = (0.05, 0.25, 1.0, 5.0, 60.0, math.inf)
BASELINE_FLOW = ("service-accounts", "workload-low")  # (flow schema, priority level) of the baseline
_BASE = f'flow_schema="{BASELINE_FLOW[0]}",priority_level="{BASELINE_FLOW[1]}"'


@dataclass
class FlowCounters:
    dispatched: float = 0.0
    execution_seconds: float = 0.0
    rejected: float = 0.0


@dataclass
class ApiServer:
    """One cluster's API server load and counters."""

    spec: ClusterSpec
    rng: random.Random
    utilisation: float = 0.0
    peak_utilisation: float = 0.0
    executing_seats: float = 0.0
    inqueue: float = 0.0
    overloaded_since: float | None = None  # simulated seconds
    requests_ok: float = 0.0
    requests_throttled: float = 0.0
    latency_counts: list[float] = field(default_factory=lambda: [0.0] * len(LATENCY_BUCKETS))
    flows: dict[tuple[str, str], FlowCounters] = field(default_factory=dict)
    bound_level: str | None = None  # guardrail's bounded level for the workload, once created
    bound_shares: int = 0

    @property
    def bound_seats(self) -> float:
        if self.bound_level is None:
            return math.inf
        return math.ceil(self.spec.seats * self.bound_shares / (DEFAULT_SHARES + self.bound_shares))

    def overloaded(self) -> bool:
        return self.utilisation > 1.0

    def failing(self, now: float) -> bool:
        """Whether heartbeats and CoreDNS refreshes fail: more than 60 s above utilisation 1."""
        return self.overloaded_since is not None and now - self.overloaded_since >= FAILURE_AFTER_SECONDS

    def tick(self, now: float, seconds: float, demand: float, requests: float, flow: tuple[str, str]) -> None:
        """Advance `seconds` ending at `now` with the workload asking `demand` seat-seconds per second in
        `requests` requests per second, through `flow` (flow schema, priority level)."""
        seats = float(self.spec.seats)
        baseline = self.spec.baseline * (1 + self.rng.uniform(-_BASELINE_JITTER, _BASELINE_JITTER))
        admitted = min(demand, self.bound_seats)
        refused_share = 1 - admitted / demand if demand > 0 else 0.0
        self.utilisation = baseline + admitted / seats
        self.peak_utilisation = max(self.peak_utilisation, self.utilisation)
        served_share = min(1.0, 1 / self.utilisation) if self.utilisation > 0 else 1.0
        if self.overloaded():
            self.overloaded_since = self.overloaded_since if self.overloaded_since is not None else now - seconds
        else:
            self.overloaded_since = None
        baseline_requests = baseline * seats / _BASELINE_SEAT_SECONDS
        workload_admitted = requests * (1 - refused_share)
        served = (baseline_requests + workload_admitted) * served_share
        throttled = (baseline_requests + workload_admitted) * (1 - served_share) + requests * refused_share
        self.requests_ok += served * seconds
        self.requests_throttled += throttled * seconds
        self.latency_counts[self._latency_bucket()] += served * seconds
        self.executing_seats = min(self.utilisation, 1.0) * seats
        self.inqueue = max(self.utilisation - 1.0, 0.0) * seats
        base = self.flows.setdefault(BASELINE_FLOW, FlowCounters())
        base.dispatched += baseline_requests * served_share * seconds
        base.execution_seconds += baseline * seats * served_share * seconds
        base.rejected += baseline_requests * (1 - served_share) * seconds
        if requests > 0:
            own = self.flows.setdefault(flow, FlowCounters())
            own.dispatched += workload_admitted * served_share * seconds
            own.execution_seconds += admitted * served_share * seconds
            own.rejected += (workload_admitted * (1 - served_share) + requests * refused_share) * seconds

    def _latency_bucket(self) -> int:
        # Overloaded: requests wait out the 60 s request timeout.
        latency = 60.0 if self.overloaded() else _BASELINE_SEAT_SECONDS / (1 - min(self.utilisation, 0.98))
        return next(i for i, bound in enumerate(LATENCY_BUCKETS) if latency <= bound)

    def metrics_text(self, objects: dict[str, int]) -> str:
        """/metrics in the Prometheus text format, with the series a real API server exposes."""
        lines: list[str] = []
        add = lines.append
        add("# HELP apiserver_flowcontrol_nominal_limit_seats Nominal number of execution seats configured")
        add("# TYPE apiserver_flowcontrol_nominal_limit_seats gauge")
        bound = 0.0 if self.bound_level is None else self.bound_seats
        add('apiserver_flowcontrol_nominal_limit_seats{priority_level="exempt"} 0')
        add(f'apiserver_flowcontrol_nominal_limit_seats{{priority_level="workload-low"}} {self.spec.seats - bound:g}')
        if self.bound_level is not None:
            add(f'apiserver_flowcontrol_nominal_limit_seats{{priority_level="{self.bound_level}"}} {bound:g}')
        add("# HELP apiserver_flowcontrol_current_executing_seats Concurrency (number of seats) occupied")
        add("# TYPE apiserver_flowcontrol_current_executing_seats gauge")
        add(f"apiserver_flowcontrol_current_executing_seats{{{_BASE}}} {self.executing_seats:.6f}")
        add("# TYPE apiserver_flowcontrol_current_inqueue_requests gauge")
        add(f"apiserver_flowcontrol_current_inqueue_requests{{{_BASE}}} {self.inqueue:.6f}")
        for name, help_text, attribute, kind in (
            ("apiserver_flowcontrol_dispatched_requests_total", "Number of requests executed", "dispatched", "counter"),
            ("apiserver_flowcontrol_rejected_requests_total", "Number of requests rejected", "rejected", "counter"),
        ):
            add(f"# HELP {name} {help_text}")
            add(f"# TYPE {name} {kind}")
            for (schema, level), counters in sorted(self.flows.items()):
                reason = ',reason="queue-full"' if attribute == "rejected" else ""
                labels = f'flow_schema="{schema}",priority_level="{level}"{reason}'
                add(f"{name}{{{labels}}} {getattr(counters, attribute):.6f}")
        add("# HELP apiserver_flowcontrol_request_execution_seconds Duration of request execution")
        add("# TYPE apiserver_flowcontrol_request_execution_seconds histogram")
        for (schema, level), counters in sorted(self.flows.items()):
            labels = f'flow_schema="{schema}",priority_level="{level}"'
            execution = "apiserver_flowcontrol_request_execution_seconds"
            add(f'{execution}_bucket{{{labels},le="+Inf"}} {counters.dispatched:.6f}')
            add(f"apiserver_flowcontrol_request_execution_seconds_sum{{{labels}}} {counters.execution_seconds:.6f}")
            add(f"apiserver_flowcontrol_request_execution_seconds_count{{{labels}}} {counters.dispatched:.6f}")
        add("# HELP apiserver_request_total Counter of apiserver requests by verb, resource and code")
        add("# TYPE apiserver_request_total counter")
        add(f'apiserver_request_total{{code="200",resource="pods",verb="LIST"}} {self.requests_ok:.6f}')
        add(f'apiserver_request_total{{code="429",resource="pods",verb="LIST"}} {self.requests_throttled:.6f}')
        add("# HELP apiserver_request_duration_seconds Response latency distribution in seconds")
        add("# TYPE apiserver_request_duration_seconds histogram")
        cumulative = 0.0
        for bound_seconds, count in zip(LATENCY_BUCKETS, self.latency_counts, strict=True):
            cumulative += count
            le = "+Inf" if math.isinf(bound_seconds) else f"{bound_seconds:g}"
            add(f'apiserver_request_duration_seconds_bucket{{resource="pods",verb="LIST",le="{le}"}} {cumulative:.6f}')
        add(f'apiserver_request_duration_seconds_count{{resource="pods",verb="LIST"}} {cumulative:.6f}')
        add(f'apiserver_request_duration_seconds_sum{{resource="pods",verb="LIST"}} {self._latency_sum():.6f}')
        add("# HELP apiserver_storage_objects Number of stored objects at the time of last check split by kind")
        add("# TYPE apiserver_storage_objects gauge")
        for resource, count in sorted(objects.items()):
            add(f'apiserver_storage_objects{{resource="{resource}"}} {count}')
        return "\n".join(lines) + "\n"

    def _latency_sum(self) -> float:
        finite = [b if not math.isinf(b) else 60.0 for b in LATENCY_BUCKETS]
        return sum(b * c for b, c in zip(finite, self.latency_counts, strict=True))
