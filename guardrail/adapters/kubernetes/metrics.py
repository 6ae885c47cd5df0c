"""The API server's /metrics text (Prometheus exposition format), read with prometheus_client's parser.

Only the reading lives here; what a reading means for an upgrade is judged in the core
(guardrail.core.kube.deprecated_apis.judge_requested_apis).
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from guardrail.core.errors import ClusterError
from guardrail.core.kube.deprecated_apis import METRIC, RequestedDeprecatedApi


def requested_deprecated_apis(text: str, *, cluster: str) -> list[RequestedDeprecatedApi]:
    """Every deprecated API that clients requested since the API server started: the series of
    `apiserver_requested_deprecated_apis` set to 1, in the order served.

    Raises ClusterError naming the cluster when those lines are not Prometheus text.
    """
    # An API server's /metrics runs to megabytes of histograms; the format is line-based, so the parser is
    # given only this metric's lines (its HELP and TYPE comments and its samples).
    lines = [line for line in text.splitlines() if _concerns_metric(line)]
    found: list[RequestedDeprecatedApi] = []
    try:
        for family in text_string_to_metric_families("\n".join(lines) + "\n"):
            for sample in family.samples:
                if sample.name != METRIC or sample.value <= 0:
                    continue
                labels = sample.labels
                found.append(
                    RequestedDeprecatedApi(
                        group=labels.get("group", ""),
                        version=labels.get("version", ""),
                        resource=labels.get("resource", ""),
                        subresource=labels.get("subresource", ""),
                        removed_release=labels.get("removed_release", ""),
                    )
                )
    except ValueError as error:
        raise ClusterError(cluster, f"/metrics: {METRIC} is not in Prometheus text format ({error})") from error
    return found


def _concerns_metric(line: str) -> bool:
    stripped = line.lstrip()
    if stripped.startswith("#"):
        words = stripped.split(maxsplit=3)
        return len(words) >= 3 and words[1] in ("HELP", "TYPE") and words[2] == METRIC
    name = stripped.split("{", 1)[0].split(" ", 1)[0]
    return name == METRIC
