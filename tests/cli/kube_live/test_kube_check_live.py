"""`guardrail kube check --context ...`: each object compared with its live version on each cluster, through
the real adapter over HTTP. The emulator lacks /version (declared in conftest), a server-side apply that
knows defaults or associative lists, and refusals (declared where a test needs them)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock
import pytest

from guardrail.core.kube.applyset import PART_OF_LABEL, applyset_id
from tests.adapters.kubernetes.conftest import CONTEXT, kubeconfig_of
from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer
from tests.adapters.kubernetes.live_objects import closed_port_url, put, served_api_server
from tests.cli.conftest import Result

Cli = Callable[..., Result]

SHOP = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast, level: info}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: shop}
data: {mode: slow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new, namespace: shop}
data: {mode: new}
"""


def _config_map(name: str, namespace: str, data: dict[str, str], **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _shop(emulator: ApiServer) -> None:
    """The shop as it lives: its namespace, `settings` in slow mode, `same` as the manifests have it, a pod."""
    put(emulator, "v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    put(emulator, "v1/configmaps", _config_map("settings", "shop", {"mode": "slow", "level": "info"}))
    put(emulator, "v1/configmaps", _config_map("same", "shop", {"mode": "slow"}))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}}
    put(emulator, "v1/pods", pod)


def _write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _json(result: Result) -> dict[str, Any]:
    assert result.stdout, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_each_object_is_compared_with_the_live_one(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _shop(emulator)
    result = cli(
        "kube", "check", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json"
    )
    assert result.code == 0, result.stderr
    doc = _json(result)
    actions = {c["address"]: (c["action"], c["changed_paths"], c["cluster"]) for c in doc["changes"]}
    assert actions == {
        "namespace/shop": ("no-op", [], CONTEXT),
        "configmap/shop/settings": ("update", ["data.mode"], CONTEXT),
        "configmap/shop/same": ("no-op", [], CONTEXT),
        "configmap/shop/new": ("create", [], CONTEXT),
    }
    (cluster,) = doc["clusters"]
    assert (cluster["name"], cluster["version"], cluster["diff_source"]) == (CONTEXT, "1.31.2", "server-side")
    assert (cluster["summary"]["create"], cluster["summary"]["update"], cluster["summary"]["no-op"]) == (1, 1, 2)
    # A dry run only: the live object is as it was.
    assert emulator.objects["v1/configmaps", "shop", "settings"]["data"]["mode"] == "slow"
    text = cli("kube", "check", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert "changes data.mode" in text.stdout
    assert f"{CONTEXT}: Kubernetes 1.31.2, 0 nodes, diff server-side: 1 update, 1 create, 2 no-op" in text.stdout


def test_deleting_a_namespace_counts_what_lives_in_it(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _shop(emulator)
    put(emulator, "v1/configmaps", _config_map("elsewhere", "other", {}))
    namespace = _write(tmp_path, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    result = cli("kube", "check", namespace, "--delete", "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.code == 2, result.stderr
    doc = _json(result)
    (stateful,) = [f for f in doc["findings"] if f["rule"] == "kube-stateful"]
    assert "3 live objects" in stateful["message"]  # two ConfigMaps and a Pod; not the other namespace's
    (impact,) = [i for i in doc["blast_radius"] if i["address"] == "namespace/shop"]
    assert impact["impacted"] == ["configmap/shop/same", "configmap/shop/settings", "pod/shop/web-1"]
    assert impact["unknown"] is None
    gone = _write(tmp_path, "apiVersion: v1\nkind: Namespace\nmetadata: {name: gone}\n", "gone.yaml")
    missing = _json(
        cli("kube", "check", gone, "--delete", "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    )
    assert [c["action"] for c in missing["changes"]] == ["no-op"]  # nothing to delete there


@pytest.mark.parametrize("refusal", [(415, "UnsupportedMediaType"), (403, "Forbidden")])
def test_a_server_that_refuses_dry_run_apply_gets_a_client_side_diff_and_the_report_says_so(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path, refusal: tuple[int, str]
) -> None:
    _shop(emulator)
    emulator[kmock.method.PATCH] << kmock.KubernetesError(*refusal, "no dry-run apply here")
    result = cli(
        "kube", "check", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json"
    )
    assert result.code == 0, result.stderr
    doc = _json(result)
    assert doc["clusters"][0]["diff_source"] == "client-side"
    assert [c["changed_paths"] for c in doc["changes"] if c["action"] == "update"] == [["data.mode"]]
    assert any("diff is client-side" in note for note in doc["notes"])
    text = cli("kube", "check", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert "diff client-side" in text.stdout


def test_objects_without_a_namespace_go_to_the_contexts(cli: Cli, api_server: ServedApiServer, tmp_path: Path) -> None:
    config = tmp_path / "team.kubeconfig"
    config.write_text(kubeconfig_of({"team": (api_server.url, "team-a")}))
    manifest = _write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\ndata: {a: b}\n")
    doc = _json(cli("kube", "check", manifest, "--kubeconfig", config, "-f", "json"))  # its current context
    assert [(c["address"], c["cluster"]) for c in doc["changes"]] == [("configmap/team-a/flags", "team")]


def test_several_contexts_judge_every_cluster(
    cli: Cli, api_server: ServedApiServer, emulator: ApiServer, tmp_path: Path
) -> None:
    _shop(emulator)
    with served_api_server() as other:
        assert other.emulator is not None
        version = {"major": "1", "minor": "33", "gitVersion": "v1.33.1"}
        other.emulator["get /version"] << (lambda: version)
        served = {"eu": (api_server.url, "default"), "us": (other.url, "default")}
        config = tmp_path / "fleet.kubeconfig"
        config.write_text(kubeconfig_of(served))
        args = ("kube", "check", _write(tmp_path, SHOP), "--kubeconfig", config, "--context", "eu", "--context", "us")
        doc = _json(cli(*args, "-f", "json"))
        assert [(c["name"], c["version"]) for c in doc["clusters"]] == [("eu", "1.31.2"), ("us", "1.33.1")]
        actions = {c["address"]: c["action"] for c in doc["changes"]}
        assert actions["eu::configmap/shop/settings"] == "update"
        assert actions["us::configmap/shop/settings"] == "create"
        assert len(actions) == 8
        # The fingerprint covers the clusters and their versions: an upgrade of one is another change.
        version.update(minor="34", gitVersion="v1.34.0")
        upgraded = _json(cli(*args, "-f", "json"))
        assert upgraded["fingerprint"] != doc["fingerprint"]
        only_eu = _json(
            cli("kube", "check", _write(tmp_path, SHOP), "--kubeconfig", config, "--context", "eu", "-f", "json")
        )
        assert only_eu["fingerprint"] not in (doc["fingerprint"], upgraded["fingerprint"])


def test_prune_deletes_the_members_the_input_dropped(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    set_id = applyset_id(name="shop-set", namespace="shop", kind="Secret", group="")
    member = {PART_OF_LABEL: set_id}
    put(emulator, "v1/configmaps", _config_map("kept", "shop", {"a": "b"}, **member))
    put(emulator, "v1/configmaps", _config_map("dropped", "shop", {}, **member))
    put(emulator, "v1/configmaps", _config_map("foreign", "shop", {}))
    manifest = _write(tmp_path, json.dumps(_config_map("kept", "shop", {"a": "b"}, **member)), "kept.json")
    doc = _json(
        cli("kube", "check", manifest, "--prune", "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    )
    assert {c["address"]: c["action"] for c in doc["changes"]} == {
        "configmap/shop/kept": "no-op",
        "configmap/shop/dropped": "delete",
    }


def test_an_unreachable_cluster_is_exit_3_naming_the_context(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "down.kubeconfig"
    config.write_text(kubeconfig_of({"prod-down": (closed_port_url(), "default")}))
    result = cli("kube", "check", _write(tmp_path, SHOP), "--context", "prod-down", "--kubeconfig", config)
    assert result.code == 3
    assert result.stdout == ""  # never a verdict, least of all "allow"
    assert result.stderr.startswith("guardrail: cluster prod-down: ")
    assert "did not answer (connection refused)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_kubeconfig_without_the_context_is_exit_3(cli: Cli, kubeconfig: Path, tmp_path: Path) -> None:
    result = cli("kube", "check", _write(tmp_path, SHOP), "--context", "staging", "--kubeconfig", kubeconfig)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr == f"guardrail: context 'staging' is not in kubeconfig {kubeconfig}\n"


def test_a_kind_the_cluster_does_not_serve_is_exit_3_naming_file_and_document(
    cli: Cli, kubeconfig: Path, tmp_path: Path
) -> None:
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n"
    path = _write(tmp_path, SHOP + "---\n" + widget)
    result = cli("kube", "check", path, "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr == (
        f"guardrail: {path}: document 4: context {CONTEXT} does not serve Widget at example.com/v1\n"
    )


def test_live_secret_values_appear_in_no_output_nor_the_audit_log(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    old, new = "old-password-4821", "new-password-9034"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}}
    put(emulator, "v1/secrets", {**secret, "data": {"password": base64.b64encode(old.encode()).decode()}})
    path = _write(tmp_path, json.dumps({**secret, "stringData": {"password": new}}), "secret.json")
    for output_format in ("text", "json", "markdown", "sarif", "junit"):
        result = cli("kube", "check", path, "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", output_format)
        assert result.code == 0, result.stderr
        for value in (old, new, base64.b64encode(old.encode()).decode()):
            assert value not in result.stdout + result.stderr, output_format
    exported = cli("audit", "export")
    assert "secret/shop/db" in exported.stdout
    assert old not in exported.stdout
    assert new not in exported.stdout


def test_a_config_map_change_reaches_the_live_workloads_that_read_it(
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
    result = cli(
        "kube", "check", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json"
    )
    (impact,) = [i for i in _json(result)["blast_radius"] if i["address"] == "configmap/shop/settings"]
    assert impact["impacted"] == ["deployment.apps/shop/web"]
    assert impact["unknown"] is None


def test_rbac_the_check_may_not_read_is_unknown_not_empty(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    daemonset = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {serviceAccountName: agent, containers: [{name: agent, image: agent:1}]}
"""
    # Live, the agent may list pods everywhere; guardrail's identity may not list ClusterRoleBindings.
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
    }
    put(emulator, "rbac.authorization.k8s.io/v1/clusterroles", role)
    binding: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "agent-reads"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": "kube-system"}],
    }
    put(emulator, "rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    path = _write(tmp_path, daemonset, "agent.yaml")
    args = ("kube", "check", path, "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    readable = _json(cli(*args))
    assert [f["enforcement"] for f in readable["findings"] if f["rule"] == "kube-control-plane-cost"] == ["soft"]
    forbidden = kmock.KubernetesError(403, "Forbidden", "clusterrolebindings is forbidden")
    emulator[kmock.method.GET, kmock.resource("rbac.authorization.k8s.io/v1/clusterrolebindings")] << forbidden
    (finding,) = [f for f in _json(cli(*args))["findings"] if f["rule"] == "kube-control-plane-cost"]
    assert finding["enforcement"] == "advisory"
    assert "the live RBAC of cluster emulated could not be read" in finding["message"]


def test_an_api_version_the_cluster_no_longer_serves_is_judged_by_the_deprecated_api_rule(
    cli: Cli, kubeconfig: Path, tmp_path: Path
) -> None:
    legacy = """\
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata: {name: shipper, namespace: logging}
spec:
  template:
    metadata: {labels: {app: shipper}}
    spec: {containers: [{name: shipper, image: shipper:1}]}
"""
    path = _write(tmp_path, legacy, "legacy.yaml")
    result = cli("kube", "check", path, "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.code == 1, result.stderr
    report = _json(result)
    (finding,) = [f for f in report["findings"] if f["rule"] == "kube-deprecated-api"]
    assert (finding["enforcement"], finding["address"]) == ("hard", "daemonset.extensions/logging/shipper")
    assert "is not served by Kubernetes 1.31 (cluster emulated): removed in 1.16" in finding["message"]
    assert "Use apps/v1" in finding["message"]


def test_deleting_objects_of_a_kind_the_cluster_does_not_serve_creates_nothing(
    cli: Cli, kubeconfig: Path, tmp_path: Path
) -> None:
    crd = Path(__file__).resolve().parents[3] / "examples" / "kubernetes" / "crd-delete" / "backups.yaml"
    legacy = "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: shipper, namespace: logging}\n"
    args = ("--delete", "--context", CONTEXT, "--kubeconfig", kubeconfig, "-f", "json")
    # Neither the definition nor its custom resources live, nor does anything at a removed API version.
    report = _json(cli("kube", "check", crd, _write(tmp_path, legacy, "legacy.yaml"), *args))
    assert {c["address"]: c["action"] for c in report["changes"]} == {
        "customresourcedefinition.apiextensions.k8s.io/backups.storage.example.com": "no-op",
        "backup.storage.example.com/payments/payments-nightly": "no-op",
        "backup.storage.example.com/payments/ledger-hourly": "no-op",
        "daemonset.extensions/logging/shipper": "no-op",
    }
    assert report["summary"]["create"] == 0
