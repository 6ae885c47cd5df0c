"""Failures as the port promises them: no answer or a 5xx is unreachable, a 4xx a refusal with the API's
reason, and no request waits longer than the adapter's timeout."""

from __future__ import annotations

import socket
from pathlib import Path

import kmock
import pytest

from guardrail.adapters.kubernetes import connect
from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.errors import ClusterError, ClusterUnreachableError
from guardrail.core.kube.objects import ObjectRef
from tests.adapters.kubernetes.conftest import CONTEXT, kubeconfig_text
from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more


def test_an_unreachable_server_names_the_context(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig_text(f"http://127.0.0.1:{_closed_port()}", context="prod-eu-1"))
    cluster = connect("prod-eu-1", str(path), timeout=5.0)
    with pytest.raises(ClusterUnreachableError, match=r"cluster prod-eu-1: .*did not answer \(connection refused\)"):
        cluster.server_version()
    with pytest.raises(ClusterUnreachableError, match="prod-eu-1"):
        cluster.served("apps/v1", "DaemonSet")
    with pytest.raises(ClusterUnreachableError, match="prod-eu-1"):
        cluster.nodes()
    with pytest.raises(ClusterUnreachableError):
        cluster.ready()


def test_a_refusal_carries_the_apis_reason(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    message = 'secrets is forbidden: User "ci" cannot list resource "secrets" in API group "" at the cluster scope'
    emulator[kmock.method.GET, kmock.resource("v1/secrets")] << kmock.KubernetesError(403, "Forbidden", message)
    with pytest.raises(ClusterError) as refused:
        cluster.list_objects("v1", "Secret")
    assert not isinstance(refused.value, ClusterUnreachableError)
    assert (refused.value.status, refused.value.reason, refused.value.cluster) == (403, "Forbidden", CONTEXT)
    assert 'User "ci" cannot list resource "secrets"' in str(refused.value)


def test_a_server_error_is_unreachable(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[kmock.method.GET, kmock.resource("v1/nodes")] << kmock.KubernetesError(503, "ServiceUnavailable", "etcd")
    with pytest.raises(ClusterUnreachableError) as failed:
        cluster.nodes()
    assert failed.value.status == 503


def test_get_of_a_kind_the_server_does_not_serve(cluster: KubernetesCluster) -> None:
    ref = ObjectRef("extensions", "DaemonSet", "kube-system", "agent")
    with pytest.raises(ClusterError, match="does not serve DaemonSet at extensions/v1beta1"):
        cluster.get(ref, "extensions/v1beta1")


def test_no_request_outlasts_the_timeout(api_server: ServedApiServer, emulator: ApiServer, kubeconfig: Path) -> None:
    # The server holds these requests until it stops; the client gives up after its own timeout.
    emulator["get /readyz"] << api_server.never_answers()
    emulator[kmock.method.GET, kmock.resource("v1/nodes")] << api_server.never_answers()
    impatient = connect(CONTEXT, str(kubeconfig), timeout=0.3)
    with pytest.raises(ClusterUnreachableError, match=r"GET /readyz: .* did not answer \(timed out\)"):
        impatient.ready()
    with pytest.raises(ClusterUnreachableError, match="timed out"):
        impatient.nodes()
    # One attempt each: no retry hidden in the transport.
    assert len([r for r in emulator if r.url.path == "/readyz"]) == 1
    assert len([r for r in emulator if r.url.path == "/api/v1/nodes"]) == 1
