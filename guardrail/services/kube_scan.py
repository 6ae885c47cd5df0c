"""`kube scan`: the live objects of a cluster that an upgrade would break, and its clients that would fail.

Every served kind that the deprecated-API table could judge (a kind it does not list cannot match it) is
listed once, at its group's preferred version, page by page; subresources and kinds that cannot be listed are
never asked for. Each object is judged by the API versions it shows: the one it is served at, each
`metadata.managedFields[].apiVersion` (what server-side apply and kubectl record, which `kubectl patch` keeps)
and kubectl's last-applied annotation. The API server's `apiserver_requested_deprecated_apis` metric says which
deprecated APIs clients still request, when /metrics is readable; the report says when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guardrail.core.errors import ClusterError, ClusterUnreachableError
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.deprecated_api_table import listed_kinds
from guardrail.core.kube.deprecated_apis import METRIC, judge_live_object, judge_requested_apis
from guardrail.core.kube.scan import ScanReport
from guardrail.core.verdict import Finding
from guardrail.services.wiring import connected_clusters, requested_deprecated_apis

_FORBIDDEN = 403


@dataclass(frozen=True)
class KubeScanRequest:
    """The cluster to scan (a kubeconfig context; None: the current one) and the release it is to meet."""

    target_version: str
    context: str | None = None
    kubeconfig: Path | None = None


def kube_scan(request: KubeScanRequest) -> ScanReport:
    """Scan the cluster for what an upgrade to `target_version` would break.

    Raises BadInputError (a missing kubeconfig or context), ClusterError (the cluster does not answer, or
    refuses anything but a listing it forbids, which the report names as unreadable).
    """
    contexts = [request.context] if request.context else []
    with connected_clusters(contexts, request.kubeconfig) as (cluster,):
        return scan(cluster, request.target_version)


def scan(cluster: Cluster, target_version: str) -> ScanReport:
    """The scan of one connected cluster (see the module docstring)."""
    version = cluster.server_version()
    judged = listed_kinds()
    findings: list[Finding] = []
    unreadable: list[str] = []
    kinds = objects = 0
    for served in cluster.served_resources():
        if served.kind not in judged:
            continue
        try:
            listed = cluster.list_objects(served.api_version, served.kind)
        except ClusterError as exc:
            if exc.status != _FORBIDDEN or isinstance(exc, ClusterUnreachableError):
                raise
            unreadable.append(f"{served.kind} ({served.api_version})")
            continue
        kinds += 1
        objects += len(listed)
        for obj in listed:
            findings.extend(judge_live_object(obj, target_version, cluster=cluster.name))
    metric = _requested(cluster, target_version, findings)
    return ScanReport(cluster.name, version, target_version, kinds, objects, tuple(findings), tuple(unreadable), metric)


def _requested(cluster: Cluster, target_version: str, findings: list[Finding]) -> str | None:
    """Judge the metric into `findings`; None when it was read, else why not."""
    text = cluster.metrics_text()
    if text is None:
        return f"the API server's /metrics is not readable (forbidden or not served): {METRIC} unknown"
    requested = requested_deprecated_apis(text, cluster=cluster.name)
    findings.extend(judge_requested_apis(requested, target_version, cluster=cluster.name))
    return None
