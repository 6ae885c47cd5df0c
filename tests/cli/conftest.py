from __future__ import annotations

import shutil
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


@pytest.fixture(autouse=True)
def isolated_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, store_templates: dict[str, Path]
) -> str:
    """Every command records to a store of this test's own (never .guardrail/ where pytest runs), as a
    known actor; a test picks another store with GUARDRAIL_STORE or --store, another actor with
    GUARDRAIL_ACTOR."""
    # Outside tmp_path, which some tests expect to hold only what they wrote.
    path = tmp_path_factory.mktemp("store") / "guardrail.db"
    shutil.copyfile(store_templates["sqlite"], path)  # an initialised store, as `guardrail store init` makes
    url = f"sqlite:///{path}"
    monkeypatch.setenv("GUARDRAIL_STORE", url)
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    return url


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
