"""Builders of Kubernetes change sets for the rule tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import OFFLINE_CLUSTER, ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.objects import ObjectRef


def kube_change(
    manifest: Mapping[str, Any],
    *,
    cluster: str = OFFLINE_CLUSTER,
    action: Action = Action.CREATE,
    before: Mapping[str, Any] | None = None,
    changed_paths: tuple[str, ...] = (),
) -> KubeChange:
    """The change of one manifest: a create by default, a delete (manifest as `before`) or an update."""
    after = None if action is Action.DELETE else manifest
    if action is Action.DELETE:
        before = manifest
    return KubeChange(
        cluster=cluster,
        ref=ObjectRef.of(manifest),
        api_version=str(manifest["apiVersion"]),
        action=action,
        before=before,
        after=after,
        source="test.yaml#0",
        changed_paths=changed_paths,
    )


def changeset(changes: Sequence[KubeChange], *clusters: ClusterView) -> KubeChangeSet:
    """The changes, on the clusters given (the offline cluster, version unknown, when none is)."""
    return KubeChangeSet(tuple(changes), clusters or (ClusterView(OFFLINE_CLUSTER),))


def node(
    name: str,
    labels: Mapping[str, str] | None = None,
    taints: tuple[Taint, ...] = (),
    *,
    unschedulable: bool = False,
) -> NodeInfo:
    return NodeInfo(name, dict(labels or {}), taints, unschedulable, {"Ready": "True"})


def workload(
    kind: str,
    name: str,
    pod_spec: Mapping[str, Any] | None = None,
    *,
    namespace: str = "kube-system",
    api_version: str | None = None,
    spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A workload manifest whose pod template has `pod_spec` (a Pod's own spec for kind Pod)."""
    pod = {"containers": [{"name": "main", "image": "example/agent:1"}], **(pod_spec or {})}
    groups = {"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
    manifest: dict[str, Any] = {
        "apiVersion": api_version or groups.get(kind, "apps/v1"),
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
    }
    if kind == "Pod":
        manifest["spec"] = pod
    elif kind == "CronJob":
        manifest["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}}
    else:
        manifest["spec"] = {"template": {"metadata": {"labels": {"app": name}}, "spec": pod}, **(spec or {})}
    return manifest
