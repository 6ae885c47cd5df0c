"""The API server's /metrics text: the requested deprecated APIs, read with prometheus_client's parser."""

from __future__ import annotations

import pytest

from guardrail.adapters.kubernetes.metrics import requested_deprecated_apis
from guardrail.core.errors import ClusterError
from guardrail.core.kube.deprecated_apis import RequestedDeprecatedApi, judge_requested_apis
from guardrail.core.verdict import Enforcement

# The shape a 1.30 API server serves: other families around it, histograms, a series that is not set.
METRICS = """\
# HELP apiserver_request_duration_seconds [STABLE] Response latency distribution in seconds.
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{component="apiserver",verb="LIST",le="0.005"} 7
apiserver_request_duration_seconds_bucket{component="apiserver",verb="LIST",le="+Inf"} 12
apiserver_request_duration_seconds_sum{component="apiserver",verb="LIST"} 0.25
apiserver_request_duration_seconds_count{component="apiserver",verb="LIST"} 12
# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, \
broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",\
resource="flowschemas",subresource="",version="v1beta3"} 1
apiserver_requested_deprecated_apis{group="",removed_release="",resource="componentstatuses",\
subresource="",version="v1"} 1
apiserver_requested_deprecated_apis{group="policy",removed_release="1.25",resource="podsecuritypolicies",\
subresource="",version="v1beta1"} 0
# HELP etcd_request_duration_seconds [ALPHA] Etcd request latency in seconds for each operation and object type.
# TYPE etcd_request_duration_seconds histogram
etcd_request_duration_seconds_bucket{operation="get",type="pods",le="0.005"} 3
"""


def test_requested_series_are_read() -> None:
    assert requested_deprecated_apis(METRICS, cluster="prod") == [
        RequestedDeprecatedApi("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "", "1.32"),
        RequestedDeprecatedApi("", "v1", "componentstatuses", "", ""),
    ]


def test_no_series_reads_as_nothing_requested() -> None:
    assert requested_deprecated_apis("# TYPE up gauge\nup 1\n", cluster="prod") == []
    assert requested_deprecated_apis("", cluster="prod") == []


def test_malformed_series_name_the_cluster() -> None:
    text = 'apiserver_requested_deprecated_apis{group="extensions" 1\n'
    with pytest.raises(ClusterError, match=r"cluster prod: /metrics: apiserver_requested_deprecated_apis is not"):
        requested_deprecated_apis(text, cluster="prod")


def test_read_then_judged_against_the_target() -> None:
    findings = judge_requested_apis(requested_deprecated_apis(METRICS, cluster="prod"), "1.33", cluster="prod")
    assert [f.enforcement for f in findings] == [Enforcement.HARD, Enforcement.ADVISORY]
    assert "flowcontrol.apiserver.k8s.io/v1beta3 flowschemas" in findings[0].message
    assert "Use flowcontrol.apiserver.k8s.io/v1 (served since 1.29)." in findings[0].message
