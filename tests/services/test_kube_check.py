"""The Kubernetes gate service: contradictory requests, observed cluster views, more built-in rules; the store
settles a Kubernetes change as it settles a plan. Live clusters: tests/adapters/kubernetes/test_gate_live.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import guardrail.services.kube_gate as gate
from guardrail.config import Settings
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView, KubeChangeSet, KubeRule
from guardrail.core.verdict import Decision, Enforcement, Finding
from guardrail.services.kube_check import KubeCheckRequest, kube_check, kube_review
from tests.conftest import initialised_sqlite

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
"""


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS)
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prune": True}, "--prune deletes live objects"),
        ({"contexts": ("prod",), "views": (ClusterView("a"),)}, "give live clusters or observed cluster views"),
        ({"nodes": Path("nodes.json"), "views": (ClusterView("a"),)}, "--nodes gives an offline cluster's nodes"),
        ({"views": (ClusterView("a"), ClusterView("a"))}, "a cluster is named twice"),
    ],
)
def test_contradictory_requests_are_refused(manifests: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        kube_check(KubeCheckRequest(paths=(str(manifests),), settings=Settings(), **options))


def test_observed_views_count_live_objects(manifests: Path) -> None:
    live = tuple(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "shop"}} for i in range(4)
    )
    view = ClusterView("staging", "1.31", live=live)
    report = kube_check(KubeCheckRequest(paths=(str(manifests),), settings=Settings(), views=(view,), delete=True))
    stateful = [f for f in report.verdict.findings if f.rule == "kube-stateful"]
    assert [f.address for f in stateful] == ["namespace/shop"]
    assert "4 live objects" in stateful[0].message
    assert report.blast is not None
    namespace = next(i for i in report.blast.impacts if i.address == "namespace/shop")
    assert len(namespace.impacted) == 5  # the change's ConfigMap and the four live pods
    assert namespace.unknown is None


@dataclass(frozen=True)
class StandInRule:
    """A rule of the kind the deprecated-API, reach and control-plane-cost rules are: a KubeRule."""

    id: str = "stand-in"

    def evaluate(self, changes: KubeChangeSet) -> Sequence[Finding]:
        return [Finding(self.id, Enforcement.HARD, None, f"{len(changes.changes)} changes seen")]


def test_another_kube_rule_plugs_into_the_list(manifests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrail.services.kube_rules import kube_rules as built_in

    def with_stand_in(settings: Settings) -> list[KubeRule]:
        return [*built_in(settings), StandInRule()]

    monkeypatch.setattr(gate, "kube_rules", with_stand_in)
    report = kube_check(KubeCheckRequest(paths=(str(manifests),), settings=Settings()))
    assert report.verdict.decision is Decision.DENY
    assert [f.message for f in report.verdict.findings if f.rule == "stand-in"] == ["2 changes seen"]


def test_review_records_the_check_and_settles_it(
    manifests: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    store = f"sqlite:///{initialised_sqlite(tmp_path / 'store.db')}"
    request = KubeCheckRequest(paths=(str(manifests),), settings=Settings(), delete=True)
    report = kube_review(request, store)
    assert report.verdict.decision is Decision.NEEDS_APPROVAL
    assert any(f"guardrail approve {report.changeset.fingerprint}" in note for note in report.notes)
