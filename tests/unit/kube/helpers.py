"""Kubernetes objects and offline changes for the core's tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guardrail.core.change import ChangeSet
from guardrail.core.kube.change import OFFLINE_CLUSTER, ClusterView, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.derive import derived_changeset
from guardrail.core.kube.offline import offline_changes
from guardrail.core.kube.render import ManifestDocument, RenderedObject, render_objects


def obj(
    kind: str,
    name: str,
    namespace: str | None = None,
    api: str = "v1",
    labels: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = labels
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **body}


def workload(
    kind: str, name: str, namespace: str, pod_spec: dict[str, Any], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    template = {"metadata": {"labels": labels or {"app": name}}, "spec": pod_spec}
    return obj(kind, name, namespace, api="apps/v1", spec={"selector": {"matchLabels": labels}, "template": template})


def rendered(*manifests: dict[str, Any]) -> tuple[RenderedObject, ...]:
    return render_objects([ManifestDocument(m, "test.yaml", i) for i, m in enumerate(manifests)])


def offline(*manifests: dict[str, Any], clusters: Sequence[ClusterView] = (), delete: bool = False) -> KubeChangeSet:
    views = tuple(clusters) or (ClusterView(OFFLINE_CLUSTER),)
    return offline_changes(rendered(*manifests), views, delete=delete)


def derived(changes: KubeChangeSet) -> ChangeSet:
    return derived_changeset(changes, source="test.yaml", fingerprint="sha256:" + "0" * 64)


def nodes(count: int, labels: dict[str, str] | None = None, taint: Taint | None = None) -> tuple[NodeInfo, ...]:
    return tuple(
        NodeInfo(f"node-{i}", {"kubernetes.io/hostname": f"node-{i}", **(labels or {})}, (taint,) if taint else ())
        for i in range(count)
    )
