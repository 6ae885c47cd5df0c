"""`kubernetes:` in guardrail.yaml switches and weighs the deprecated-API, reach and control-plane-cost rules,
and the gate honours it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.config import Settings, load_settings
from guardrail.core.errors import ConfigError
from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.report import CheckReport
from guardrail.core.verdict import Decision, Enforcement
from guardrail.services.kube_check import KubeCheckRequest, kube_check
from tests.services.test_kube_finding_addresses import MANIFESTS

RULES = ("kube-deprecated-api", "kube-node-reach", "kube-control-plane-cost")


def _settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "guardrail.yaml"
    path.write_text(text)
    return load_settings(path)


def _check(tmp_path: Path, settings: Settings, version: str = "1.33") -> CheckReport:
    manifests = tmp_path / "telemetry.yaml"
    manifests.write_text(MANIFESTS)
    view = ClusterView("prod", version, nodes=tuple(NodeInfo(f"n{i}") for i in range(150)))
    return kube_check(KubeCheckRequest(paths=(str(manifests),), settings=settings, views=(view,)))


def _weights(report: CheckReport) -> dict[str, list[Enforcement]]:
    return {rule: [f.enforcement for f in report.verdict.findings if f.rule == rule] for rule in RULES}


def test_the_defaults(tmp_path: Path) -> None:
    report = _check(tmp_path, Settings())
    assert _weights(report) == {
        "kube-deprecated-api": [Enforcement.HARD],
        "kube-node-reach": [Enforcement.SOFT],
        "kube-control-plane-cost": [Enforcement.SOFT],
    }
    # Deprecated but still served (extensions/v1beta1 Ingress before 1.22): advisory by default.
    assert _weights(_check(tmp_path, Settings(), "1.20"))["kube-deprecated-api"] == [Enforcement.ADVISORY]


def test_weights_come_from_the_settings(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        "kubernetes:\n"
        "  deprecated_apis: {removed: soft, deprecated: hard}\n"
        "  reach: {enforcement: hard}\n"
        "  control_plane_cost: {enforcement: advisory}\n",
    )
    assert _weights(_check(tmp_path, settings)) == {
        "kube-deprecated-api": [Enforcement.SOFT],
        "kube-node-reach": [Enforcement.HARD],
        "kube-control-plane-cost": [Enforcement.ADVISORY],
    }
    assert _weights(_check(tmp_path, settings, "1.20"))["kube-deprecated-api"] == [Enforcement.HARD]


def test_rules_can_be_switched_off_and_the_reach_stays_in_the_report(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        "kubernetes:\n"
        "  deprecated_apis: {enabled: false}\n"
        "  reach: {enabled: false}\n"
        "  control_plane_cost: {enabled: false}\n",
    )
    report = _check(tmp_path, settings)
    assert _weights(report) == {rule: [] for rule in RULES}
    assert report.verdict.decision is Decision.ALLOW
    assert report.kube is not None
    assert [(r.address, r.nodes) for r in report.kube.reach] == [("daemonset.apps/telemetry/agent", 150)]


def test_an_unknown_version_stays_soft_whatever_the_weights(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "kubernetes:\n  deprecated_apis: {removed: soft, deprecated: advisory}\n")
    manifests = tmp_path / "telemetry.yaml"
    manifests.write_text(MANIFESTS)
    report = kube_check(KubeCheckRequest(paths=(str(manifests),), settings=settings))
    unknown = [f for f in report.verdict.findings if f.rule == "kube-deprecated-api"]
    assert [(f.enforcement, f.unknown) for f in unknown] == [(Enforcement.SOFT, True)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kubernetes:\n  deprecated_apis: {removed: advisory}\n", r":2: kubernetes\.deprecated_apis\.removed"),
        ("kubernetes:\n  reach:\n    enforcment: hard\n", r":3: kubernetes\.reach\.enforcment: unknown key"),
        ("kubernetes:\n  control_plane_cost: {enabled: maybe}\n", r":2: kubernetes\.control_plane_cost\.enabled"),
    ],
)
def test_bad_settings_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, text)
