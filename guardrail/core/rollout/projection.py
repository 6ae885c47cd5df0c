"""The control-plane load gate: what the new pods cost the API server, how that cost grows with the
cluster's object count, and what the next step and the whole fleet would then cost each API server.

Measured cost of one pod, in seats (seat-seconds per second):
  with the workload's own FlowSchema:  Δ apiserver_flowcontrol_request_execution_seconds_sum / Δt / pods
  without it:                          (seats in use - baseline seats in use) / pods
Growth: cost = a + b * objects, fitted on one point per measured cluster (its latest measurement). One
point gives b = cost / objects, a = 0: proportional growth, the steepest line through the origin and the
point, so a small cluster's canary never understates a large one. The cluster about to be widened is
projected from the larger of the fit and its own measurement scaled to its object count.
Projection: utilisation = baseline + pods * cost(objects after the step) / seats, refused above the limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from guardrail.core.rollout.gates import Baseline
from guardrail.core.rollout.readings import ClusterReading


@dataclass(frozen=True, slots=True)
class CostPoint:
    """One measurement: at `objects` stored objects, one new pod costs `seats_per_pod`."""

    cluster: str
    objects: float
    seats_per_pod: float
    pods: int
    method: str  # "flow" (the workload's FlowSchema) or "seats" (seats in use over the baseline)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CostPoint:
        return cls(
            str(data["cluster"]),
            float(data["objects"]),
            float(data["seats_per_pod"]),
            int(data["pods"]),
            str(data["method"]),
        )


@dataclass(frozen=True, slots=True)
class CostModel:
    """cost per pod = intercept + slope * objects."""

    intercept: float
    slope: float
    points: tuple[CostPoint, ...]
    method: str  # "proportional" or "least squares"

    def cost(self, objects: float) -> float:
        return self.intercept + self.slope * objects

    def describe(self) -> str:
        fitted = ", ".join(f"{p.cluster} ({p.objects:,.0f} objects: {p.seats_per_pod:.6f})" for p in self.points)
        return f"cost per pod = {self.intercept:.6f} + {self.slope:.3e} * objects seats ({self.method} over {fitted})"


@dataclass(frozen=True, slots=True)
class Projection:
    """One cluster's projected utilisation after `pods` new pods run there."""

    cluster: str
    pods: int
    objects: float
    seats_per_pod: float
    baseline: float
    seats: float
    utilisation: float
    limit: float
    source: str  # where the per-pod cost comes from

    @property
    def over(self) -> bool:
        return self.utilisation > self.limit

    def arithmetic(self) -> str:
        relation = ">" if self.over else "<="
        return (
            f"{self.cluster}: {self.baseline:.3f} baseline + {self.pods:,} pods * {self.seats_per_pod:.6f} seats "
            f"/ {self.seats:,.0f} seats = {self.utilisation:.3f} {relation} {self.limit:.2f} "
            f"(at {self.objects:,.0f} objects; {self.source})"
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "over": self.over, "arithmetic": self.arithmetic()}


def measure(
    cluster: str, start: ClusterReading, end: ClusterReading, baseline: Baseline, *, flow_schema: str, pods: int
) -> CostPoint | str:
    """The per-pod cost of `pods` new pods between two readings, or why it cannot be measured."""
    if pods <= 0:
        return "no new pod is running"
    if start.apiserver is None or end.apiserver is None:
        return "API server metrics not readable"
    seconds = (end.at - start.at).total_seconds()
    before, after = start.apiserver.flows.get(flow_schema), end.apiserver.flows.get(flow_schema)
    if before is not None and after is not None and seconds > 0:
        seat_seconds = after.execution_seconds_total - before.execution_seconds_total
        return CostPoint(cluster, end.apiserver.objects, max(seat_seconds, 0.0) / seconds / pods, pods, "flow")
    extra = end.apiserver.executing_seats - baseline.utilisation * baseline.seats
    return CostPoint(cluster, end.apiserver.objects, max(extra, 0.0) / pods, pods, "seats")


def fit(points: Sequence[CostPoint]) -> CostModel | None:
    """The growth of the per-pod cost with objects, on each cluster's latest point; None without points."""
    latest = list({p.cluster: p for p in points}.values())
    if not latest:
        return None
    xs = [p.objects for p in latest]
    ys = [p.seats_per_pod for p in latest]
    if len(latest) == 1 or max(xs) == min(xs):
        worst = max(latest, key=lambda p: p.seats_per_pod / max(p.objects, 1.0))
        return CostModel(0.0, worst.seats_per_pod / max(worst.objects, 1.0), tuple(latest), "proportional")
    n = len(latest)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    intercept = mean_y - slope * mean_x
    if slope < 0:  # cost that falls as clusters grow is noise: take the worst measured cost as flat
        return CostModel(max(ys), 0.0, tuple(latest), "flat (no growth measured)")
    if intercept < 0:  # a line below zero for small clusters: through the origin instead
        slope = sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)
        return CostModel(0.0, slope, tuple(latest), "least squares through the origin")
    return CostModel(intercept, slope, tuple(latest), "least squares")


def project(
    cluster: str,
    *,
    pods: int,
    pods_now: int,
    objects_now: float,
    baseline: Baseline,
    model: CostModel,
    own: CostPoint | None,
    limit: float,
) -> Projection:
    """The utilisation of `cluster` with `pods` new pods (it has `pods_now`); each new pod is one more
    stored object. `own` is the cluster's own latest measurement, when it has one."""
    objects = objects_now + max(pods - pods_now, 0)
    cost, source = model.cost(objects), "fitted"
    if own is not None and own.objects > 0:
        scaled = own.seats_per_pod * objects / own.objects
        if scaled > cost:
            cost, source = scaled, f"own measurement {own.seats_per_pod:.6f} at {own.objects:,.0f} objects, scaled"
    utilisation = baseline.utilisation + pods * cost / baseline.seats
    return Projection(cluster, pods, objects, cost, baseline.utilisation, baseline.seats, utilisation, limit, source)
