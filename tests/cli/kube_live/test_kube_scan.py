"""`guardrail kube scan`: live objects an upgrade would break, found by every API version they show, and the API
server's requested-deprecated-APIs metric. The emulator lacks /version (conftest) and /metrics (declared here
where a test reads it; undeclared, it answers 404 as a server that does not expose it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock
import pytest

from guardrail.adapters.kubernetes import cluster as adapter
from tests.adapters.kubernetes.conftest import CONTEXT
from tests.adapters.kubernetes.emulator import ApiServer
from tests.adapters.kubernetes.live_objects import put
from tests.cli.conftest import Result

Cli = Callable[..., Result]

METRICS = b"""\
# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",\
subresource="",version="v1beta1"} 1
"""


def _ingress(name: str, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "shop", **metadata},
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
    }


def _server_side_applied_at_v1beta1(emulator: ApiServer) -> None:
    """An Ingress first applied (server-side) as networking.k8s.io/v1beta1, then patched: no last-applied
    annotation, only managedFields remember the old version."""
    managed = [
        {"manager": "helm", "operation": "Apply", "apiVersion": "networking.k8s.io/v1beta1", "fieldsType": "FieldsV1"},
        {"manager": "kubectl-patch", "operation": "Update", "apiVersion": "networking.k8s.io/v1"},
    ]
    put(emulator, "networking.k8s.io/v1/ingresses", _ingress("web", managedFields=managed))


def _scan(cli: Cli, kubeconfig: Path, *more: str) -> Result:
    return cli("kube", "scan", "--context", CONTEXT, "--kubeconfig", kubeconfig, *more)


def test_an_object_that_only_managed_fields_tie_to_a_removed_api_is_found(
    cli: Cli, emulator: ApiServer, kubeconfig: Path
) -> None:
    _server_side_applied_at_v1beta1(emulator)
    put(emulator, "networking.k8s.io/v1/ingresses", _ingress("current"))
    result = _scan(cli, kubeconfig, "--target-version", "1.33", "-f", "json")
    assert result.code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["cluster"], doc["version"], doc["target_version"], doc["breaks"]) == (CONTEXT, "1.31.2", "1.33", 1)
    (finding,) = doc["findings"]
    assert finding["address"] == "ingress.networking.k8s.io/shop/web"
    assert finding["enforcement"] == "hard"
    assert "networking.k8s.io/v1beta1 Ingress is not served by Kubernetes 1.33" in finding["message"]
    assert "Seen in: managedFields of helm (Apply)." in finding["message"]
    assert doc["metric"] == {
        "read": False,
        "reason": "the API server's /metrics is not readable (forbidden or not served): "
        "apiserver_requested_deprecated_apis unknown",
    }
    text = _scan(cli, kubeconfig, "--target-version", "v1.33")
    assert text.code == 1
    assert "1 thing would break (exit 1)" in text.stdout
    assert "/metrics is not readable" in text.stdout


def test_before_the_removal_it_is_only_deprecated(cli: Cli, emulator: ApiServer, kubeconfig: Path) -> None:
    _server_side_applied_at_v1beta1(emulator)
    result = _scan(cli, kubeconfig, "--target-version", "1.21")
    assert result.code == 0, result.stderr
    assert "nothing would break (exit 0)" in result.stdout
    assert "[ADVISORY] ingress.networking.k8s.io/shop/web: networking.k8s.io/v1beta1 Ingress is deprecated" in (
        result.stdout
    )


def test_the_last_applied_annotation_is_read_too(cli: Cli, emulator: ApiServer, kubeconfig: Path) -> None:
    applied = json.dumps({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "nightly"}})
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "nightly",
            "namespace": "ops",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
        },
    }
    put(emulator, "batch/v1/cronjobs", cron)
    doc = json.loads(_scan(cli, kubeconfig, "--target-version", "1.33", "-f", "json").stdout)
    assert [(f["address"], f["enforcement"]) for f in doc["findings"]] == [("cronjob.batch/ops/nightly", "hard")]


def test_the_requested_deprecated_apis_metric(cli: Cli, emulator: ApiServer, kubeconfig: Path) -> None:
    emulator["get /metrics"] << METRICS
    result = _scan(cli, kubeconfig, "--target-version", "1.33", "-f", "json")
    assert result.code == 1
    doc = json.loads(result.stdout)
    assert doc["metric"] == {"read": True, "reason": None}
    (finding,) = doc["findings"]
    assert finding["address"] is None
    assert finding["enforcement"] == "hard"
    assert finding["message"].startswith(
        "clients requested batch/v1beta1 cronjobs (apiserver_requested_deprecated_apis)"
    )
    assert _scan(cli, kubeconfig, "--target-version", "1.24").code == 0  # still served: advisory


def test_requests_stay_few_lists_are_paged_and_only_judged_kinds_are_asked(
    cli: Cli, emulator: ApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter, "PAGE_SIZE", 2)
    for index in range(5):
        put(emulator, "networking.k8s.io/v1/ingresses", _ingress(f"web-{index}"))
    put(
        emulator,
        "v1/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}},
    )
    doc = json.loads(_scan(cli, kubeconfig, "--target-version", "1.33", "-f", "json").stdout)
    assert doc["objects"] == 5
    lists = [r for r in emulator if r.method == kmock.method.GET and "limit" in r.params]
    ingress_pages = [r for r in lists if r.url.path == "/apis/networking.k8s.io/v1/ingresses"]
    assert len(ingress_pages) == 3  # 2 + 2 + 1
    assert len(lists) == doc["kinds"] + 2  # one request per kind, the ingresses' two more pages
    assert not [r for r in lists if r.url.path in ("/api/v1/configmaps", "/api/v1/secrets", "/api/v1/pods")]
    assert not [r for r in emulator if r.subresource is not None]


def test_a_kind_it_may_not_list_is_named_and_nothing_passes_for_clean(
    cli: Cli, emulator: ApiServer, kubeconfig: Path
) -> None:
    emulator[kmock.method.GET, kmock.resource("batch", "v1", "cronjobs")] << kmock.KubernetesError(
        403, "Forbidden", "cronjobs is forbidden"
    )
    result = _scan(cli, kubeconfig, "--target-version", "1.33", "-f", "json")
    assert result.code == 1
    assert json.loads(result.stdout)["unreadable"] == ["CronJob (batch/v1)"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--context", "nowhere"), "context 'nowhere' is not in kubeconfig"),
        (("--context", CONTEXT, "--target-version", "soon"), "--target-version 'soon': expected a Kubernetes version"),
        (("--context", CONTEXT), "Missing option '--target-version'"),
    ],
)
def test_bad_input_is_exit_3(cli: Cli, kubeconfig: Path, args: tuple[str, ...], message: str) -> None:
    version = () if "--target-version" in args or args == ("--context", CONTEXT) else ("--target-version", "1.33")
    result = cli("kube", "scan", "--kubeconfig", kubeconfig, *args, *version)
    assert (result.code, result.stdout) == (3, "")
    assert message in result.stderr
