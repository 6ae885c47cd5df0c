"""The load projection's arithmetic, against expectations computed by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guardrail.core.rollout.gates import Baseline
from guardrail.core.rollout.projection import CostPoint, fit, measure, project
from tests.unit.rollout.readings import FLOW, T0, reading

BASELINE = Baseline(
    utilisation=0.3, nodes_ready=5000, throttled_per_minute=0, rejected_per_minute=0, seats=600, objects=150_000
)


def test_cost_from_the_workloads_own_flow_schema() -> None:
    # 5 pods, 30 seat-seconds of execution over 600 s: 0.05 seats, 0.01 per pod.
    start = reading(at=T0, execution=100.0, objects=1500)
    end = reading(at=T0 + timedelta(seconds=600), execution=130.0, objects=1505)
    point = measure("dev", start, end, BASELINE, flow_schema=FLOW, pods=5)
    assert point == CostPoint("dev", 1505, pytest.approx(0.01), 5, "flow")  # type: ignore[arg-type]


def test_cost_from_seats_in_use_when_the_flow_schema_is_not_shown() -> None:
    start = reading(at=T0, seats=600, utilisation=0.3)
    end = reading(at=T0 + timedelta(seconds=600), seats=600, utilisation=0.35, objects=2000)
    point = measure("dev", start, end, BASELINE, flow_schema="another-schema", pods=10)
    # (0.35 x 600 - 0.3 x 600) seats / 10 pods = 3 seats per pod.
    assert isinstance(point, CostPoint)
    assert (point.method, point.objects) == ("seats", 2000)
    assert point.seats_per_pod == pytest.approx(3.0)


def test_no_measurement_without_pods_or_metrics() -> None:
    start = reading(at=T0)
    assert measure("dev", start, start, BASELINE, flow_schema=FLOW, pods=0) == "no new pod is running"


def test_one_point_grows_in_proportion_to_objects() -> None:
    model = fit([CostPoint("dev", 1000, 0.002, 1, "flow")])
    assert model is not None
    assert (model.intercept, model.method) == (0.0, "proportional")
    assert model.slope == pytest.approx(2e-6)
    assert model.cost(150_000) == pytest.approx(0.3)


def test_least_squares_over_each_clusters_latest_point() -> None:
    # cost = 0.001 + 1e-6 x objects, exactly; dev's earlier canary point is superseded by its 10% point.
    points = [
        CostPoint("dev", 1000, 0.5, 1, "flow"),
        CostPoint("dev", 1000, 0.002, 5, "flow"),
        CostPoint("stg", 10_000, 0.011, 1, "flow"),
        CostPoint("big", 100_000, 0.101, 1, "flow"),
    ]
    model = fit(points)
    assert model is not None
    assert model.method == "least squares"
    assert model.intercept == pytest.approx(0.001)
    assert model.slope == pytest.approx(1e-6)
    assert [p.cluster for p in model.points] == ["dev", "stg", "big"]


def test_a_falling_cost_is_taken_flat_at_its_worst() -> None:
    model = fit([CostPoint("a", 1000, 0.004, 1, "flow"), CostPoint("b", 5000, 0.002, 1, "flow")])
    assert model is not None
    assert (model.intercept, model.slope) == (0.004, 0.0)


def test_a_line_below_zero_goes_through_the_origin() -> None:
    # Least squares would give a negative intercept: slope = sum(xy) / sum(x^2) instead.
    model = fit([CostPoint("a", 1000, 0.001, 1, "flow"), CostPoint("b", 2000, 0.004, 1, "flow")])
    assert model is not None
    assert model.method == "least squares through the origin"
    assert model.slope == pytest.approx((1000 * 0.001 + 2000 * 0.004) / (1000**2 + 2000**2))


def test_projection_arithmetic() -> None:
    model = fit([CostPoint("dev", 1000, 0.002, 1, "flow")])
    assert model is not None
    projection = project(
        "prod", pods=5000, pods_now=0, objects_now=150_000, baseline=BASELINE, model=model, own=None, limit=0.6
    )
    # objects after = 150,000 + 5,000 new pods; cost = 2e-6 x 155,000 = 0.31; 0.3 + 5000 x 0.31 / 600.
    assert projection.objects == 155_000
    assert projection.seats_per_pod == pytest.approx(0.31)
    assert projection.utilisation == pytest.approx(0.3 + 5000 * 0.31 / 600)
    assert projection.over
    assert projection.arithmetic() == (
        "prod: 0.300 baseline + 5,000 pods * 0.310000 seats / 600 seats = 2.883 > 0.60 (at 155,000 objects; fitted)"
    )


def test_the_cluster_about_to_be_widened_is_projected_from_its_own_measurement_when_higher() -> None:
    model = fit([CostPoint("dev", 1000, 0.002, 1, "flow")])
    assert model is not None
    own = CostPoint("prod", 150_001, 0.45, 1, "flow")  # dearer than the fit says (0.3 at that size)
    projection = project(
        "prod", pods=50, pods_now=1, objects_now=150_001, baseline=BASELINE, model=model, own=own, limit=0.6
    )
    assert projection.objects == 150_050
    assert projection.seats_per_pod == pytest.approx(0.45 * 150_050 / 150_001)
    assert projection.source.startswith("own measurement 0.450000 at 150,001 objects")
