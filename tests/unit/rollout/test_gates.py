"""The health gates: each says which gate failed and by how much; unreadable means failed."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from guardrail.core.rollout.gates import GATES, Baseline, GateStatus, baseline_of, gate_description, judge
from guardrail.core.rollout.policy import GateLimits
from guardrail.core.rollout.promql import PromqlGate, PromqlValue
from guardrail.core.rollout.readings import ClusterReading, latency_quantile, unreachable
from tests.unit.rollout.readings import T0, reading

LIMITS = GateLimits()
BASELINE = Baseline(
    utilisation=0.2, nodes_ready=10, throttled_per_minute=1.0, rejected_per_minute=0.0, seats=200, objects=1000
)
LATER = T0 + timedelta(minutes=1)


def _by_gate(current: ClusterReading, previous: ClusterReading | None = None, **options: object) -> dict[str, str]:
    results = judge(current, previous, BASELINE, LIMITS, **options)  # type: ignore[arg-type]
    return {r.gate: f"{r.status.value}: {r.detail}" for r in results}


def test_a_healthy_cluster_passes_every_gate() -> None:
    results = judge(reading(at=LATER, expected=5, ready=5), reading(), BASELINE, LIMITS, step_started_at=T0)
    assert [r.gate for r in results] == [g for g in GATES if g not in ("request-latency", "promql")]
    assert all(r.status is GateStatus.PASS for r in results)


@pytest.mark.parametrize(
    ("current", "gate", "expected"),
    [
        (reading(at=LATER, utilisation=0.93), "seats-in-use", "fail: seats in use 0.93 > 0.80 (by 0.13)"),
        (reading(at=LATER, throttled=7.0), "throttled", "fail: 6.0 more 429s a minute > 0.0 (by 6.0)"),
        (reading(at=LATER, rejected=12.0), "apf-rejections", "fail: 12.0 more APF rejections a minute > 0.0 (by 12.0)"),
        (reading(at=LATER, nodes_ready=7), "nodes-ready", "fail: 3 fewer Ready nodes > 0 (by 3)"),
        (reading(at=LATER, dns_failures=40.0), "dns-failures", "fail: 40 failed DNS answers > 0 (by 40)"),
        (reading(at=LATER, api_ready=False), "apiserver-ready", "fail: /readyz not ok"),
    ],
)
def test_each_gate_fails_with_its_margin(current: ClusterReading, gate: str, expected: str) -> None:
    assert _by_gate(current, reading())[gate] == expected


def test_throttling_already_there_before_the_rollout_is_not_held_against_it() -> None:
    assert _by_gate(reading(at=LATER, throttled=1.0), reading())["throttled"].startswith("pass")


def test_pods_wait_to_become_ready_then_fail_after_the_timeout() -> None:
    early = reading(at=T0 + timedelta(minutes=2), expected=5, ready=3)
    assert _by_gate(early, step_started_at=T0)["pods-ready"].startswith("wait: 3/5 Ready, 2 not Ready after 120 s")
    late = reading(at=T0 + timedelta(minutes=6), expected=5, ready=3)
    assert _by_gate(late, step_started_at=T0)["pods-ready"].startswith("fail: 3/5 Ready")
    restarting = reading(at=LATER, expected=5, ready=5, restarts=4)
    assert _by_gate(restarting, step_started_at=T0, restarts_at_step_start=1)["pods-restarting"] == (
        "fail: 3 restarts > 0 (by 3)"
    )


def test_an_unreachable_or_unreadable_cluster_fails() -> None:
    assert _by_gate(unreachable("a", T0, "timed out")) == {"apiserver-reachable": "fail: no answer: timed out"}
    blind = ClusterReading("a", T0, True, None, 10, 10)
    gates = _by_gate(blind)
    assert gates["seats-in-use"] == "fail: metrics not readable"
    assert gates["coredns-ready"] == "fail: CoreDNS not readable"


def test_request_latency_is_the_p99_between_two_readings() -> None:
    before = ((0.1, 100.0), (1.0, 100.0), (5.0, 100.0), (math.inf, 100.0))
    # 100 more requests: 50 under 0.1 s, 40 more under 1 s, 10 more under 5 s.
    after = ((0.1, 150.0), (1.0, 190.0), (5.0, 200.0), (math.inf, 200.0))
    p99 = latency_quantile(before, after, 0.99)
    assert p99 == pytest.approx(1.0 + 4.0 * (99 - 90) / 10)
    gates = _by_gate(reading(at=LATER, latency=after), reading(latency=before))
    assert gates["request-latency"] == "fail: p99 request latency 4.600 s > 1.000 (by 3.600)"
    assert latency_quantile(after, after, 0.99) is None


def test_baseline_of_two_readings() -> None:
    first = reading(utilisation=0.2, throttled=10.0)
    second = reading(at=T0 + timedelta(minutes=2), utilisation=0.3, throttled=14.0)
    baseline = baseline_of(first, second)
    assert baseline == Baseline(0.25, 10, 2.0, 0.0, 200.0, 1000.0)
    assert baseline_of(first, unreachable("a", T0, "refused")) == "API server not reachable: refused"


ERRORS = PromqlGate("error-rate", "sum(rate(errors[5m]))", 0.05, "<")
READY = PromqlGate("ready-share", "avg(up)", 0.99, ">=")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"error-rate": PromqlValue((0.01, 0.02))}, "pass: error-rate 0.02 < 0.05"),
        ({"error-rate": PromqlValue((0.01, 0.2))}, "fail: error-rate 0.2, not < 0.05 (by 0.15)"),
        (
            {"error-rate": PromqlValue(error="http://p/api/v1/query: HTTP 503")},
            "fail: unreadable (http://p/api/v1/query: HTTP 503): must be < 0.05",
        ),
        ({"error-rate": PromqlValue(())}, "fail: unreadable (no series in the answer): must be < 0.05"),
        ({}, "fail: unreadable (not queried): must be < 0.05"),
    ],
)
def test_a_promql_gate_passes_only_when_every_series_does(values: dict[str, PromqlValue], expected: str) -> None:
    limits = GateLimits(promql=(ERRORS,))
    current = replace(reading(at=LATER), promql=values)
    results = {r.gate: f"{r.status.value}: {r.detail}" for r in judge(current, reading(), BASELINE, limits)}
    assert results["promql:error-rate"] == expected


def test_a_lower_bound_is_judged_on_the_lowest_series() -> None:
    limits = GateLimits(promql=(ERRORS, READY))
    current = replace(
        reading(at=LATER), promql={"error-rate": PromqlValue((0.0,)), "ready-share": PromqlValue((1.0, 0.97))}
    )
    results = {r.gate: r for r in judge(current, reading(), BASELINE, limits)}
    assert results["promql:ready-share"].detail == "ready-share 0.97, not >= 0.99 (by 0.02)"
    assert [g for g in results if g.startswith("promql:")] == ["promql:error-rate", "promql:ready-share"]
    assert gate_description("promql:ready-share") == GATES["promql"]
    assert gate_description("seats-in-use") == GATES["seats-in-use"]


def test_promql_values_survive_the_saved_state() -> None:
    current = replace(reading(at=LATER), promql={"error-rate": PromqlValue((0.5,)), "x": PromqlValue(error="down")})
    assert ClusterReading.from_json(current.to_json()) == current
