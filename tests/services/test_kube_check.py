"""The Kubernetes gate service: its seams for live clusters (ClusterReader + LiveDiff), observed cluster views,
and more built-in rules; the store settles a Kubernetes change as it settles a plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import guardrail.services.kube_check as service
from guardrail.config import Settings
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView, DiffSource, KubeChange, KubeChangeSet, KubeRule, LiveDiff
from guardrail.core.kube.cluster import ClusterReader, NodeInfo, PodInfo, ServedResource
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.render import RenderedObject
from guardrail.core.kube.secret_data import shown_manifest
from guardrail.core.verdict import Decision, Enforcement, Finding
from guardrail.services.kube_check import KubeCheckRequest, kube_check, kube_review

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


class StubReader:
    """A cluster as the ClusterReader port shows it: only its name matters to the stand-in LiveDiff."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def server_version(self) -> str:
        return "1.32.4"

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        return None

    def get(self, ref: ObjectRef, api_version: str) -> dict[str, Any] | None:
        return None

    def list_objects(
        self, api_version: str, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        return []

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        return []

    def pods(
        self, *, namespace: str | None = None, label_selector: str | None = None, node: str | None = None
    ) -> list[PodInfo]:
        return []

    def metrics_text(self) -> str | None:
        return None

    def ready(self) -> bool:
        return True


@dataclass
class StandInDiff:
    """What the cluster adapter will provide: here every object already exists on `prod-eu` with another
    `data` (an update) and is absent from `prod-us` (a create)."""

    def observe(self, reader: ClusterReader, target_version: str | None) -> ClusterView:
        live = ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}},)
        return ClusterView(reader.name, target_version or reader.server_version(), live=live,
                           diff_source=DiffSource.SERVER_SIDE)  # fmt: skip

    def changes(
        self,
        reader: ClusterReader,
        view: ClusterView,
        objects: Sequence[RenderedObject],
        *,
        delete: bool,
        prune: bool,
    ) -> KubeChangeSet:
        changes = []
        for obj in objects:
            after = shown_manifest(obj.manifest)
            if reader.name == "prod-eu":
                before = {**after, "data": {"mode": "slow"}}
                changes.append(KubeChange(view.name, obj.ref, obj.api_version, Action.UPDATE, before, after,
                                          obj.source, ("data.mode",)))  # fmt: skip
            else:
                changes.append(KubeChange(view.name, obj.ref, obj.api_version, Action.CREATE, None, after, obj.source))
        return KubeChangeSet(tuple(changes), (view,), frozenset({"live-secret-value"}))


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS)
    return path


def live_request(manifests: Path, **more: Any) -> KubeCheckRequest:
    readers: tuple[ClusterReader, ...] = (StubReader("prod-eu"), StubReader("prod-us"))
    return KubeCheckRequest(paths=(str(manifests),), settings=Settings(), readers=readers, **more)


def test_live_clusters_go_through_the_live_diff_seam(manifests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    differ: LiveDiff = StandInDiff()
    monkeypatch.setattr(service, "live_diff", lambda: differ)
    report = kube_check(live_request(manifests, target_version="1.33"))
    assert [(c.address, c.action) for c in report.changeset.changes] == [
        ("prod-eu::namespace/shop", Action.UPDATE),
        ("prod-eu::configmap/shop/settings", Action.UPDATE),
        ("prod-us::namespace/shop", Action.CREATE),
        ("prod-us::configmap/shop/settings", Action.CREATE),
    ]
    assert report.kube is not None
    assert [(c.name, c.version, c.diff_source) for c in report.kube.clusters] == [
        ("prod-eu", "1.33", DiffSource.SERVER_SIDE),
        ("prod-us", "1.33", DiffSource.SERVER_SIDE),
    ]
    assert "live-secret-value" in report.changeset.sensitive_literals
    assert report.blast is not None
    # The ConfigMap's update on prod-eu is in the blast radius; a create reaches nothing.
    assert [i.address for i in report.blast.impacts] == ["prod-eu::configmap/shop/settings"]
    other = kube_check(live_request(manifests, target_version="1.34"))
    assert other.changeset.fingerprint != report.changeset.fingerprint


def test_without_the_adapter_live_clusters_are_refused(manifests: Path) -> None:
    with pytest.raises(BadInputError, match="live clusters need the Kubernetes cluster adapter"):
        kube_check(live_request(manifests))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prune": True}, "--prune deletes live objects"),
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

    monkeypatch.setattr(service, "kube_rules", with_stand_in)
    report = kube_check(KubeCheckRequest(paths=(str(manifests),), settings=Settings()))
    assert report.verdict.decision is Decision.DENY
    assert [f.message for f in report.verdict.findings if f.rule == "stand-in"] == ["2 changes seen"]


def test_review_records_the_check_and_settles_it(
    manifests: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    request = KubeCheckRequest(paths=(str(manifests),), settings=Settings(), delete=True)
    report = kube_review(request, store)
    assert report.verdict.decision is Decision.NEEDS_APPROVAL
    assert any(f"guardrail approve {report.changeset.fingerprint}" in note for note in report.notes)
