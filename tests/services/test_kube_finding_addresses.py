"""With several target clusters every finding lands on its own cluster's change: each rule names the change by
the address the report gives it (`CLUSTER::TYPE/NAMESPACE/NAME`), never by the bare object address that two
clusters share."""

from __future__ import annotations

from pathlib import Path

from guardrail.config import Settings
from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.report import CheckReport
from guardrail.services.kube_check import KubeCheckRequest, kube_check

# A removed API (extensions/v1beta1 is gone in 1.16), a DaemonSet with cluster-wide list RBAC in the same
# change and a wide reach, and a Namespace (stateful when deleted).
MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: telemetry}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old, namespace: telemetry}
spec: {backend: {serviceName: web, servicePort: 80}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: telemetry}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      serviceAccountName: agent
      tolerations: [{operator: Exists}]
      containers: [{name: agent, image: agent:1}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agent}
rules: [{apiGroups: [""], resources: [pods], verbs: [list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agent}
subjects: [{kind: ServiceAccount, name: agent, namespace: telemetry}]
"""


def _views() -> tuple[ClusterView, ...]:
    return (
        ClusterView("prod-eu", "1.33", nodes=tuple(NodeInfo(f"eu-{i}") for i in range(150))),
        ClusterView("prod-us", "1.33", nodes=tuple(NodeInfo(f"us-{i}") for i in range(120))),
    )


def _check(tmp_path: Path, *, delete: bool = False) -> CheckReport:
    path = tmp_path / "telemetry.yaml"
    path.write_text(MANIFESTS)
    return kube_check(KubeCheckRequest(paths=(str(path),), settings=Settings(), views=_views(), delete=delete))


def _on_clusters(report: CheckReport, rule: str) -> list[str]:
    return sorted(str(f.address) for f in report.verdict.findings if f.rule == rule)


def test_every_rules_finding_names_its_clusters_change(tmp_path: Path) -> None:
    report = _check(tmp_path)
    addresses = {change.address for change in report.changeset.changes}
    assert "prod-eu::daemonset.apps/telemetry/agent" in addresses
    assert _on_clusters(report, "kube-deprecated-api") == [
        "prod-eu::ingress.extensions/telemetry/old",
        "prod-us::ingress.extensions/telemetry/old",
    ]
    assert _on_clusters(report, "kube-node-reach") == [
        "prod-eu::daemonset.apps/telemetry/agent",
        "prod-us::daemonset.apps/telemetry/agent",
    ]
    assert _on_clusters(report, "kube-control-plane-cost") == [
        "prod-eu::daemonset.apps/telemetry/agent",
        "prod-us::daemonset.apps/telemetry/agent",
    ]
    for finding in report.verdict.findings:
        assert finding.address is None or finding.address in addresses, finding
    assert report.kube is not None
    assert sorted(r.address for r in report.kube.reach) == [
        "prod-eu::daemonset.apps/telemetry/agent",
        "prod-us::daemonset.apps/telemetry/agent",
    ]


def test_deletes_on_two_clusters(tmp_path: Path) -> None:
    report = _check(tmp_path, delete=True)
    addresses = {change.address for change in report.changeset.changes}
    assert _on_clusters(report, "kube-stateful") == ["prod-eu::namespace/telemetry", "prod-us::namespace/telemetry"]
    for finding in report.verdict.findings:
        assert finding.address is None or finding.address in addresses, finding
