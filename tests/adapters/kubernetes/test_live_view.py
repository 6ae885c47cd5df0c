"""The gate's view of a live cluster, read by the service through the real adapter from the emulator."""

from __future__ import annotations

import base64
from typing import Any

import kmock
import pytest

from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.applyset import (
    ADDITIONAL_NAMESPACES_ANNOTATION,
    CONTAINS_GROUP_KINDS_ANNOTATION,
    ID_LABEL,
    PART_OF_LABEL,
    applyset_id,
)
from guardrail.core.kube.change import DiffSource
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.render import ManifestDocument, RenderedObject, render_objects
from guardrail.core.values import SENSITIVE_PLACEHOLDER
from guardrail.services.kube_live import LIVE_SOURCE, read_cluster
from tests.adapters.kubernetes.emulator import ApiServer
from tests.adapters.kubernetes.live_objects import put

VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.2"}


@pytest.fixture(autouse=True)
def _version(emulator: ApiServer) -> None:
    emulator["get /version"] << VERSION


def _rendered(inputs: list[tuple[str, dict[str, Any]]]) -> tuple[RenderedObject, ...]:
    """The objects of (`file#index`, manifest) documents, rendered as the gate renders its input."""
    documents = []
    for source, manifest in inputs:
        file, _, index = source.partition("#")
        documents.append(ManifestDocument(manifest, file, int(index)))
    return render_objects(documents)


def _config_map(name: str, data: dict[str, str], **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "app", "labels": labels}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _live(emulator: ApiServer, manifest: dict[str, Any], resource: str = "v1/configmaps") -> None:
    metadata = manifest["metadata"]
    stamped = {**metadata, "uid": "u-1", "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"}
    emulator.objects[resource, metadata.get("namespace"), metadata["name"]] = {**manifest, "metadata": stamped}


def test_the_clusters_view(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator.objects["v1/nodes", None, "n1"] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    for index in range(3):
        emulator.objects["v1/pods", "app", f"p{index}"] = {"metadata": {"name": f"p{index}", "namespace": "app"}}
    emulator.objects["v1/namespaces", None, "app"] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "app"},
    }
    reader = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}
    emulator.objects["rbac.authorization.k8s.io/v1/clusterroles", None, "reader"] = reader
    reading = read_cluster(cluster, _rendered([]))
    view = reading.view
    assert (view.name, view.version, view.diff_source) == ("emulated", "1.30.2", DiffSource.SERVER_SIDE)
    assert [n.name for n in view.nodes or ()] == ["n1"]
    assert [o["metadata"]["name"] for o in view.live_of_kind("ClusterRole", "rbac.authorization.k8s.io")] == ["reader"]
    assert view.counts is not None
    # The resources a cluster-wide list or watch reads, each counted once (both Event APIs serve one set).
    assert view.counts == {
        "pod": 3,
        "node": 1,
        "endpoints": 0,
        "endpointslice.discovery.k8s.io": 0,
        "event": 0,
        "secret": 0,
        "configmap": 0,
    }
    assert read_cluster(cluster, _rendered([]), target_version="1.33").view.version == "1.33"
    assert cluster.get(ObjectRef("", "Namespace", None, "app"), "v1") is not None


def test_create_update_and_no_op(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    _live(emulator, _config_map("same", {"level": "info"}))
    _live(emulator, _config_map("changed", {"level": "info", "format": "json"}))
    inputs = [
        ("app.yaml#0", _config_map("same", {"level": "info"})),
        ("app.yaml#1", _config_map("changed", {"level": "debug", "format": "json"})),
        ("app.yaml#2", _config_map("new", {"level": "info"})),
    ]
    reading = read_cluster(cluster, _rendered(inputs))
    same, changed, new = reading.changes
    assert (same.action, same.changed_paths, same.source) == (Action.NO_OP, (), "app.yaml#0")
    assert (changed.action, changed.changed_paths) == (Action.UPDATE, ("data.level",))
    assert changed.before is not None
    assert changed.before["data"]["level"] == "info"
    assert changed.after is not None
    assert changed.after["data"]["level"] == "debug"
    assert (new.action, new.before) == (Action.CREATE, None)
    assert reading.view.diff_source is DiffSource.SERVER_SIDE
    assert {o["metadata"]["name"] for o in reading.view.live_of_kind("ConfigMap")} == {"same", "changed"}
    # The comparison was a dry run: the cluster is as it was.
    assert emulator.objects["v1/configmaps", "app", "changed"]["data"]["level"] == "info"
    dry_runs = list(emulator[kmock.method.PATCH])
    assert {r.params["dryRun"] for r in dry_runs} == {"All"}
    assert {r.params["fieldManager"] for r in dry_runs} == {"guardrail"}


def test_objects_without_a_namespace_go_to_the_contexts(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    manifest = _config_map("settings", {})
    del manifest["metadata"]["namespace"]
    (change,) = read_cluster(cluster, _rendered([("a.yaml#0", manifest)])).changes
    assert change.ref.address == "configmap/default/settings"


@pytest.mark.parametrize(("status", "reason"), [(415, "UnsupportedMediaType"), (403, "Forbidden")])
def test_a_server_that_refuses_dry_run_apply_gets_a_client_side_diff(
    emulator: ApiServer, cluster: KubernetesCluster, status: int, reason: str
) -> None:
    emulator[kmock.method.PATCH] << kmock.KubernetesError(status, reason, "no dry-run apply for you")
    live = _config_map("changed", {"level": "info"})
    live["data"]["defaulted"] = "by the server"
    _live(emulator, live)
    _live(emulator, _config_map("same", {"level": "info"}))
    inputs = [
        ("a.yaml#0", _config_map("changed", {"level": "debug"})),
        ("a.yaml#1", _config_map("same", {"level": "info"})),
    ]
    reading = read_cluster(cluster, _rendered(inputs))
    changed, same = reading.changes
    assert (changed.action, changed.changed_paths) == (Action.UPDATE, ("data.level",))
    assert same.action is Action.NO_OP
    assert reading.view.diff_source is DiffSource.CLIENT_SIDE
    assert len(list(emulator[kmock.method.PATCH])) == 1  # refused once: not asked again


def test_an_invalid_object_is_not_hidden_by_a_fallback(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    invalid = 'ConfigMap "changed" is invalid: data[bad key]: Invalid value'
    emulator[kmock.method.PATCH] << kmock.KubernetesError(422, "Invalid", invalid)
    _live(emulator, _config_map("changed", {"level": "info"}))
    with pytest.raises(ClusterError, match="422 Invalid"):
        read_cluster(cluster, _rendered([("a.yaml#0", _config_map("changed", {"bad key": "x"}))]))


def test_an_unserved_kind_is_bad_input_unless_the_change_defines_it(cluster: KubernetesCluster) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "app"}}
    unserved = r"w\.yaml: document 1: context emulated does not serve Widget at example.com/v1"
    with pytest.raises(BadInputError, match=unserved):
        read_cluster(cluster, _rendered([("w.yaml#1", widget)]))
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1"}],
        },
    }
    crd_change, widget_change = read_cluster(cluster, _rendered([("w.yaml#0", crd), ("w.yaml#1", widget)])).changes
    assert (crd_change.action, widget_change.action) == (Action.CREATE, Action.CREATE)


def test_deletes(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    _live(emulator, _config_map("there", {"level": "info"}))
    inputs = [("a.yaml#0", _config_map("there", {})), ("a.yaml#1", _config_map("absent", {}))]
    there, absent = read_cluster(cluster, _rendered(inputs), delete=True).changes
    assert (there.action, there.after) == (Action.DELETE, None)
    assert there.before is not None
    assert there.before["data"] == {"level": "info"}
    assert (absent.action, absent.before, absent.after) == (Action.NO_OP, None, None)


SET_ID = applyset_id(name="app-set", namespace="app", kind="Secret", group="")


def test_prune_deletes_the_sets_members_the_input_dropped(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    member = {PART_OF_LABEL: SET_ID}
    _live(emulator, _config_map("kept", {}, **member))
    _live(emulator, _config_map("dropped", {}, **member))
    _live(emulator, _config_map("other-set", {}, **{PART_OF_LABEL: "applyset-other-v1"}))
    _live(emulator, _config_map("unlabelled", {}))
    shared = _config_map("dropped-elsewhere", {}, **member)
    shared["metadata"]["namespace"] = "shared"
    _live(emulator, shared)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "gone", "namespace": "app", "labels": member},
    }
    _live(emulator, service, "v1/services")
    # The parent's hints widen the search to Services and to the shared namespace.
    hints = {CONTAINS_GROUP_KINDS_ANNOTATION: "ConfigMap,Service", ADDITIONAL_NAMESPACES_ANNOTATION: "shared"}
    parent_metadata = {"name": "app-set", "namespace": "app", "labels": {ID_LABEL: SET_ID}, "annotations": hints}
    emulator.objects["v1/secrets", "app", "app-set"] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": parent_metadata,
    }
    reading = read_cluster(cluster, _rendered([("a.yaml#0", _config_map("kept", {}, **member))]), prune=True)
    deletes = {c.ref.address: c for c in reading.changes if c.action is Action.DELETE}
    assert set(deletes) == {"configmap/app/dropped", "configmap/shared/dropped-elsewhere", "service/app/gone"}
    assert {c.source for c in deletes.values()} == {LIVE_SOURCE}
    assert deletes["service/app/gone"].api_version == "v1"


def test_prune_without_a_declared_set_is_bad_input(cluster: KubernetesCluster) -> None:
    with pytest.raises(BadInputError, match=PART_OF_LABEL):
        read_cluster(cluster, _rendered([("a.yaml#0", _config_map("kept", {}))]), prune=True)


def _secret(value: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "app"},
        "data": {"password": base64.b64encode(value).decode()},
    }


def test_secret_values_never_leave_unmasked(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    _live(emulator, _secret(b"old-password-1"), "v1/secrets")
    reading = read_cluster(cluster, _rendered([("s.yaml#0", _secret(b"new-password-2"))]))
    (change,) = reading.changes
    assert (change.action, change.changed_paths) == (Action.UPDATE, ("data.password",))
    assert change.before is not None
    assert change.before["data"] == {"password": SENSITIVE_PLACEHOLDER}
    assert change.after is not None
    assert change.after["data"] == {"password": SENSITIVE_PLACEHOLDER}
    shown = repr(reading.changes) + repr(reading.view)
    assert "old-password-1" not in shown
    assert base64.b64encode(b"old-password-1").decode() not in shown
    assert "old-password-1" in reading.sensitive_literals


def _deployment(name: str, namespace: str, config_map: str, **labels: str) -> dict[str, Any]:
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i", "envFrom": [{"configMapRef": {"name": config_map}}]}]},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }


def test_what_the_rules_read_of_the_live_cluster_follows_the_change(
    emulator: ApiServer, cluster: KubernetesCluster
) -> None:
    put(emulator, "v1/configmaps", _config_map("settings", {"level": "info"}))
    put(emulator, "apps/v1/deployments", _deployment("web", "app", "settings", app="web"))
    put(emulator, "apps/v1/deployments", _deployment("other", "elsewhere", "settings", app="other"))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "app", "labels": {"app": "web"}},
    }
    put(emulator, "v1/pods", pod)
    # A ConfigMap changed: the workloads and pods of its namespace are read, not those of another namespace.
    reading = read_cluster(cluster, _rendered([("a.yaml#0", _config_map("settings", {"level": "debug"}))]))
    live = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in reading.view.live or ()}
    assert {("Deployment", "app", "web"), ("Pod", "app", "web-1")} <= live
    assert ("Deployment", "elsewhere", "other") not in live
    # Nothing read by pods changed: no workload is listed.
    quiet = read_cluster(cluster, _rendered([("a.yaml#0", _config_map("fresh", {}))]))
    assert not [o for o in quiet.view.live or () if o["kind"] in ("Deployment", "Pod")]


def test_a_definition_deleted_counts_its_custom_resources(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    for index in range(3):
        metadata = {"name": f"f{index}"}
        flow = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": metadata}
        put(emulator, "flowcontrol.apiserver.k8s.io/v1/flowschemas", flow)
    # A definition of a kind the server serves (the emulator serves no custom resources of its own).
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "flowschemas.flowcontrol.apiserver.k8s.io"},
        "spec": {"group": "flowcontrol.apiserver.k8s.io", "names": {"kind": "FlowSchema", "plural": "flowschemas"},
                 "scope": "Cluster", "versions": [{"name": "v1"}]},
    }  # fmt: skip
    put(emulator, "apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    reading = read_cluster(cluster, _rendered([("crd.yaml#0", crd)]), delete=True)
    assert reading.view.counts is not None
    assert reading.view.counts["flowschema.flowcontrol.apiserver.k8s.io"] == 3
