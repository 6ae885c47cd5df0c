"""How cautious a rollout is: batches, soaks, the load limit and the health gates' limits.

The `rollout:` section of guardrail.yaml (and of a fleet file) becomes a RolloutPolicy; the engine reads
nothing else of the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guardrail.core.rollout.promql import PromqlGate

# The rollout label (one per DaemonSet, see manifests.node_label). Before the first step every node the
# DaemonSet reaches is labelled HOLD and the DaemonSet admits only nodes whose label is absent or not HOLD;
# each step takes the label off a batch of nodes. A node that joins later carries no label: it gets its pod,
# and after 100% no node carries the label at all.
ROLLOUT_LABEL = "guardrail.dev/rollout"
HOLD = "hold"


@dataclass(frozen=True, slots=True)
class GateLimits:
    """What the health gates tolerate at every step."""

    max_seat_utilisation: float = 0.8  # API server seats in use / seats
    max_request_latency_seconds: float = 1.0  # p99 of apiserver_request_duration_seconds over the window
    max_restarts: int = 0  # restarts of the DaemonSet's pods since the step began
    max_throttled_per_minute: float = 0.0  # 429 answers per minute above the pre-rollout rate
    max_rejected_per_minute: float = 0.0  # APF rejections per minute above the pre-rollout rate
    max_not_ready_nodes: int = 0  # Ready nodes fewer than before the rollout
    max_dns_failures: int = 0  # failed DNS answers (CoreDNS SERVFAIL) over the window
    pod_ready_timeout_seconds: float = 300.0  # a batch's pods not Ready after this long fail the gate
    promql: tuple[PromqlGate, ...] = ()  # queries against each cluster's Prometheus, judged with the others


@dataclass(frozen=True, slots=True)
class RolloutPolicy:
    """The rollout's settings in the units the engine computes with (seconds, shares)."""

    canary_nodes: int = 1
    # Cumulative shares of a cluster's nodes after each step that follows the canary; the last is 1.0.
    batches: tuple[float, ...] = (0.01, 0.10, 0.50, 1.0)
    soak_seconds: float = 600.0
    # A cluster-wide step soaks at least this long: node DNS caches hid the December failure for 20 minutes.
    dns_cache_ttl_seconds: float = 1200.0
    observe_every_seconds: float = 60.0
    # The clusters not being widened (done, or prepared and waiting) are watched this often.
    watch_every_seconds: float = 300.0
    max_apiserver_utilisation: float = 0.6
    # The bounded priority level of the workload: its share among the API server's default levels.
    workload_concurrency_shares: int = 20
    rollback_verify_timeout_seconds: float = 1800.0
    # After a rollback, utilisation counts as back at its baseline within this margin.
    baseline_tolerance: float = 0.05
    rollout_label: str = ROLLOUT_LABEL
    # Widening past the first measured canary waits for approvals of that step (approvals.required of them).
    approve_after_canary: bool = False
    gates: GateLimits = field(default_factory=GateLimits)
