"""The emulated API server, a kubeconfig pointing at it, and the real adapter connected through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from guardrail.adapters.kubernetes import connect
from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer

CONTEXT = "emulated"
# Short enough that a timeout test ends quickly, long enough for a loaded 2-core machine to answer.
TIMEOUT = 5.0


def kubeconfig_text(server: str, *, context: str = CONTEXT, namespace: str = "default") -> str:
    """A kubeconfig with one context on `server`, authenticated by a bearer token."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": {"server": server}}],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [
                {"name": context, "context": {"cluster": "emulator", "user": "tester", "namespace": namespace}}
            ],
            "current-context": context,
        }
    )


@pytest.fixture
def api_server() -> Iterator[ServedApiServer]:
    served = ServedApiServer()
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def emulator(api_server: ServedApiServer) -> ApiServer:
    assert api_server.emulator is not None
    return api_server.emulator


@pytest.fixture
def kubeconfig(tmp_path: Path, api_server: ServedApiServer) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig_text(api_server.url))
    return path


@pytest.fixture
def cluster(kubeconfig: Path) -> Iterator[KubernetesCluster]:
    connected = connect(CONTEXT, str(kubeconfig), timeout=TIMEOUT)
    try:
        yield connected
    finally:
        connected.close()
