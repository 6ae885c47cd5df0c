"""The whole change-management flow with real terraform, on SQLite and on PostgreSQL:
plan → needs approval → self-approval refused → second person approves → apply → re-plan refused →
stale plan refused; the audit log verifies and no sensitive value ever reaches the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.cli.real import init, inputs, raw_store_dump, state_inputs

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
Cli = Callable[..., Result]

SECRET = "tok-5ecret-9f8e7d6c5b4a"
MAIN_TF = """
variable "size" { default = "small" }
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "app" { input = var.size }
resource "terraform_data" "secret" { input = var.token }
"""
CONFIG = """
protect:
  - addresses: ["terraform_data.app"]
    actions: [create, update, replace, delete]
    enforcement: soft
    reason: app changes need a second pair of eyes
policies: [leak.rego]
"""
# A careless policy that quotes the secret: its message must be scrubbed before it is shown or stored.
LEAK_POLICY = """package main
import rego.v1
warn contains msg if {
  msg := sprintf("token is %s", [input.variables.token.value])
}
"""


def test_check_approve_apply_and_every_refusal(
    cli: Cli, store_url: str, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF, "size=small", f"token={SECRET}")
    config = tmp_path / "guardrail.yaml"
    config.write_text(CONFIG)
    (tmp_path / "leak.rego").write_text(LEAK_POLICY)
    monkeypatch.setenv("GUARDRAIL_STORE", store_url)
    outputs: list[Result] = []

    def run(actor: str, *argv: str | Path) -> Result:
        monkeypatch.setenv("GUARDRAIL_ACTOR", actor)
        result = cli(*argv, "--config", config)
        outputs.append(result)
        return result

    plan = infra / "plan.bin"
    planned = run(
        "alice", "plan", infra, "--var", "size=large", "--var", f"token={SECRET}", "--out", plan, "-f", "json"
    )
    assert planned.code == 2, planned.stderr
    report = json.loads(planned.stdout)
    fingerprint = report["fingerprint"]
    assert "token is (sensitive value)" in [f["message"] for f in report["findings"]]

    own = run("alice", "approve", fingerprint)
    assert own.code == 1
    assert "alice is the author of this plan and cannot approve it" in own.stderr
    assert run("bob", "approve", fingerprint, "--comment", "size bump is fine").code == 0

    rechecked = run("alice", "check", plan)
    assert rechecked.code == 0, rechecked.stdout
    assert "approved by bob" in rechecked.stdout

    applied = run("alice", "apply", plan)
    assert applied.code == 0, applied.stderr
    assert state_inputs(terraform_bin, infra)["app"] == "large"
    rollback = Path(next(ln for ln in applied.stdout.splitlines() if ln.startswith("rollback point: "))[16:])
    assert rollback.parent == infra / ".guardrail" / "rollback"
    assert inputs(rollback.read_text())["app"] == "small"  # the state as it was before this apply
    assert rollback.stat().st_mode & 0o077 == 0  # it holds the secret in clear, like the state itself

    replan = infra / "replan.bin"
    replanned = run(
        "alice", "plan", infra, "--var", "size=huge", "--var", f"token={SECRET}", "--out", replan, "-f", "json"
    )
    assert replanned.code == 2
    assert json.loads(replanned.stdout)["fingerprint"] != fingerprint
    unapproved = run("alice", "apply", replan)
    assert unapproved.code == 2
    assert "not applied" in unapproved.stderr

    stale = run("alice", "apply", plan)  # approved, but the state moved on since it was planned
    assert stale.code == 1
    assert "the plan is stale" in stale.stderr
    assert state_inputs(terraform_bin, infra)["app"] == "large"

    assert run("carol", "audit", "verify").code == 0
    assert_recorded(run("carol", "audit", "export", "--format", "jsonl"), fingerprint, rollback)
    assert all(SECRET not in r.stdout + r.stderr for r in outputs)
    assert SECRET not in raw_store_dump(store_url, tmp_path)


def assert_recorded(exported: Result, fingerprint: str, rollback: Path) -> None:
    """The export holds the check, the approval, and both applies with their outcomes."""
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    kinds = [(e["kind"], e["actor"], e["fingerprint"]) for e in events]
    assert ("check", "alice", fingerprint) in kinds
    assert ("approval", "bob", fingerprint) in kinds
    assert [k for k in kinds if k[0] == "apply-start"] == [("apply-start", "alice", fingerprint)] * 2
    ends = [e["payload"] for e in events if e["kind"] == "apply-end"]
    assert [end["status"] for end in ends] == ["succeeded", "failed"]
    assert ends[0]["rollback"] == str(rollback)
    assert "stale plan" in ends[1]["error"]


def test_break_glass_lets_a_locked_plan_through_exactly_once(
    cli: Cli, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF, "size=small", f"token={SECRET}")
    config = tmp_path / "guardrail.yaml"
    config.write_text("approvals:\n  break_glass: [carol]\n")
    assert cli("lock", "add", "--address", "terraform_data.app", "--reason", "change freeze").code == 0
    plan = infra / "plan.bin"
    planned = cli("plan", infra, "--var", "size=large", "--var", f"token={SECRET}", "--out", plan, "--config", config)
    assert planned.code == 1
    assert "change freeze" in planned.stdout
    assert cli("apply", plan, "--config", config).code == 1

    monkeypatch.setenv("GUARDRAIL_ACTOR", "carol")
    fingerprint = json.loads(cli("check", plan, "--config", config, "-f", "json").stdout)["fingerprint"]
    assert cli("break-glass", fingerprint, "--reason", "hotfix during the freeze", "--config", config).code == 0
    applied = cli("apply", plan, "--config", config)
    assert applied.code == 0, applied.stderr
    assert "BREAK-GLASS by carol: hotfix during the freeze" in applied.stdout
    assert state_inputs(terraform_bin, infra)["app"] == "large"

    spent = cli("check", plan, "--config", config)
    assert spent.code == 1  # one use: the pass was spent by the apply
    used = json.loads(cli("audit", "list", "--kind", "break-glass-used", "-f", "json").stdout)
    assert [(e["actor"], e["fingerprint"]) for e in used] == [("carol", fingerprint)]


def test_apply_runs_the_plan_it_judged_even_if_the_file_is_swapped_meanwhile(
    cli: Cli, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF, "size=small", f"token={SECRET}")
    config = tmp_path / "guardrail.yaml"
    config.write_text("approvals:\n  required: 1\n")
    plan, evil = infra / "plan.bin", infra / "evil.bin"
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice")
    assert cli("plan", infra, "--var", "size=EVIL", "--var", f"token={SECRET}", "--out", evil).code == 0
    planned = cli("plan", infra, "--var", "size=large", "--var", f"token={SECRET}", "--out", plan, "-f", "json")
    assert planned.code == 0, planned.stderr  # nothing soft in this config: allowed as it is
    # A terraform that, once the plan has been judged (at `state pull`), swaps another plan into the file.
    wrapper = tmp_path / "swapping-terraform"
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = state ]; then cp "{evil}" "{plan}"; fi\nexec "{terraform_bin}" "$@"\n')
    wrapper.chmod(0o755)
    applied = cli("apply", plan, "--config", config, "--terraform-bin", wrapper)
    assert applied.code == 0, applied.stderr
    assert plan.read_bytes() == evil.read_bytes()  # the swap happened
    assert state_inputs(terraform_bin, infra)["app"] == "large"  # and what ran is what was judged
