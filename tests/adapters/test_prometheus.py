"""The PromQL gates' source over real HTTP against a local Prometheus API: values, and every way a query
cannot be read, each a PromqlError (which fails its gate), a slow server included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from guardrail.adapters.prometheus import PrometheusApi
from guardrail.core.rollout.promql import PromqlError, PromqlGate, PromqlValue, evaluate
from tests.adapters.prometheus_server import FakePrometheus, served_prometheus, vector

ERRORS = 'sum(rate(http_requests_total{code=~"5.."}[5m]))'


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with served_prometheus() as served:
        yield served


def test_a_vector_gives_one_value_per_series(prometheus: FakePrometheus) -> None:
    prometheus.answers[ERRORS] = vector(0.5, 2.0)
    api = PrometheusApi(prometheus.url + "/", timeout=5)
    assert api.query(ERRORS) == (0.5, 2.0)
    assert prometheus.asked == [ERRORS]  # sent as the query parameter, encoded


def test_a_scalar_is_one_value(prometheus: FakePrometheus) -> None:
    prometheus.answer("1+1", 200, {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}})
    assert PrometheusApi(prometheus.url, timeout=5).query("1+1") == (2.0,)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}, "HTTP 400: parse error"),
        (503, b"<html>down</html>", "HTTP 503"),
        (200, b"not json", "HTTP 200"),
        (200, {"status": "success", "data": {"resultType": "matrix", "result": []}}, "a matrix, not a vector"),
        (200, {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "x"]}]}}, "without"),
        (200, {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "NaN"]}}, "gives NaN"),
    ],
)
def test_answers_that_are_not_numbers_are_errors(
    prometheus: FakePrometheus, status: int, body: object, message: str
) -> None:
    prometheus.answer("q", status, body)
    with pytest.raises(PromqlError, match=message):
        PrometheusApi(prometheus.url, timeout=5).query("q")


def test_a_server_that_does_not_answer_in_time_is_an_error(prometheus: FakePrometheus) -> None:
    prometheus.hold.set()
    with pytest.raises(PromqlError, match="no answer"):
        PrometheusApi(prometheus.url, timeout=0.5).query("up")


def test_a_server_that_is_not_there_is_an_error() -> None:
    with served_prometheus() as gone:
        url = gone.url
    with pytest.raises(PromqlError, match="no answer"):
        PrometheusApi(url, timeout=5).query("up")


def test_every_gate_is_asked_and_a_failure_is_kept_as_its_value(prometheus: FakePrometheus) -> None:
    prometheus.answers[ERRORS] = vector(0.01)
    gates = (PromqlGate("errors", ERRORS, 0.05, "<"), PromqlGate("latency", "histogram_quantile(0.99, x)", 1, "<"))
    values = evaluate(PrometheusApi(prometheus.url, timeout=5), gates)
    assert values["errors"] == PromqlValue((0.01,))
    assert values["latency"].values == ()
    assert "HTTP 404: unknown query" in (values["latency"].error or "")
