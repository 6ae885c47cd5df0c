"""`guardrail audit list/show/export/verify` on a log written by real commands."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result

Cli = Callable[..., Result]


@pytest.fixture
def history(cli: Cli, examples: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A lock added and released by alice, a check, and bob's approval of it: returns the exported events."""
    lock_id = cli("lock", "add", "--address", "aws_db_instance.*", "--reason", "db migration").stdout.strip()
    assert cli("lock", "release", lock_id, "--reason", "migrated").code == 0
    checked = cli("check", examples / "needs-approval" / "plan.json", "--format", "json")
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", json.loads(checked.stdout)["fingerprint"]).code == 0
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    exported = cli("audit", "export", "--format", "jsonl")
    assert exported.code == 0
    return [json.loads(line) for line in exported.stdout.splitlines()]


def test_export_is_the_whole_chain_in_order(history: list[dict[str, Any]]) -> None:
    assert [(e["seq"], e["kind"], e["actor"]) for e in history] == [
        (1, "lock", "alice@example.com"),
        (2, "release", "alice@example.com"),
        (3, "check", "alice@example.com"),
        (4, "approval", "bob@example.com"),
    ]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(history))
    check = history[2]
    assert check["fingerprint"] == history[3]["fingerprint"]
    assert check["payload"]["verdict"] == "needs-approval"


def test_list_filters_and_show(cli: Cli, history: list[dict[str, Any]]) -> None:
    table = cli("audit", "list")
    assert table.code == 0
    for kind in ("lock", "release", "check", "approval"):
        assert kind in table.stdout

    def seqs(*filters: str) -> list[object]:
        result = cli("audit", "list", "--format", "json", *filters)
        assert result.code == 0, result.stderr
        return [event["seq"] for event in json.loads(result.stdout)]

    assert seqs("--actor", "bob@example.com") == [4]
    assert seqs("--kind", "release") == [2]
    assert seqs("--address", "aws_db_instance.*") == [1, 2, 3]  # the lock's pattern, the checked address
    assert seqs("--since", "1h") == [1, 2, 3, 4]
    assert seqs("--since", "2999-01-01") == []

    shown = cli("audit", "show", "4")
    assert json.loads(shown.stdout) == history[3]


def test_export_to_a_file(cli: Cli, history: list[dict[str, Any]], tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    assert cli("audit", "export", "--output", target).code == 0
    assert [json.loads(line) for line in target.read_text().splitlines()] == history


def test_verify_intact_and_pinned_heads(cli: Cli, history: list[dict[str, Any]], examples: Path) -> None:
    head = str(history[-1]["hash"])
    intact = cli("audit", "verify")
    assert intact.code == 0
    assert intact.stdout.strip() == f"audit log intact: 4 event(s), head {head}"
    assert cli("audit", "verify", "--expect-head", head, "--exact").code == 0

    cli("check", examples / "allowed" / "plan.json")  # the log grows past the pinned head: still fine
    grown = cli("audit", "verify", "--expect-head", head)
    assert grown.code == 0
    assert "1 event(s) recorded after the pinned head" in grown.stdout
    assert cli("audit", "verify", "--expect-head", head, "--exact").code == 1

    lost = cli("audit", "verify", "--expect-head", "f" * 64)
    assert lost.code == 1
    assert "audit log BROKEN at event 6" in lost.stdout
    assert "events were removed" in lost.stdout


def test_verify_names_the_first_tampered_event(cli: Cli, history: list[dict[str, Any]], isolated_store: str) -> None:
    database = isolated_store.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE audit_events SET actor = 'mallory@example.com' WHERE seq = 2")
    broken = cli("audit", "verify")
    assert broken.code == 1
    assert "audit log BROKEN at event 2: content does not match its hash (modified)" in broken.stdout

    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE audit_events SET actor = 'alice@example.com' WHERE seq = 2")
        conn.execute("DELETE FROM audit_events WHERE seq = 4")  # truncation: the store's verified point shows it
    truncated = cli("audit", "verify")
    assert truncated.code == 1
    assert "the store verified it up to event 4" in truncated.stdout
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM chain_checkpoint")
    records = cli("audit", "verify")  # the approval the deleted event recorded is still there: it says so
    assert records.code == 1
    assert "by bob@example.com: its event 4 is not in the audit log" in records.stdout
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM approvals")  # and with every trace of it gone, only a pinned head shows it
    assert cli("audit", "verify").code == 0
    assert cli("audit", "verify", "--expect-head", str(history[-1]["hash"])).code == 1


def test_an_unknown_kind_is_refused_naming_the_kinds(cli: Cli, history: list[dict[str, Any]]) -> None:
    result = cli("audit", "list", "--kind", "chek")
    assert result.code == 3
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("guardrail: --kind 'chek': expected one of ")
    for kind in ("check", "lock", "release", "approval", "break-glass", "apply-start", "apply-end"):
        assert kind in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--expect-head", "not-a-hash"), "--expect-head 'not-a-hash': expected"),
        (("--expect-head", "f" * 63), "64 hexadecimal digits"),
        (("--expect-head", "g" * 64), "64 hexadecimal digits"),
        (("--exact",), "--exact needs --expect-head"),
    ],
)
def test_verify_refuses_a_malformed_head_and_exact_alone(
    cli: Cli, history: list[dict[str, Any]], args: tuple[str, ...], words: str
) -> None:
    result = cli("audit", "verify", *args)
    assert result.code == 3, result.stdout
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert words in line


def test_verify_takes_the_head_as_printed_or_prefixed(cli: Cli, history: list[dict[str, Any]]) -> None:
    head = str(history[-1]["hash"])
    for spelled in (head, head.upper(), f"sha256:{head}", f"  {head}\n"):
        assert cli("audit", "verify", "--expect-head", spelled, "--exact").code == 0, spelled
