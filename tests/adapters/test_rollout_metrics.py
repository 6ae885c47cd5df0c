"""The API server's and CoreDNS's metrics text, parsed with prometheus_client into what the gates read."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers
from guardrail.core.errors import BadInputError

# Shaped as a kube-apiserver 1.31 serves them (a few series of each family; label order as served).
APISERVER = (Path(__file__).parent / "data" / "apiserver-metrics.txt").read_text()


def test_the_api_servers_metrics_become_a_sample() -> None:
    sample = parse_apiserver_metrics(APISERVER)
    assert sample.seats == 13 + 0 + 49 + 245 + 93
    assert sample.executing_seats == 124
    assert sample.utilisation == pytest.approx(124 / 400)
    assert sample.rejected_total == 7
    assert sample.throttled_total == 12
    assert sample.requests_total == 10_012
    assert sample.objects == 155_000  # an object count the server cannot read (NaN) is left out
    assert sample.latency_buckets == ((0.1, 9000.0), (1.0, 9900.0), (math.inf, 10_012.0))
    flow = sample.flows["guardrail-workload-telemetry-telemetry-agent"]
    assert (flow.dispatched_total, flow.execution_seconds_total, flow.rejected_total) == (2400, 180.5, 7)
    assert sample.flows["service-accounts"].execution_seconds_total == 0


def test_a_server_without_apf_shows_no_seats() -> None:
    sample = parse_apiserver_metrics('apiserver_request_total{code="200"} 5\n')
    assert (sample.seats, sample.requests_total) == (0, 5)


def test_text_that_is_not_prometheus_is_refused() -> None:
    with pytest.raises(BadInputError, match="API server /metrics: not Prometheus text format"):
        parse_apiserver_metrics("<html>502 Bad Gateway</html>\n")


def test_coredns_answers_and_failures() -> None:
    text = """\
# HELP coredns_dns_responses_total Counter of response status codes.
# TYPE coredns_dns_responses_total counter
coredns_dns_responses_total{plugin="",rcode="NOERROR",server="dns://:53",view="",zone="."} 9000
coredns_dns_responses_total{plugin="",rcode="NXDOMAIN",server="dns://:53",view="",zone="."} 800
coredns_dns_responses_total{plugin="",rcode="SERVFAIL",server="dns://:53",view="",zone="."} 200
# TYPE coredns_dns_requests_total counter
coredns_dns_requests_total{proto="udp",server="dns://:53",type="A",view="",zone="."} 10000
"""
    assert parse_coredns_answers(text) == (10_000, 200)
