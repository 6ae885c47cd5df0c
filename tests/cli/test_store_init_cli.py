"""A store is created on purpose: `guardrail store init`, or the first use of the default location. A store
named by --store, $GUARDRAIL_STORE or guardrail.yaml that does not exist is exit 3 saying how to create it,
never a new empty store in which no lock exists and whose empty log verifies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.store.postgres import PostgresServer

Cli = Callable[..., Result]


def assert_missing(result: Result, *expected: str) -> None:
    assert result.code == 3, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no such store" in result.stderr
    for text in expected:
        assert text in result.stderr


def test_a_mistyped_store_is_refused_by_every_command(cli: Cli, examples: Path, tmp_path: Path) -> None:
    real = f"sqlite:///{tmp_path / 'guardrail.db'}"
    assert cli("store", "init", "--store", real).code == 0
    assert cli("lock", "add", "--type", "aws_db_instance", "--reason", "freeze", "--store", real).code == 0
    typo = f"sqlite:///{tmp_path / 'guardrial.db'}"
    plan = examples / "allowed" / "plan.json"
    for argv in (
        ["check", plan, "--store", typo],
        ["lock", "list", "--store", typo],
        ["audit", "verify", "--store", typo],  # an empty log "intact: 0 events" would be a lie
        ["approve", "sha256:" + "ab" * 32, "--store", typo],
    ):
        assert_missing(cli(*argv), f"guardrail store init --store {typo}")
    assert not (tmp_path / "guardrial.db").exists()  # nothing was created on the way


def test_stores_named_by_the_environment_or_the_config_must_exist(
    cli: Cli, examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAIL_STORE", f"sqlite:///{tmp_path / 'from-env.db'}")
    assert_missing(cli("lock", "list"), "named by $GUARDRAIL_STORE", "`guardrail store init`")
    monkeypatch.delenv("GUARDRAIL_STORE")
    config = tmp_path / "guardrail.yaml"
    config.write_text("store: sqlite:///team.db\n")
    assert_missing(cli("check", examples / "allowed" / "plan.json", "--config", config), f"--config {config}")
    created = cli("store", "init", "--config", config)
    assert created.code == 0, created.stderr
    assert f"store sqlite:///{tmp_path / 'team.db'}: created" in created.stdout
    again = cli("store", "init", "--config", config)
    assert "already exists, schema current" in again.stdout
    assert cli("check", examples / "allowed" / "plan.json", "--config", config).code == 0


def test_the_default_store_is_created_on_first_use(
    cli: Cli, examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARDRAIL_STORE")
    monkeypatch.chdir(tmp_path)
    assert cli("lock", "add", "--type", "t", "--reason", "freeze").code == 0
    assert (tmp_path / ".guardrail" / "guardrail.db").is_file()
    assert "intact: 1 event(s)" in cli("audit", "verify").stdout  # the same store, found again


def test_an_empty_postgresql_database_is_not_a_store_until_initialised(
    cli: Cli, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_database()
    assert_missing(cli("audit", "verify", "--store", url), "no guardrail schema", "guardrail store init --store")
    assert cli("store", "init", "--store", url).code == 0
    verified = cli("audit", "verify", "--store", url)
    assert verified.code == 0
    assert "intact: 0 event(s)" in verified.stdout
