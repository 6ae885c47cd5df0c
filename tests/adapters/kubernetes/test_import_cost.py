"""The kubernetes client (about 0.4 s to import) loads only when a command reaches a cluster."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_and_the_services_do_not_load_the_client() -> None:
    code = (
        "import sys, guardrail.cli.main, guardrail.services.wiring, guardrail.services.kube_live\n"
        "print('\\n'.join(sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert [m for m in loaded if m == "kubernetes" or m.startswith("kubernetes.")] == []
    assert "guardrail.services.kube_live" in loaded


def test_asking_for_a_cluster_loads_it() -> None:
    code = (
        "import sys\n"
        "from guardrail.services import wiring\n"
        "try:\n"
        "    wiring.cluster('absent', '/nonexistent/kubeconfig')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
        "print('kubernetes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert out == ["BadInputError", "True"]
