"""A plan is judged by its own directory's guardrail.yaml and store, wherever guardrail runs from: real
terraform, commands run from two different working directories."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.cli.real import GUARDRAIL, init, state_inputs

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
Cli = Callable[..., Result]
DEADLINE = 240.0

MAIN_TF = """
variable "size" { default = "small" }
resource "terraform_data" "app" { input = var.size }
"""
NEEDS_APPROVAL = """
protect:
  - addresses: ["terraform_data.app"]
    actions: [create, update, replace, delete]
    enforcement: soft
    reason: app changes need a second pair of eyes
"""


def test_an_apply_from_elsewhere_meets_the_plans_configuration_and_store(
    cli: Cli, terraform_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARDRAIL_STORE")  # the store is the plan's own default one
    infra = init(terraform_bin, tmp_path / "infra", MAIN_TF, "size=small")
    (infra / "guardrail.yaml").write_text(NEEDS_APPROVAL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    store = f"sqlite:///{infra / '.guardrail' / 'guardrail.db'}"

    plan = infra / "plan.tfplan"
    planned = cli("plan", infra, "--var", "size=large", "--out", plan, "-f", "json")
    assert planned.code == 2, planned.stdout + planned.stderr
    report = json.loads(planned.stdout)
    assert (report["config"], report["store"]) == (str(infra / "guardrail.yaml"), store)

    refused = cli("apply", plan)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert "not applied" in refused.stderr
    assert state_inputs(terraform_bin, infra)["app"] == "small"
    assert f"config: {infra / 'guardrail.yaml'}" in refused.stdout
    assert f"store: {store}" in refused.stdout
    assert not (elsewhere / ".guardrail").exists()  # no stray store where the command happened to run

    # The reviewer approves from the configuration's directory: the apply from elsewhere sees it.
    monkeypatch.chdir(infra)
    monkeypatch.setenv("GUARDRAIL_ACTOR", "bob@example.com")
    assert cli("approve", report["fingerprint"]).code == 0
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    applied = cli("apply", plan)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert state_inputs(terraform_bin, infra)["app"] == "large"


# The provisioner holds the apply open until the test creates `release` (bounded, should the test die).
SLOW_TF = """
resource "terraform_data" "base" { input = "kept" }
resource "terraform_data" "slow" {
  input = "v1"
  provisioner "local-exec" {
    command = "touch started; i=0; while [ ! -f release ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done"
  }
}
"""


@pytest.fixture
def released(tmp_path: Path) -> Iterator[Path]:
    """The configuration directory; `release` is created there at the end whatever happens."""
    infra = tmp_path / "infra"
    try:
        yield infra
    finally:
        infra.mkdir(parents=True, exist_ok=True)
        (infra / "release").touch()


@pytest.mark.parametrize("configured_store", [False, True], ids=["default-store", "configured-store"])
def test_two_applies_from_different_directories_meet_at_one_apply_lock(
    cli: Cli, terraform_bin: str, released: Path, monkeypatch: pytest.MonkeyPatch, configured_store: bool
) -> None:
    monkeypatch.delenv("GUARDRAIL_STORE")
    tmp_path = released.parent
    infra = init(terraform_bin, released, 'resource "terraform_data" "base" { input = "kept" }\n')
    terraform_apply = ["apply", "-auto-approve", "-input=false"]
    subprocess.run([terraform_bin, *terraform_apply], cwd=infra, check=True, capture_output=True)
    (infra / "main.tf").write_text(SLOW_TF)  # a state exists now: every apply saves a rollback point
    if configured_store:
        (infra / "guardrail.yaml").write_text("store: sqlite:///../shared-state/guardrail.db\n")
        assert cli("store", "init", "--config", infra / "guardrail.yaml").code == 0
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    first_dir.mkdir()
    second_dir.mkdir()
    monkeypatch.chdir(first_dir)
    plan = infra / "plan.tfplan"
    assert cli("plan", infra, "--out", plan).code == 0

    env = {k: v for k, v in os.environ.items() if k != "GUARDRAIL_STORE"}
    env |= {"GUARDRAIL_ACTOR": "runner-one", "NO_COLOR": "1"}
    with (tmp_path / "first.err").open("wb") as err:
        first = subprocess.Popen(
            [*GUARDRAIL, "apply", str(plan)], cwd=first_dir, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + DEADLINE
        while not (infra / "started").exists():
            assert first.poll() is None, (tmp_path / "first.err").read_text()
            assert time.monotonic() < deadline, "the first apply never reached terraform"
            time.sleep(0.05)
        second = subprocess.run(
            [*GUARDRAIL, "apply", str(plan)],
            cwd=second_dir,
            env={**env, "GUARDRAIL_ACTOR": "runner-two"},
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert "is locked by runner-one" in second.stderr
    finally:
        (infra / "release").touch()
        first.wait(timeout=DEADLINE)
    assert first.returncode == 0, (tmp_path / "first.err").read_text()
    # Only the apply that held the lock saved a rollback point: none was pulled in the middle of another.
    assert len(list((infra / ".guardrail" / "rollback").iterdir())) == 1
    monkeypatch.chdir(infra)  # the configuration's own store: configured there, or its default one
    events = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    assert [e["actor"] for e in events if e["kind"] == "apply-start"] == ["runner-one"]
