"""Who is acting: GUARDRAIL_ACTOR, else git user.email (real git), else the OS user."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from guardrail.adapters import identity


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GUARDRAIL_ACTOR", raising=False)
    return home


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        pytest.skip("git not found on PATH")
    return found


def test_the_environment_wins(tmp_path: Path) -> None:
    assert identity.current_actor({"GUARDRAIL_ACTOR": " ci-pipeline-42 "}, tmp_path) == "ci-pipeline-42"


def test_git_user_email_of_the_repository(tmp_path: Path, isolated_home: Path) -> None:
    git = _git()
    repo = tmp_path / "repo"
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    subprocess.run([git, "-C", str(repo), "config", "user.email", "dev@example.com"], check=True)
    (repo / "infra").mkdir()
    assert identity.current_actor({}, repo / "infra") == "dev@example.com"
    assert identity.current_actor({"GUARDRAIL_ACTOR": ""}, repo) == "dev@example.com"


def test_git_user_email_of_the_user_outside_a_repository(tmp_path: Path, isolated_home: Path) -> None:
    git = _git()
    subprocess.run([git, "config", "--global", "user.email", "me@example.com"], check=True, env=_env(isolated_home))
    assert identity.current_actor({}, tmp_path) == "me@example.com"


def test_the_os_user_when_git_knows_no_email(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git()
    assert identity.git_user_email(tmp_path) is None
    assert identity.current_actor({}, tmp_path) == identity.os_user()
    assert identity.os_user()


def test_process_alive() -> None:
    import os

    assert identity.process_alive(os.getpid())
    done = subprocess.Popen(["true"])
    done.wait()
    assert not identity.process_alive(done.pid)
    assert not identity.process_alive(0)


def _env(home: Path) -> dict[str, str]:
    import os

    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
