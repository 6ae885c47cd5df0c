"""The three Kubernetes rules over every real manifest of the corpus: a verdict for each object, never a
crash, and the findings the corpus README says each source is good for."""

from __future__ import annotations

from functools import cache

import pytest

from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView, KubeChange, KubeRule
from guardrail.core.kube.control_plane_cost import ControlPlaneCostRule
from guardrail.core.kube.deprecated_apis import DeprecatedApiRule
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.reach import NodeReachRule
from guardrail.core.kube.rule_catalog import CONTROL_PLANE_COST, DEPRECATED_API, NODE_REACH
from guardrail.core.verdict import Enforcement, Finding
from tests.unit.kube.builders import changeset, kube_change, node
from tests.unit.kube.corpus import MANIFESTS, documents

SOURCES = [
    "kube-prometheus",
    "datadog-agent",
    "fluent-bit-kubernetes-logging",
    "node-problem-detector",
    "metrics-server",
    "kubernetes-examples",
    "kubernetes-website-examples",
]
NODES = tuple(
    node(f"n{i}", {"kubernetes.io/os": "linux" if i % 10 else "windows", "kubernetes.io/hostname": f"n{i}"})
    for i in range(400)
)


@cache
def _changes(source: str) -> tuple[KubeChange, ...]:
    folder = MANIFESTS / source
    if not folder.is_dir():
        pytest.skip(f"real-world corpus not found at {folder}")
    changes: list[KubeChange] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml")):
        for document in documents(path):
            try:
                ObjectRef.of(document)
            except BadInputError:
                continue  # kustomization patches and the like: the intake refuses or renders them
            changes.append(kube_change(document, cluster="prod"))
    return tuple(changes)


def _run(source: str, view: ClusterView) -> list[Finding]:
    changes = changeset(_changes(source), view)
    findings: list[Finding] = []
    rules: tuple[KubeRule, ...] = (DeprecatedApiRule(), NodeReachRule(), ControlPlaneCostRule())  # the port, typed
    for rule in rules:
        findings.extend(rule.evaluate(changes))
    return findings


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_gets_findings_without_error(source: str) -> None:
    for view in (
        ClusterView("prod"),
        ClusterView("prod", version="1.33", nodes=NODES, live=(), counts={"pod": 12_000}),
    ):
        for finding in _run(source, view):
            assert finding.rule in (DEPRECATED_API, NODE_REACH, CONTROL_PLANE_COST)
            assert finding.message
            assert finding.enforcement in Enforcement


def _found(source: str, rule: str, enforcement: Enforcement) -> set[str]:
    view = ClusterView("prod", version="1.33", nodes=NODES, live=(), counts={"pod": 12_000})
    return {f.address or "" for f in _run(source, view) if f.rule == rule and f.enforcement is enforcement}


def test_removed_apis_in_the_examples() -> None:
    # Namespaces as written: the intake places objects without one in kubectl's default namespace.
    assert _found("kubernetes-examples", DEPRECATED_API, Enforcement.HARD) == {
        "daemonset.extensions/flex-ds",
        "daemonset.extensions/newrelic-infra-agent",
        "poddisruptionbudget.policy/cockroachdb-budget",
        "podsecuritypolicy.policy/privileged",
        "podsecuritypolicy.policy/restricted",
    }
    assert "poddisruptionbudget.policy/kube-system/metrics-server" in _found(
        "metrics-server", DEPRECATED_API, Enforcement.HARD
    )


def test_telemetry_daemonsets_reach_beyond_max_reach() -> None:
    reached = _found("kube-prometheus", NODE_REACH, Enforcement.SOFT)
    assert "daemonset.apps/monitoring/node-exporter" in reached
    assert _found("kubernetes-website-examples", NODE_REACH, Enforcement.SOFT) == {
        "daemonset.apps/kube-system/fluentd-elasticsearch",
        "daemonset.apps/kube-system/konnectivity-agent",
        "daemonset.apps/kube-system/node-problem-detector-v0.1",
    }


def test_cost_findings_only_for_daemonsets_that_list_cluster_wide() -> None:
    assert _found("kube-prometheus", CONTROL_PLANE_COST, Enforcement.SOFT) == set()
    assert _found("datadog-agent", CONTROL_PLANE_COST, Enforcement.SOFT) == {"daemonset.apps/default/datadog"}
