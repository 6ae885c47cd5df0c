"""`guardrail lock ...` and how locks gate `guardrail check` (JSON plans: no terraform needed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.store.conftest import FakeClock

Cli = Callable[..., Result]


@pytest.fixture
def allowed(examples: Path) -> Path:
    """A plan that creates aws_s3_bucket.audit_logs and updates aws_instance.bastion: allowed unlocked."""
    return examples / "allowed" / "plan.json"


def test_add_list_release_and_the_lock_blocks_check(cli: Cli, allowed: Path) -> None:
    added = cli("lock", "add", "--address", "aws_instance.*", "--reason", "bastion rebuild freeze", "--expires", "2h")
    assert added.code == 0, added.stderr
    lock_id = added.stdout.strip()
    assert lock_id.startswith("lk-")

    listed = cli("lock", "list")
    assert lock_id in listed.stdout
    assert "bastion rebuild freeze" in listed.stdout
    assert "alice@example.com" in listed.stdout

    blocked = cli("check", allowed, "--format", "json")
    assert blocked.code == 1
    report = json.loads(blocked.stdout)
    assert report["verdict"] == "deny"
    [finding] = [f for f in report["findings"] if f["rule"] == "lock"]
    assert finding["address"] == "aws_instance.bastion"
    assert finding["enforcement"] == "hard"
    assert lock_id in finding["message"]
    assert "alice@example.com" in finding["message"]
    assert "bastion rebuild freeze" in finding["message"]

    released = cli("lock", "release", lock_id, "--reason", "rebuild done")
    assert released.code == 0, released.stderr
    assert cli("check", allowed).code == 0
    assert cli("lock", "list").stdout.strip() == "no locks"
    history = json.loads(cli("lock", "list", "--all", "--format", "json").stdout)
    assert [(lock["id"], lock["active"], lock["released_by"]) for lock in history] == [
        (lock_id, False, "alice@example.com")
    ]


@pytest.mark.parametrize(
    "target",
    [("--type", "aws_s3_bucket"), ("--tag", "team=platform"), ("--address", "aws_s3_bucket.audit_*")],
)
def test_every_kind_of_target_blocks_a_matching_change(
    cli: Cli, allowed: Path, tmp_path: Path, target: tuple[str, str]
) -> None:
    plan = json.loads(allowed.read_text())
    for change in plan["resource_changes"]:
        if change["address"] == "aws_s3_bucket.audit_logs":
            change["change"]["after"]["tags"] = {"team": "platform"}
            change["change"]["after_unknown"].pop("tags", None)
    tagged = tmp_path / "plan.json"
    tagged.write_text(json.dumps(plan))
    assert cli("lock", "add", *target, "--reason", "freeze").code == 0
    result = cli("check", tagged, "--format", "json")
    assert result.code == 1, result.stdout
    assert {f["address"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "lock"} == {
        "aws_s3_bucket.audit_logs"
    }


def test_an_expired_lock_stops_applying(cli: Cli, allowed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()  # a second is a second of this clock, however long each command takes
    monkeypatch.setattr("guardrail.cli.options.clock", clock)
    assert cli("lock", "add", "--type", "aws_instance", "--reason", "short freeze", "--expires", "1s").code == 0
    assert cli("check", allowed).code == 1
    clock.advance(timedelta(milliseconds=999))
    assert cli("check", allowed).code == 1
    assert "active" in cli("lock", "list").stdout
    clock.advance(timedelta(milliseconds=1))
    assert cli("check", allowed).code == 0
    assert cli("lock", "list").stdout.strip() == "no locks"
    assert "expired" in cli("lock", "list", "--all").stdout


def test_a_lock_on_something_else_changes_nothing(cli: Cli, allowed: Path) -> None:
    assert cli("lock", "add", "--address", "module.prod_*.*", "--reason", "freeze prod").code == 0
    assert cli("check", allowed).code == 0
