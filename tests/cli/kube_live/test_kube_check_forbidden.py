"""`guardrail kube check --context ...` when guardrail's identity may not list some kinds (403): what it could
not list is unknown, never counted as none, and the report names the kinds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock

from tests.adapters.kubernetes.conftest import CONTEXT
from tests.adapters.kubernetes.emulator import ApiServer
from tests.adapters.kubernetes.live_objects import put
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def _forbid(emulator: ApiServer, resource: str) -> None:
    """Every read of `resource` (`v1/pods`), in any namespace, is refused as RBAC refuses it."""
    refusal = kmock.KubernetesError(403, "Forbidden", f"{resource} is forbidden")
    emulator[kmock.method.GET, kmock.resource(resource)] << refusal


def _check(cli: Cli, kubeconfig: Path, tmp_path: Path, text: str, *extra: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "input.yaml"
    path.write_text(text)
    result = cli("kube", "check", path, *extra, "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.stdout, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result.code, document


def _impact(report: dict[str, Any], address: str) -> dict[str, Any]:
    (impact,) = [i for i in report["blast_radius"] if i["address"] == address]
    found: dict[str, Any] = impact
    return found


def _config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"}, "data": {}}


def _shop(emulator: ApiServer) -> None:
    """The namespace shop, two ConfigMaps and a pod in it."""
    put(emulator, "v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    put(emulator, "v1/configmaps", _config_map("settings"))
    put(emulator, "v1/configmaps", _config_map("flags"))
    labels = {"app": "web"}
    put(
        emulator,
        "v1/pods",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": labels}},
    )


def test_a_namespace_delete_whose_pods_may_not_be_listed_says_its_count_is_incomplete(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _shop(emulator)
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    code, readable = _check(cli, kubeconfig, tmp_path, namespace, "--delete")
    (finding,) = [f for f in readable["findings"] if f["rule"] == "kube-stateful"]
    assert (code, finding["enforcement"]) == (2, "soft")
    assert "deletes everything in it: 3 live objects" in finding["message"]
    _forbid(emulator, "v1/pods")
    code, forbidden = _check(cli, kubeconfig, tmp_path, namespace, "--delete")
    (finding,) = [f for f in forbidden["findings"] if f["rule"] == "kube-stateful"]
    assert (code, finding["enforcement"]) == (2, "soft")  # no lower risk for what it could not see
    assert finding["message"] == (
        "delete of a Namespace deletes everything in it: "
        "at least 2 live objects, count incomplete (listing pod is forbidden)"
    )
    impact = _impact(forbidden, "namespace/shop")
    assert impact["impacted"] == ["configmap/shop/flags", "configmap/shop/settings"]
    assert impact["unknown"] == "live objects incomplete: listing pod is forbidden"


def test_a_config_map_whose_readers_may_not_be_listed_has_them_unknown(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _shop(emulator)
    container = {"name": "web", "image": "web:1", "envFrom": [{"configMapRef": {"name": "settings"}}]}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}},
    }
    put(emulator, "apps/v1/deployments", deployment)
    _forbid(emulator, "apps/v1/deployments")
    changed = json.dumps({**_config_map("settings"), "data": {"mode": "fast"}})
    _, report = _check(cli, kubeconfig, tmp_path, changed)
    impact = _impact(report, "configmap/shop/settings")
    assert impact["impacted"] == []
    assert impact["unknown"] == "live readers unknown: listing deployment.apps is forbidden"


def test_a_service_whose_pods_may_not_be_listed_has_the_pods_it_drops_unknown(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _shop(emulator)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    put(emulator, "v1/services", service)
    _forbid(emulator, "v1/pods")
    moved = json.dumps({**service, "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}})
    _, report = _check(cli, kubeconfig, tmp_path, moved)
    impact = _impact(report, "service/shop/web")
    assert impact["impacted"] == []
    assert impact["unknown"] == "live pods unknown: listing pod is forbidden"


def test_a_definition_delete_whose_custom_resources_may_not_be_listed_has_them_unknown(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    # A definition of a kind the emulator serves (it serves no custom resources of its own).
    for index in range(3):
        flow = {
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": {"name": f"f{index}"},
        }
        put(emulator, "flowcontrol.apiserver.k8s.io/v1/flowschemas", flow)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "flowschemas.flowcontrol.apiserver.k8s.io"},
        "spec": {"group": "flowcontrol.apiserver.k8s.io", "names": {"kind": "FlowSchema", "plural": "flowschemas"},
                 "scope": "Cluster", "versions": [{"name": "v1"}]},
    }  # fmt: skip
    put(emulator, "apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    code, readable = _check(cli, kubeconfig, tmp_path, json.dumps(crd), "--delete")
    (finding,) = [f for f in readable["findings"] if f["rule"] == "kube-stateful"]
    assert (code, finding["enforcement"]) == (2, "soft")
    assert "every FlowSchema.flowcontrol.apiserver.k8s.io custom resource: 3 live" in finding["message"]
    _forbid(emulator, "flowcontrol.apiserver.k8s.io/v1/flowschemas")
    code, forbidden = _check(cli, kubeconfig, tmp_path, json.dumps(crd), "--delete")
    (finding,) = [f for f in forbidden["findings"] if f["rule"] == "kube-stateful"]
    assert (code, finding["enforcement"]) == (2, "soft")
    assert finding["message"] == (
        "delete of a CustomResourceDefinition deletes every FlowSchema.flowcontrol.apiserver.k8s.io custom resource: "
        "how many the cluster holds is unknown (listing flowschema.flowcontrol.apiserver.k8s.io is forbidden)"
    )
    impact = _impact(
        forbidden, "customresourcedefinition.apiextensions.k8s.io/flowschemas.flowcontrol.apiserver.k8s.io"
    )
    assert impact["unknown"] == (
        "live custom resources unknown: listing flowschema.flowcontrol.apiserver.k8s.io is forbidden"
    )
