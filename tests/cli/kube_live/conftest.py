"""`guardrail kube ...` against live clusters: the emulated API server of the adapter's tests, with the
/version every command reads declared (kmock does not serve it)."""

from __future__ import annotations

import pytest

from tests.adapters.kubernetes.conftest import api_server, emulator, kubeconfig  # noqa: F401  (fixtures)
from tests.adapters.kubernetes.emulator import ApiServer

VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.2"}


@pytest.fixture(autouse=True)
def _version(emulator: ApiServer) -> None:  # noqa: F811  (the fixture imported above)
    emulator["get /version"] << VERSION
