"""The kube check benchmark runs as documented: a small run of it measures a real check, not an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "kube_check_speed.py"


def test_the_kube_check_benchmark_measures_a_check_that_ran(tmp_path: Path) -> None:
    args = ["--runs", "1", "--objects", "60", "--nodes", "20", "--keep", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "guardrail kube check  :" in result.stdout
    assert "verdict exit code " in result.stdout
