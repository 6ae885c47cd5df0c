"""What `pip install .` gives a user: a `guardrail` that starts with the declared dependencies alone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNDECLARED_IMPORTS = REPO.parent / "shared" / "tools" / "undeclared_imports.py"

# Run as a user's interpreter would, with click (which typer no longer brings along) made unimportable.
WITHOUT_CLICK = """
import sys
sys.modules["click"] = None
from guardrail.cli.main import run
run(sys.argv[1:])
"""


def _guardrail_without_click(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_CLICK, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_guardrail_starts_and_maps_usage_errors_without_click() -> None:
    helped = _guardrail_without_click("--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage: guardrail" in helped.stdout
    assert "check" in helped.stdout
    missing = _guardrail_without_click("check")
    assert (missing.returncode, missing.stderr.strip()) == (3, "guardrail: Missing argument 'plan'.")
    unknown = _guardrail_without_click("nosuch")
    assert (unknown.returncode, unknown.stderr.strip()) == (3, "guardrail: No such command 'nosuch'.")
    version = _guardrail_without_click("--version")
    assert (version.returncode, version.stdout.startswith("guardrail ")) == (0, True)


@pytest.mark.skipif(not UNDECLARED_IMPORTS.is_file(), reason=f"shared tools not found at {UNDECLARED_IMPORTS}")
def test_every_module_the_package_imports_is_a_declared_runtime_dependency() -> None:
    listed = subprocess.run(
        [sys.executable, str(UNDECLARED_IMPORTS), "guardrail", "pyproject.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (listed.returncode, listed.stdout) == (0, ""), listed.stdout + listed.stderr


def _run_steps(workflow: Path) -> list[str]:
    import yaml

    document = yaml.safe_load(workflow.read_text())
    return [str(step["run"]) for job in document["jobs"].values() for step in job["steps"] if "run" in step]


def test_the_example_gate_installs_guardrail_from_a_pinned_commit_of_its_repository() -> None:
    """`pip install guardrail` would install an unrelated project of that name from the public index."""
    workflow = REPO / ".github" / "workflows" / "guardrail-gate.example.yml"
    installs = [line.strip() for run in _run_steps(workflow) for line in run.splitlines() if "pip install" in line]
    assert installs, "the example gate installs guardrail somewhere"
    for install in installs:
        words = install.split()
        assert "guardrail" not in words, install
        assert "guardrail @ git+" in install, install
    env = yaml_env(workflow)
    assert re.fullmatch(r"[0-9a-f]{40}", env["GUARDRAIL_COMMIT"]), "pinned to a full commit, not a branch or tag"
    assert env["GUARDRAIL_REPOSITORY"].startswith("https://")


def yaml_env(workflow: Path) -> dict[str, str]:
    import yaml

    document = yaml.safe_load(workflow.read_text())
    return {key: str(value) for job in document["jobs"].values() for key, value in job.get("env", {}).items()}
