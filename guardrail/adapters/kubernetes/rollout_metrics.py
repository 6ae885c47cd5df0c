"""The metrics a rollout reads, parsed with prometheus_client: the API server's /metrics into an
ApiServerSample, CoreDNS's /metrics (through the pod proxy) into answer counters.

Series are summed over the labels the engine does not need (verb, resource, priority level); the
workload's own flow schema is kept apart by name. Missing series read as zero, except the seats: a
server that shows no apiserver_flowcontrol_nominal_limit_seats (APF off) has 0 seats, which the gates
refuse rather than guess.
"""

from __future__ import annotations

import math
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

from guardrail.core.errors import BadInputError
from guardrail.core.rollout.readings import ApiServerSample, FlowSample

_SUMMED = {
    "apiserver_flowcontrol_nominal_limit_seats": "seats",
    "apiserver_flowcontrol_current_executing_seats": "executing_seats",
    "apiserver_flowcontrol_current_inqueue_requests": "inqueue_requests",
    "apiserver_flowcontrol_rejected_requests_total": "rejected_total",
    "apiserver_request_total": "requests_total",
    "apiserver_storage_objects": "objects",
}


def _samples(text: str, source: str) -> list[tuple[str, dict[str, str], float]]:
    try:
        return [
            (sample.name, sample.labels, float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]
    except (ValueError, TypeError, IndexError) as exc:
        raise BadInputError(f"{source}: not Prometheus text format: {exc}") from None


def parse_apiserver_metrics(text: str) -> ApiServerSample:
    """The sample of one /metrics text. Raises BadInputError when it is not Prometheus text."""
    totals: dict[str, float] = defaultdict(float)
    throttled = 0.0
    buckets: dict[float, float] = defaultdict(float)
    flows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, labels, value in _samples(text, "API server /metrics"):
        if math.isnan(value):
            continue
        if name in _SUMMED:
            totals[_SUMMED[name]] += value
        if name == "apiserver_request_total" and labels.get("code") == "429":
            throttled += value
        elif name == "apiserver_request_duration_seconds_bucket" and "le" in labels:
            buckets[float(labels["le"])] += value
        schema = labels.get("flow_schema")
        if schema is None:
            continue
        if name == "apiserver_flowcontrol_dispatched_requests_total":
            flows[schema]["dispatched_total"] += value
        elif name == "apiserver_flowcontrol_request_execution_seconds_sum":
            flows[schema]["execution_seconds_total"] += value
        elif name == "apiserver_flowcontrol_rejected_requests_total":
            flows[schema]["rejected_total"] += value
    return ApiServerSample(
        seats=totals["seats"],
        executing_seats=totals["executing_seats"],
        inqueue_requests=totals["inqueue_requests"],
        rejected_total=totals["rejected_total"],
        throttled_total=throttled,
        requests_total=totals["requests_total"],
        latency_buckets=tuple(sorted(buckets.items())),
        objects=totals["objects"],
        flows={schema: FlowSample(**counters) for schema, counters in flows.items()},
    )


def parse_coredns_answers(text: str) -> tuple[float, float]:
    """(answers, failed answers) of one CoreDNS pod's /metrics: coredns_dns_responses_total, and those
    with rcode SERVFAIL. Raises BadInputError when it is not Prometheus text."""
    answers = failed = 0.0
    for name, labels, value in _samples(text, "CoreDNS /metrics"):
        if name == "coredns_dns_responses_total":
            answers += value
            if labels.get("rcode") == "SERVFAIL":
                failed += value
    return answers, failed
