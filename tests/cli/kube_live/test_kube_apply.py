"""`guardrail kube apply` and `guardrail kube rollback` against the emulated API server, over HTTP.

The emulator lacks /version (conftest), refusals of one object (declared here, for the real apply only: a
dry run is still served) and the time a definition takes to be established (no test applies a custom
resource with its definition)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock
import pytest
from kmock import Request

import guardrail.services.kube_apply as kube_apply_service
from guardrail.adapters.store import open_store
from guardrail.config import Settings
from guardrail.core.change import Action
from guardrail.core.errors import StalePlanError
from guardrail.core.kube.applyset import PART_OF_LABEL, applyset_id
from guardrail.core.kube.cluster import Cluster
from guardrail.services import apply_lock
from guardrail.services.kube_apply import KubeApplyRequest, kube_apply
from guardrail.services.kube_check import KubeCheckRequest, KubeJudgement, judge
from tests.adapters.kubernetes.conftest import CONTEXT
from tests.adapters.kubernetes.emulator import APPLY_PATCH, ApiServer
from tests.adapters.kubernetes.live_objects import live, put
from tests.cli.conftest import Result

Cli = Callable[..., Result]

# Given out of dependency order on purpose: the apply sorts them.
SHOP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:2}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: shop-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"""
OLD_PASSWORD, NEW_PASSWORD = "old-password-5519", "new-password-7730"


def _write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _settings_live(emulator: ApiServer) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}}
    put(emulator, "v1/configmaps", {**config_map, "data": {"mode": "slow"}})


def _writes(emulator: ApiServer) -> list[tuple[str, str]]:
    """The real (not dry-run) applies and deletes the server received, in order: (method, path)."""
    found = []
    for request in emulator:
        if request.params.get("dryRun") == "All":
            continue
        applying = request.method == kmock.method.PATCH and request.headers.get("Content-Type", "").startswith(
            APPLY_PATCH
        )
        if applying or request.method == kmock.method.DELETE:
            found.append((str(request.method.value).lower(), request.url.path))
    return found


def _events(cli: Cli) -> list[dict[str, Any]]:
    exported = cli("audit", "export")
    assert exported.code == 0, exported.stderr
    return [json.loads(line) for line in exported.stdout.splitlines()]


def _apply_id(result: Result) -> str:
    return next(line.split(": ")[1] for line in result.stdout.splitlines() if line.startswith("kube apply: "))


def test_an_allowed_change_is_applied_in_dependency_order_after_its_rollback_point(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path, isolated_store: str
) -> None:
    _settings_live(emulator)
    result = cli("kube", "apply", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert result.code == 0, result.stderr
    assert _writes(emulator) == [
        ("patch", "/api/v1/namespaces/shop"),
        ("patch", "/apis/rbac.authorization.k8s.io/v1/clusterroles/shop-reader"),
        ("patch", "/apis/apps/v1/namespaces/shop/deployments/web"),
        ("patch", "/api/v1/namespaces/shop/configmaps/settings"),
    ]
    settings = live(emulator, "v1/configmaps", "shop", "settings")
    assert settings is not None
    assert settings["data"] == {"mode": "fast"}
    managers = [m["manager"] for m in settings["metadata"]["managedFields"]]
    assert managers == ["guardrail"]
    apply_id = _apply_id(result)
    assert "  ~ configmap/shop/settings (applied)" in result.stdout
    assert f"guardrail kube rollback {apply_id}" in result.stdout
    store = open_store(isolated_store)
    try:
        point = store.kube_rollback(apply_id)
    finally:
        store.close()
    assert point is not None
    saved = {o.ref.address: (o.action, o.live is not None) for o in point.objects}
    assert saved == {
        "namespace/shop": (Action.CREATE, False),
        "clusterrole.rbac.authorization.k8s.io/shop-reader": (Action.CREATE, False),
        "deployment.apps/shop/web": (Action.CREATE, False),
        "configmap/shop/settings": (Action.UPDATE, True),
    }
    by_address = {o.ref.address: o for o in point.objects}
    settings_before = by_address["configmap/shop/settings"].live
    assert settings_before is not None
    assert settings_before["data"] == {"mode": "slow"}
    kinds = [e["kind"] for e in _events(cli)]
    assert kinds == [
        "check",
        "apply-start",
        "kube-rollback-point",
        *["kube-apply-object"] * 4,
        "apply-end",
    ]
    outcomes = [e["payload"] for e in _events(cli) if e["kind"] == "kube-apply-object"]
    assert [(o["address"], o["outcome"]) for o in outcomes] == [
        ("namespace/shop", "applied"),
        ("clusterrole.rbac.authorization.k8s.io/shop-reader", "applied"),
        ("deployment.apps/shop/web", "applied"),
        ("configmap/shop/settings", "applied"),
    ]
    again = cli("kube", "apply", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert again.code == 0, again.stderr
    assert "nothing to apply" in again.stdout


def test_a_change_that_needs_approval_applies_nothing_until_approved(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect = "protect:\n  - kinds: [ConfigMap]\n    actions: [update]\n    enforcement: soft\n    reason: shared\n"
    config = _write(tmp_path, protect, "g.yaml")
    _settings_live(emulator)
    args = ("kube", "apply", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    first = cli(*args, "--config", config)
    assert first.code == 2, first.stderr
    assert "not applied: the change is needs-approval" in first.stderr
    assert _writes(emulator) == []
    fingerprint = next(line.split()[-1] for line in first.stdout.splitlines() if line.startswith("fingerprint:"))
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", fingerprint, "--comment", "reviewed").code == 0
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    approved = cli(*args, "--config", config)
    assert approved.code == 0, approved.stderr
    assert len(_writes(emulator)) == 4


def test_a_refusal_midway_stops_the_apply_and_says_what_was_applied(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    def refused(request: Request) -> bool:
        return request.method == kmock.method.PATCH and request.name == "web" and request.params.get("dryRun") != "All"

    emulator[refused] << kmock.KubernetesError(422, "Invalid", 'Deployment "web" is invalid: spec.template: Invalid')
    result = cli("kube", "apply", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert result.code == 3
    assert "  + namespace/shop (applied)" in result.stdout
    assert (
        "  + deployment.apps/shop/web (failed: cluster emulated: apply deployment.apps/shop/web: 422" in result.stdout
    )
    assert "configmap/shop/settings" not in result.stdout.split("kube apply: ")[1]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("guardrail: kube apply stopped at deployment.apps/shop/web: ")
    assert "2 of 4 objects were changed before it: guardrail kube rollback kube-" in line
    assert live(emulator, "v1/configmaps", "shop", "settings") is None  # never reached
    end = [e for e in _events(cli) if e["kind"] == "apply-end"][-1]["payload"]
    assert (end["status"], end["applied"]) == ("failed", 2)
    assert "deployment.apps/shop/web" in end["error"]


def test_rollback_restores_what_was_updated_and_deletes_what_was_created_through_the_gate(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _settings_live(emulator)
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: shop}\ndata: {mode: fast}\n"
    manifests = _write(tmp_path, config_map % "settings" + "---\n" + config_map % "extra")
    applied = cli("kube", "apply", manifests, "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert applied.code == 0, applied.stderr
    apply_id = _apply_id(applied)
    rollback = cli("kube", "rollback", apply_id, "--kubeconfig", kubeconfig)
    assert rollback.code == 0, rollback.stderr
    assert f"rollback of kube apply {apply_id}" in rollback.stdout
    settings = live(emulator, "v1/configmaps", "shop", "settings")
    assert settings is not None
    assert settings["data"] == {"mode": "slow"}
    assert live(emulator, "v1/configmaps", "shop", "extra") is None
    events = _events(cli)
    undo = next(e for e in events if e["kind"] == "kube-rollback")
    assert undo["payload"]["rollback_of"] == apply_id
    assert undo["payload"]["apply_id"] != apply_id
    assert sorted(undo["payload"]["addresses"]) == ["configmap/shop/extra", "configmap/shop/settings"]
    outcomes = [(e["payload"]["address"], e["payload"]["outcome"]) for e in events if e["kind"] == "kube-apply-object"]
    assert outcomes[-2:] == [("configmap/shop/settings", "applied"), ("configmap/shop/extra", "deleted")]
    # Its own change: the check event is of another fingerprint than the apply's.
    checks = [e["fingerprint"] for e in events if e["kind"] == "check"]
    assert len(set(checks)) == 2


def test_a_rollback_is_judged_like_any_change(cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path) -> None:
    namespace = _write(tmp_path, "apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n", "fresh.yaml")
    applied = cli("kube", "apply", namespace, "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert applied.code == 0, applied.stderr
    before = len(_writes(emulator))
    rollback = cli("kube", "rollback", _apply_id(applied), "--kubeconfig", kubeconfig, "-c", _no_config(tmp_path))
    assert rollback.code == 2  # deleting a Namespace needs approval: kube-stateful
    assert "kube-stateful" in rollback.stdout
    assert len(_writes(emulator)) == before
    assert live(emulator, "v1/namespaces", None, "fresh") is not None


def _no_config(tmp_path: Path) -> Path:
    return _write(tmp_path, "{}\n", "empty.yaml")


def test_an_unknown_rollback_is_exit_3(cli: Cli, kubeconfig: Path) -> None:
    result = cli("kube", "rollback", "kube-000000000000", "--kubeconfig", kubeconfig)
    assert (result.code, result.stdout) == (3, "")
    assert "holds no Kubernetes apply of that id" in result.stderr


def test_secret_values_stay_in_the_store_and_come_back_on_rollback(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    metadata = {"name": "db", "namespace": "shop"}
    old = base64.b64encode(OLD_PASSWORD.encode()).decode()
    put(emulator, "v1/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": {"password": old}})
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": {"password": NEW_PASSWORD}}
    applied = cli(
        "kube",
        "apply",
        _write(tmp_path, json.dumps(secret), "s.json"),
        "--context",
        CONTEXT,
        "--kubeconfig",
        kubeconfig,
    )
    assert applied.code == 0, applied.stderr
    rollback = cli("kube", "rollback", _apply_id(applied), "--kubeconfig", kubeconfig)
    assert rollback.code == 0, rollback.stderr
    restored = live(emulator, "v1/secrets", "shop", "db")
    assert restored is not None
    assert restored["data"]["password"] == old
    exported = cli("audit", "export").stdout
    for shown in (applied.stdout + applied.stderr, rollback.stdout + rollback.stderr, exported):
        for value in (OLD_PASSWORD, NEW_PASSWORD, old):
            assert value not in shown


def test_an_object_that_moved_since_the_check_stops_the_apply(
    emulator: ApiServer, kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_store: str
) -> None:
    def judged_then_raced(request: KubeCheckRequest, clusters: list[Cluster]) -> KubeJudgement:
        judgement = judge(request, clusters)
        _settings_live(emulator)  # someone else creates it between the check and the apply
        return judgement

    monkeypatch.setattr(kube_apply_service, "judge", judged_then_raced)
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: fast}\n"
    check = KubeCheckRequest(
        paths=(str(_write(tmp_path, config_map)),), settings=Settings(), contexts=(CONTEXT,), kubeconfig=kubeconfig
    )
    with pytest.raises(StalePlanError, match="configmap/shop/settings exists on cluster emulated since it was checked"):
        kube_apply(KubeApplyRequest(check, isolated_store))
    assert _writes(emulator) == []


def test_a_cluster_held_by_another_apply_is_exit_1(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path, isolated_store: str
) -> None:
    store = open_store(isolated_store)
    try:
        apply_lock.acquire(store, f"kubernetes:{CONTEXT}", "bob@example.com", datetime.now(UTC))
    finally:
        store.close()
    result = cli("kube", "apply", _write(tmp_path, SHOP), "--context", CONTEXT, "--kubeconfig", kubeconfig)
    assert result.code == 1
    assert "bob@example.com" in result.stderr
    assert _writes(emulator) == []


def test_prune_policies_recursion_and_an_explicit_store(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    set_id = applyset_id(name="shop-set", namespace="shop", kind="Secret", group="")
    labels = {PART_OF_LABEL: set_id}
    for name in ("kept", "dropped"):
        metadata = {"name": name, "namespace": "shop", "labels": labels}
        put(emulator, "v1/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {}})
    kept = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kept", "namespace": "shop", "labels": labels},
    }
    folder = tmp_path / "set"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "kept.json").write_text(json.dumps({**kept, "data": {"a": "b"}}))
    policy = _write(
        tmp_path,
        'package main\n\nimport rego.v1\n\nwarn contains msg if {\n\tinput.kind == "ConfigMap"\n'
        '\tmsg := sprintf("config map %s", [input.metadata.name])\n}\n',
        "warn.rego",
    )
    store = f"sqlite:///{tmp_path / 'own.db'}"
    assert cli("store", "init", "--store", store).code == 0  # a store named by --store is made on purpose
    args = ("--context", CONTEXT, "--kubeconfig", kubeconfig, "--prune", "-R", "--policy", policy, "--store", store)
    result = cli("kube", "apply", folder, *args)
    assert result.code == 0, result.stderr
    assert "[ADVISORY] rego:main.warn: config map kept" in result.stdout
    assert "  ~ configmap/shop/kept (applied)" in result.stdout
    assert "  - configmap/shop/dropped (deleted)" in result.stdout
    assert live(emulator, "v1/configmaps", "shop", "dropped") is None
    opened = open_store(store)
    try:
        assert opened.kube_rollback(_apply_id(result)) is not None
    finally:
        opened.close()
    # Rolled back from that store: the pruned member comes back.
    rollback = cli(
        "kube", "rollback", _apply_id(result), "--kubeconfig", kubeconfig, "--store", store, "--policy", policy
    )
    assert rollback.code == 0, rollback.stderr
    assert live(emulator, "v1/configmaps", "shop", "dropped") is not None
