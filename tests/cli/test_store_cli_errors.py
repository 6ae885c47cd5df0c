"""Bad input to the change-management commands and broken stores: exit 3, one line, no traceback."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.store.postgres import _free_port

Cli = Callable[..., Result]
FINGERPRINT = "sha256:" + "ab" * 32


def assert_one_line(result: Result, code: int, *expected: str) -> None:
    assert result.code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lock", "add", "--reason", "x"], "exactly one of --address, --type or --tag"),
        (["lock", "add", "--address", "a.*", "--type", "t", "--reason", "x"], "exactly one of"),
        (["lock", "add", "--tag", "novalue", "--reason", "x"], "expected key=value"),
        (["lock", "add", "--type", "t", "--reason", "x", "--expires", "soon"], "duration 'soon'"),
        (["lock", "add", "--type", "t", "--reason", "  "], "needs a --reason"),
        (["lock", "add", "--type", "t"], "--reason"),
        (["lock", "release", "lk-00000000", "--reason", "x"], "lk-00000000: no such lock"),
        (["approve", "not-a-fingerprint"], "fingerprint 'not-a-fingerprint'"),
        (["break-glass", FINGERPRINT, "--reason", "x", "--ttl", "0s"], "longer than zero"),
        (["audit", "show", "999"], "audit event 999: no such event"),
        (["audit", "list", "--since", "last tuesday"], "--since 'last tuesday'"),
        (["audit", "export", "--format", "csv"], "csv"),
    ],
)
def test_bad_input_is_one_line_exit_3(cli: Cli, argv: list[str], expected: str) -> None:
    assert_one_line(cli(*argv), 3, expected)


def test_apply_needs_an_existing_binary_plan_beside_its_configuration(cli: Cli, examples: Path, tmp_path: Path) -> None:
    assert_one_line(cli("apply", tmp_path / "missing.tfplan"), 3, "missing.tfplan: no such file")
    assert_one_line(cli("apply", examples / "allowed" / "plan.json"), 3, "not a binary plan file")
    stray = tmp_path / "stray.tfplan"
    stray.write_bytes(b"PK\x03\x04 not really a plan")
    assert_one_line(cli("apply", stray), 3, "no Terraform configuration here")
    assert_one_line(cli("lock", "recover-apply", tmp_path, "--reason", "x"), 3, "no Terraform configuration here")


def test_unreachable_postgresql_is_exit_3_and_never_a_verdict(cli: Cli, examples: Path) -> None:
    url = f"postgresql://guardrail@127.0.0.1:{_free_port()}/guardrail"
    for argv in (
        ["check", examples / "allowed" / "plan.json", "--store", url],
        ["lock", "list", "--store", url],
        ["approve", FINGERPRINT, "--store", url],
        ["audit", "verify", "--store", url],
    ):
        result = cli(*argv)
        assert_one_line(result, 3, "store postgresql://guardrail@127.0.0.1")
        assert result.stdout == ""  # the allowed plan's report is never printed without the store


def test_corrupt_sqlite_file_is_exit_3(cli: Cli, examples: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "guardrail.db"
    corrupt.write_bytes(b"this is not a database\n" * 512)
    url = f"sqlite:///{corrupt}"
    assert_one_line(cli("check", examples / "allowed" / "plan.json", "--store", url), 3, str(corrupt))
    assert_one_line(cli("audit", "verify", "--store", url), 3, str(corrupt))


def test_unsupported_store_scheme_is_exit_3(cli: Cli) -> None:
    assert_one_line(cli("lock", "list", "--store", "mysql://db/guardrail"), 3, "unsupported scheme 'mysql'")


def test_store_is_chosen_by_option_then_environment_then_config_then_default(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lock_count(db: Path) -> int:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM locks").fetchone()[0])

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GUARDRAIL_STORE")
    assert cli("lock", "add", "--type", "a", "--reason", "x").code == 0
    assert lock_count(tmp_path / ".guardrail" / "guardrail.db") == 1  # the default, created on first use

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "guardrail.yaml").write_text("store: sqlite:///team.db\n")  # relative to the file
    assert cli("store", "init", "--config", "conf/guardrail.yaml").code == 0
    assert cli("lock", "add", "--type", "b", "--reason", "x", "--config", "conf/guardrail.yaml").code == 0
    assert lock_count(tmp_path / "conf" / "team.db") == 1

    monkeypatch.setenv("GUARDRAIL_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    assert cli("store", "init").code == 0
    assert cli("lock", "add", "--type", "c", "--reason", "x", "--config", "conf/guardrail.yaml").code == 0
    assert lock_count(tmp_path / "env.db") == 1

    explicit = f"sqlite:///{tmp_path / 'explicit.db'}"
    assert cli("store", "init", "--store", explicit).code == 0
    assert cli("lock", "add", "--type", "d", "--reason", "x", "--store", explicit).code == 0
    assert lock_count(tmp_path / "explicit.db") == 1
    assert lock_count(tmp_path / "env.db") == 1
