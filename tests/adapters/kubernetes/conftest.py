"""The emulated API server, a kubeconfig pointing at it, and the real adapter connected through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

from guardrail.adapters.kubernetes import connect
from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer
from tests.adapters.kubernetes.live_objects import served_api_server

CONTEXT = "emulated"
# Short enough that a timeout test ends quickly, long enough for a loaded 2-core machine to answer.
TIMEOUT = 5.0


def kubeconfig_text(server: str, *, context: str = CONTEXT, namespace: str = "default") -> str:
    """A kubeconfig with one context on `server`, authenticated by a bearer token."""
    return kubeconfig_of({context: (server, namespace)})


def kubeconfig_of(contexts: Mapping[str, tuple[str, str]], current: str | None = None) -> str:
    """A kubeconfig with a context per entry (name -> (server, namespace)), each on a cluster of its own,
    authenticated by a bearer token; the current context is `current`, else the first."""
    names = list(contexts)
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": f"cluster-{name}", "cluster": {"server": server}} for name, (server, _) in contexts.items()
            ],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [
                {"name": name, "context": {"cluster": f"cluster-{name}", "user": "tester", "namespace": namespace}}
                for name, (_, namespace) in contexts.items()
            ],
            "current-context": current or names[0],
        }
    )


@pytest.fixture
def api_server() -> Iterator[ServedApiServer]:
    with served_api_server() as served:
        yield served


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
