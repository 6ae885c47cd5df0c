"""Live objects put straight into the emulated API server, stamped as a server stamps them, and emulated
servers (a second one for tests of several clusters)."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer

_UIDS = itertools.count(1)


def put(emulator: ApiServer, resource: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Store `manifest` as a live object of `resource` (`v1/configmaps`, `apps/v1/daemonsets`), with the
    metadata a server sets (uid, resourceVersion, creationTimestamp); returns what was stored."""
    metadata = manifest["metadata"]
    stamped = {
        **metadata,
        "uid": f"uid-{next(_UIDS)}",
        "resourceVersion": "7",
        "creationTimestamp": "2025-01-01T00:00:00Z",
    }
    stored = {**manifest, "metadata": stamped}
    emulator.objects[resource, metadata.get("namespace"), metadata["name"]] = stored
    return stored


def live(emulator: ApiServer, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
    """The emulator's live object, or None when it does not exist (or was deleted)."""
    try:
        stored = emulator.objects[resource, namespace, name]
    except KeyError:
        return None
    return None if stored.deleted else dict(stored.raw)


@contextmanager
def served_api_server() -> Iterator[ServedApiServer]:
    """An emulated API server on a port of its own (the fixture's, or a second one), stopped when the block
    ends."""
    served = ServedApiServer()
    served.start()
    try:
        yield served
    finally:
        served.stop()


def closed_port_url() -> str:
    """The URL of a port of 127.0.0.1 on which nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
