"""The core knows nothing of the edges: importing it must not load any of them."""

from __future__ import annotations

import subprocess
import sys

EDGE_MODULES = [
    "typer",
    "click",
    "rich",
    "textual",
    "jinja2",
    "msgspec",
    "pydantic",
    "yaml",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "python_terraform",
    "regorus",
    "prometheus_client",
    "guardrail.adapters",
    "guardrail.services",
    "guardrail.cli",
    "guardrail.config",
    "guardrail.simulation",
]


def test_importing_the_core_loads_no_edge_module() -> None:
    code = (
        "import pkgutil, importlib, sys, guardrail.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'guardrail.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sys.modules))\n"
    )
    loaded = set(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    )
    leaked = sorted(m for m in loaded for edge in EDGE_MODULES if m == edge or m.startswith(edge + "."))
    assert leaked == []
