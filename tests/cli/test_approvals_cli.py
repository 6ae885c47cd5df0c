"""`guardrail approve` and `guardrail break-glass` against `guardrail check` (JSON plans: no terraform)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result

Cli = Callable[..., Result]


def checked(cli: Cli, plan: Path, *options: str | Path) -> tuple[int, dict[str, Any]]:
    result = cli("check", plan, "--format", "json", *options)
    assert result.code in (0, 1, 2), result.stderr
    return result.code, json.loads(result.stdout)


def act_as(monkeypatch: pytest.MonkeyPatch, actor: str) -> None:
    monkeypatch.setenv("GUARDRAIL_ACTOR", actor)


@pytest.fixture
def needs_approval(examples: Path) -> Path:
    return examples / "needs-approval" / "plan.json"


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guardrail.yaml"
    path.write_text(text)
    return path


def test_the_author_cannot_approve_and_a_second_person_can(
    cli: Cli, needs_approval: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = checked(cli, needs_approval)
    assert (code, report["verdict"]) == (2, "needs-approval")
    fingerprint = str(report["fingerprint"])
    assert any("guardrail approve " + fingerprint in note for note in report["notes"])

    own = cli("approve", fingerprint)
    assert own.code == 1
    assert "alice@example.com is the author of this plan and cannot approve it" in own.stderr

    act_as(monkeypatch, "bob@example.com")
    approved = cli("approve", fingerprint.removeprefix("sha256:"), "--comment", "looked at the db replace")
    assert approved.code == 0, approved.stderr
    assert "bob@example.com" in approved.stdout
    assert cli("approve", fingerprint).code == 3  # one approval per person

    act_as(monkeypatch, "alice@example.com")
    code, report = checked(cli, needs_approval)
    assert (code, report["verdict"]) == (0, "allow")
    assert any("approved by bob@example.com" in note for note in report["notes"])


def test_a_byte_identical_plan_keeps_its_approvals_and_another_plan_has_none(
    cli: Cli, needs_approval: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, report = checked(cli, needs_approval)
    act_as(monkeypatch, "bob@example.com")
    assert cli("approve", str(report["fingerprint"])).code == 0
    act_as(monkeypatch, "alice@example.com")

    copy = tmp_path / "replanned.json"
    shutil.copy(needs_approval, copy)
    assert checked(cli, copy)[0] == 0

    changed = json.loads(needs_approval.read_text())
    changed["variables"] = {**changed.get("variables", {}), "replicas": {"value": "3"}}
    other = tmp_path / "changed.json"
    other.write_text(json.dumps(changed))
    code, other_report = checked(cli, other)
    assert other_report["fingerprint"] != report["fingerprint"]
    assert code == 2


def test_required_approvals_from_listed_approvers(
    cli: Cli, needs_approval: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = config(tmp_path, "approvals:\n  required: 2\n  approvers: [bob, carol]\n")
    _, report = checked(cli, needs_approval, "--config", settings)
    fingerprint = str(report["fingerprint"])

    act_as(monkeypatch, "dave")
    refused = cli("approve", fingerprint, "--config", settings)
    assert refused.code == 1
    assert "dave is not one of the allowed approvers (bob, carol)" in refused.stderr

    act_as(monkeypatch, "bob")
    assert cli("approve", fingerprint, "--config", settings).code == 0
    code, report = checked(cli, needs_approval, "--config", settings)
    assert code == 2
    assert any("1 of 2" in note for note in report["notes"])
    act_as(monkeypatch, "carol")
    assert cli("approve", fingerprint, "--config", settings).code == 0
    assert checked(cli, needs_approval, "--config", settings)[0] == 0


def test_approving_a_plan_never_checked_is_refused(cli: Cli) -> None:
    result = cli("approve", "sha256:" + "0" * 64)
    assert result.code == 1
    assert "run guardrail check on it first" in result.stderr


@pytest.fixture
def ssh_keys(tmp_path: Path) -> Callable[[str], Path]:
    """Makes an ed25519 key for a name (real ssh-keygen); returns the private key's path."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not found")

    def make(name: str) -> Path:
        key = tmp_path / f"{name}_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key], check=True)
        return key

    return make


def sign(key: Path, fingerprint: str, out: Path, namespace: str = "guardrail-approval") -> Path:
    """What the README tells approvers to run: sign the fingerprint text in the guardrail-approval namespace."""
    signed = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", key, "-n", namespace],
        input=fingerprint.encode(),
        capture_output=True,
        check=True,
    )
    out.write_bytes(signed.stdout)
    return out


def test_signed_approvals(
    cli: Cli, needs_approval: Path, tmp_path: Path, ssh_keys: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bob_key, carol_key = ssh_keys("bob"), ssh_keys("carol")
    bob_public = " ".join(bob_key.with_suffix(".pub").read_text().split()[:2])
    (tmp_path / "allowed_signers").write_text(f"bob {bob_public}\n")
    settings = config(tmp_path, "approvals:\n  allowed_signers: allowed_signers\n")
    _, report = checked(cli, needs_approval, "--config", settings)
    fingerprint = str(report["fingerprint"])
    act_as(monkeypatch, "bob")

    unsigned = cli("approve", fingerprint, "--config", settings)
    assert unsigned.code == 1
    assert "signatures are required" in unsigned.stderr

    by_carol = sign(carol_key, fingerprint, tmp_path / "carol.sig")
    forged = cli("approve", fingerprint, "--config", settings, "--signature", by_carol)
    assert forged.code == 1
    assert "signature of bob does not verify" in forged.stderr

    other_plan = sign(bob_key, "sha256:" + "1" * 64, tmp_path / "other")
    assert cli("approve", fingerprint, "--config", settings, "--signature", other_plan).code == 1

    valid = cli("approve", fingerprint, "--config", settings, "--signature", sign(bob_key, fingerprint, tmp_path / "b"))
    assert valid.code == 0, valid.stderr
    assert "(signed)" in valid.stdout
    act_as(monkeypatch, "alice@example.com")
    assert checked(cli, needs_approval, "--config", settings)[0] == 0


def test_break_glass_lets_a_denied_plan_through_only_for_the_allowed(
    cli: Cli, examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = examples / "denied" / "plan.json"
    settings = config(tmp_path, "approvals:\n  break_glass: [carol]\n  max_break_glass_ttl: 2h\n")
    code, report = checked(cli, denied, "--config", settings)
    assert code == 1
    fingerprint = str(report["fingerprint"])

    refused = cli("break-glass", fingerprint, "--reason", "outage", "--config", settings)
    assert refused.code == 1
    assert "alice@example.com is not allowed to (allowed: carol)" in refused.stderr

    act_as(monkeypatch, "carol")
    too_long = cli("break-glass", fingerprint, "--reason", "outage", "--ttl", "3h", "--config", settings)
    assert too_long.code == 3
    granted = cli("break-glass", fingerprint, "--reason", "restore the cluster", "--ttl", "30m", "--config", settings)
    assert granted.code == 0, granted.stderr
    assert "BREAK-GLASS bg-" in granted.stdout

    # The check says a pass is ready and still denies: only `guardrail apply` of this plan may use it, once.
    code, report = checked(cli, denied, "--config", settings)
    assert (code, report["verdict"]) == (1, "deny")
    assert any("by carol (restore the cluster) is ready: guardrail apply" in n for n in report["notes"])
    assert any(f["enforcement"] == "hard" for f in report["findings"])


def test_break_glass_needs_a_signature_in_its_own_namespace_when_signatures_are_required(
    cli: Cli, examples: Path, tmp_path: Path, ssh_keys: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    carol_key = ssh_keys("carol")
    carol_public = " ".join(carol_key.with_suffix(".pub").read_text().split()[:2])
    (tmp_path / "allowed_signers").write_text(f"carol {carol_public}\n")
    settings = config(tmp_path, "approvals:\n  allowed_signers: allowed_signers\n  break_glass: [carol]\n")
    code, report = checked(cli, examples / "denied" / "plan.json", "--config", settings)
    assert code == 1
    fingerprint = str(report["fingerprint"])
    act_as(monkeypatch, "carol")
    argv = ("break-glass", fingerprint, "--reason", "outage", "--config", settings)

    unsigned = cli(*argv)
    assert unsigned.code == 1
    assert "signatures are required" in unsigned.stderr
    # An approval's signature over the same fingerprint cannot be replayed to break glass.
    as_approval = sign(carol_key, fingerprint, tmp_path / "approval.sig")
    assert cli(*argv, "--signature", as_approval).code == 1
    signed = sign(carol_key, fingerprint, tmp_path / "bg.sig", namespace="guardrail-break-glass")
    granted = cli(*argv, "--signature", signed)
    assert granted.code == 0, granted.stderr


def test_the_author_cannot_approve_under_another_name_of_the_same_key(
    cli: Cli, needs_approval: Path, tmp_path: Path, ssh_keys: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_key, bob_key = ssh_keys("alice"), ssh_keys("bob")
    alice_public = " ".join(alice_key.with_suffix(".pub").read_text().split()[:2])
    bob_public = " ".join(bob_key.with_suffix(".pub").read_text().split()[:2])
    (tmp_path / "allowed_signers").write_text(
        f'alice@example.com,alice namespaces="guardrail-approval,guardrail-break-glass" {alice_public}\n'
        f"bob {bob_public} bob's laptop\n"
    )
    settings = config(tmp_path, "approvals:\n  allowed_signers: allowed_signers\n")
    _, report = checked(cli, needs_approval, "--config", settings)  # as alice@example.com: the author
    fingerprint = str(report["fingerprint"])

    act_as(monkeypatch, "alice")  # the same person, by the other name her key is listed under
    alias = cli(
        "approve", fingerprint, "--config", settings, "--signature", sign(alice_key, fingerprint, tmp_path / "a")
    )
    assert alias.code == 1
    assert "also lists for alice@example.com, the author of this plan" in alias.stderr

    act_as(monkeypatch, "bob")
    by_bob = cli(
        "approve", fingerprint, "--config", settings, "--signature", sign(bob_key, fingerprint, tmp_path / "b")
    )
    assert by_bob.code == 0, by_bob.stderr
