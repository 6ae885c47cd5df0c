from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from guardrail.cli.main import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run guardrail in-process with argv; returns exit code and captured output."""

    def invoke(*args: str | Path) -> Result:
        with pytest.raises(SystemExit) as exited:
            run([str(a) for a in args])
        out, err = capsys.readouterr()
        return Result(int(exited.value.code or 0), out, err)

    return invoke


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
