"""At the command line: a store altered in SQL is exit 3 for every decision, and `audit verify` says BROKEN."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import Result

Cli = Callable[..., Result]


def sql(url: str, statement: str, *values: object) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute(statement, values)


def test_a_forged_approval_is_exit_3_and_a_broken_log(cli: Cli, examples: Path, isolated_store: str) -> None:
    plan = examples / "needs-approval" / "plan.json"
    checked = cli("check", plan, "--config", examples / "guardrail.yaml", "-f", "json")
    assert checked.code == 2
    fingerprint = json.loads(checked.stdout)["fingerprint"]
    head = cli("audit", "verify").stdout.split("head ")[1].strip()
    sql(
        isolated_store,
        "INSERT INTO approvals VALUES (?, 'mallory', '2030-01-01T00:00:00.000000Z', '', NULL, NULL)",
        fingerprint,
    )

    forged = cli("check", plan, "--config", examples / "guardrail.yaml")
    assert forged.code == 3, forged.stdout
    assert forged.stdout == ""
    assert "by mallory: no event of the audit log records it" in forged.stderr
    verified = cli("audit", "verify", "--expect-head", head, "--exact")
    assert verified.code == 1
    assert "audit log BROKEN" in verified.stdout
    assert "by mallory" in verified.stdout


def test_an_emptied_log_is_not_intact(cli: Cli, isolated_store: str) -> None:
    assert cli("lock", "add", "--type", "aws_db_instance", "--reason", "freeze").code == 0
    sql(isolated_store, "DELETE FROM audit_events")
    sql(isolated_store, "DELETE FROM chain_checkpoint")
    listed = cli("lock", "list")
    assert listed.code == 3
    assert "the audit log is empty, but the store holds records (lock lk-" in listed.stderr
    verified = cli("audit", "verify")
    assert verified.code == 1
    assert "intact" not in verified.stdout
    assert "the audit log is empty, but the store holds records" in verified.stdout
