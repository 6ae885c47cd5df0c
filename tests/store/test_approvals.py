"""Approvals bound to the plan fingerprint, signed approvals (real ssh-keygen), and break-glass."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from guardrail.adapters.signatures import SshSignatureVerifier
from guardrail.adapters.store import SqlStore
from guardrail.core.approvals import (
    ApprovalPolicy,
    ApprovalRefusedError,
    InvalidSignatureError,
    Settlement,
    signed_message,
)
from guardrail.core.change import ChangeSet
from guardrail.core.errors import BadInputError, DeniedError, StoreError
from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict
from guardrail.services import approvals, audit
from guardrail.services.approvals import GateResult
from tests.store.conftest import FakeClock
from tests.unit.factories import change

SOFT = Verdict.of([Finding("stateful", Enforcement.SOFT, "aws_db_instance.main", "deletes a database")])
HARD = Verdict.of([Finding("lock", Enforcement.HARD, "aws_db_instance.main", "locked by lk-1")])


def _plan(fingerprint: str = "sha256:" + "a" * 64) -> ChangeSet:
    return ChangeSet("plan.json", fingerprint, "1.2", changes=(change("aws_db_instance.main", ["delete"], {}, None),))


def _gate(store: SqlStore, policy: ApprovalPolicy, actor: str, clock: FakeClock, **kw: Any) -> GateResult:
    plan = kw.pop("plan", _plan())
    verdict = kw.pop("verdict", SOFT)
    return approvals.gate(store, policy, plan, verdict, actor, now=clock.now, **kw)


def test_enough_approvals_turn_needs_approval_into_allow(store: SqlStore, clock: FakeClock) -> None:
    policy = ApprovalPolicy()
    first = _gate(store, policy, "author@example.com", clock)
    assert first.author == "author@example.com"
    assert first.settlement.verdict.decision is Decision.NEEDS_APPROVAL
    assert first.settlement.notes == ("0 of 1 approval(s) so far",)

    approvals.approve(store, policy, _plan().fingerprint, "reviewer@example.com", clock.now, comment="looks right")
    second = _gate(store, policy, "ci-bot", clock)
    assert second.author == "author@example.com"  # the first checker stays the author
    assert second.settlement.verdict.decision is Decision.ALLOW
    assert second.settlement.verdict.findings == SOFT.findings
    assert "approved by reviewer@example.com" in second.settlement.notes[0]

    other = _gate(store, policy, "ci-bot", clock, plan=_plan("sha256:" + "b" * 64))
    assert other.settlement.verdict.decision is Decision.NEEDS_APPROVAL  # a different plan has no approvals
    assert other.author == "ci-bot"

    kinds = [(e.kind, e.actor, e.fingerprint) for e in audit.list_events(store)]
    fp = _plan().fingerprint
    assert kinds[:3] == [
        ("check", "author@example.com", fp),
        ("approval", "reviewer@example.com", fp),
        ("check", "ci-bot", fp),
    ]
    check = audit.show(store, 3).payload
    assert check["decision"] == "allow"
    assert check["verdict"] == "needs-approval"
    assert check["approved_by"] == ["reviewer@example.com"]
    assert check["addresses"] == ["aws_db_instance.main"]


def test_the_author_cannot_approve_their_own_plan(store: SqlStore, clock: FakeClock) -> None:
    _gate(store, ApprovalPolicy(), "author", clock)
    with pytest.raises(ApprovalRefusedError, match="author of this plan") as refused:
        approvals.approve(store, ApprovalPolicy(), _plan().fingerprint, "author", clock.now)
    assert isinstance(refused.value, DeniedError)
    assert [e.kind for e in audit.list_events(store)] == ["check"]


def test_unchecked_plans_and_unlisted_approvers_are_refused(store: SqlStore, clock: FakeClock) -> None:
    policy = ApprovalPolicy(approvers=frozenset({"lead@example.com"}))
    with pytest.raises(ApprovalRefusedError, match="check"):
        approvals.approve(store, policy, _plan().fingerprint, "lead@example.com", clock.now)
    _gate(store, policy, "author", clock)
    with pytest.raises(ApprovalRefusedError, match="not one of the allowed approvers"):
        approvals.approve(store, policy, _plan().fingerprint, "intern@example.com", clock.now)
    approvals.approve(store, policy, _plan().fingerprint, "lead@example.com", clock.now)
    with pytest.raises(BadInputError, match="already approved"):
        approvals.approve(store, policy, _plan().fingerprint, "lead@example.com", clock.now)


def test_required_count_and_a_policy_change_after_approving(store: SqlStore, clock: FakeClock) -> None:
    two = ApprovalPolicy(required=2)
    _gate(store, two, "author", clock)
    approvals.approve(store, two, _plan().fingerprint, "r1", clock.now)
    assert _gate(store, two, "author", clock).settlement.verdict.decision is Decision.NEEDS_APPROVAL
    approvals.approve(store, two, _plan().fingerprint, "r2", clock.now)
    result = _gate(store, two, "author", clock)
    assert result.settlement.verdict.decision is Decision.ALLOW
    assert result.status.approvers == ("r1", "r2")
    narrowed = ApprovalPolicy(required=2, approvers=frozenset({"r1"}))  # r2 no longer allowed: does not count
    assert _gate(store, narrowed, "author", clock).settlement.verdict.decision is Decision.NEEDS_APPROVAL


def test_approvals_never_lift_a_hard_deny(store: SqlStore, clock: FakeClock) -> None:
    _gate(store, ApprovalPolicy(), "author", clock, verdict=HARD)
    approvals.approve(store, ApprovalPolicy(), _plan().fingerprint, "reviewer", clock.now)
    assert _gate(store, ApprovalPolicy(), "author", clock, verdict=HARD).settlement.verdict.decision is Decision.DENY


def test_break_glass_lets_a_denied_plan_through_once_within_its_time_limit(store: SqlStore, clock: FakeClock) -> None:
    policy = ApprovalPolicy(break_glass=frozenset({"oncall@example.com"}))
    fp = _plan().fingerprint
    _gate(store, policy, "author", clock, verdict=HARD)
    with pytest.raises(ApprovalRefusedError, match="not allowed"):
        approvals.break_glass(store, policy, fp, "author", reason="hurry", now=clock.now)
    with pytest.raises(BadInputError, match="reason"):
        approvals.break_glass(store, policy, fp, "oncall@example.com", reason=" ", now=clock.now)
    with pytest.raises(BadInputError, match="never checked"):
        approvals.break_glass(store, policy, "sha256:other", "oncall@example.com", reason="x", now=clock.now)

    grant = approvals.break_glass(
        store, policy, fp, "oncall@example.com", reason="outage: restore DNS", now=clock.now, ttl=timedelta(minutes=30)
    )
    # A check reports the pass and keeps its verdict: only the apply that spends the pass lets the plan through.
    checked = _gate(store, policy, "author", clock, verdict=HARD).settlement
    assert checked.verdict.decision is Decision.DENY
    assert checked.break_glass is None
    assert f"BREAK-GLASS pass {grant.id} by oncall@example.com (outage: restore DNS) is ready" in checked.notes[0]
    settled = _gate(store, policy, "author", clock, verdict=HARD, applying=True).settlement
    assert settled.verdict.decision is Decision.ALLOW
    assert settled.break_glass == grant
    assert "BREAK-GLASS by oncall@example.com: outage: restore DNS" in settled.notes[0]
    # A holder who is no longer allowed to break glass: the pass is ignored, and said to be.
    demoted = _gate(store, ApprovalPolicy(), "author", clock, verdict=HARD, applying=True).settlement
    assert demoted.verdict.decision is Decision.DENY
    assert "no longer allowed to break glass" in demoted.notes[0]

    approvals.use_break_glass(store, grant, "author", clock.now)
    with pytest.raises(DeniedError, match="already used"):
        approvals.use_break_glass(store, grant, "author", clock.now)
    assert (
        _gate(store, policy, "author", clock, verdict=HARD, applying=True).settlement.verdict.decision is Decision.DENY
    )

    late = approvals.break_glass(store, policy, fp, "oncall@example.com", reason="again", now=clock.now)
    clock.advance(timedelta(hours=1))
    assert (
        _gate(store, policy, "author", clock, verdict=HARD, applying=True).settlement.verdict.decision is Decision.DENY
    )
    with pytest.raises(DeniedError, match="expired"):
        approvals.use_break_glass(store, late, "author", clock.now)
    kinds = [e.kind for e in audit.list_events(store)]
    assert kinds.count("break-glass") == 2
    assert kinds.count("break-glass-used") == 1
    assert audit.verify(store).ok


def test_nobody_may_break_glass_unless_configured_and_ttl_is_bounded() -> None:
    from guardrail.core.approvals import ensure_can_break_glass

    with pytest.raises(ApprovalRefusedError, match="nobody"):
        ensure_can_break_glass(ApprovalPolicy(), "root", "why", timedelta(hours=1))
    with pytest.raises(BadInputError, match="ttl"):
        ensure_can_break_glass(ApprovalPolicy(break_glass=frozenset({"a"})), "a", "why", timedelta(days=2))
    with pytest.raises(BadInputError, match="at least 1"):
        ApprovalPolicy(required=0)


# -- signed approvals with real ssh-keygen ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        pytest.skip("ssh-keygen not found: install OpenSSH's client tools (openssh-client)")
    return found


def _key(ssh_keygen: str, folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run([ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def _sign(ssh_keygen: str, key: Path, message: bytes, namespace: str = "guardrail-approval") -> str:
    done = subprocess.run(
        [ssh_keygen, "-Y", "sign", "-f", str(key), "-n", namespace], input=message, capture_output=True, check=True
    )
    return done.stdout.decode()


@pytest.fixture
def signers(ssh_keygen: str, tmp_path: Path) -> tuple[SshSignatureVerifier, Path, Path]:
    alice, mallory = _key(ssh_keygen, tmp_path, "alice"), _key(ssh_keygen, tmp_path, "mallory")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"alice@example.com {Path(str(alice) + '.pub').read_text().strip()}\n")
    return SshSignatureVerifier(allowed), alice, mallory


def test_signed_approvals(store: SqlStore, clock: FakeClock, ssh_keygen: str, signers) -> None:  # type: ignore[no-untyped-def]
    verifier, alice, mallory = signers
    policy = ApprovalPolicy(signatures_required=True)
    fp = _plan().fingerprint
    _gate(store, policy, "author", clock, verifier=verifier)
    with pytest.raises(InvalidSignatureError, match="signatures are required"):
        approvals.approve(store, policy, fp, "alice@example.com", clock.now, verifier=verifier)
    forged = _sign(ssh_keygen, mallory, signed_message(fp))
    with pytest.raises(InvalidSignatureError, match="does not verify"):
        approvals.approve(store, policy, fp, "alice@example.com", clock.now, signature=forged, verifier=verifier)
    other_plan = _sign(ssh_keygen, alice, signed_message("sha256:" + "b" * 64))
    with pytest.raises(InvalidSignatureError):
        approvals.approve(store, policy, fp, "alice@example.com", clock.now, signature=other_plan, verifier=verifier)
    wrong_namespace = _sign(ssh_keygen, alice, signed_message(fp), namespace="git")
    with pytest.raises(InvalidSignatureError):
        approvals.approve(
            store, policy, fp, "alice@example.com", clock.now, signature=wrong_namespace, verifier=verifier
        )

    good = _sign(ssh_keygen, alice, signed_message(fp))
    approvals.approve(store, policy, fp, "alice@example.com", clock.now, signature=good, verifier=verifier)
    assert _gate(store, policy, "author", clock, verifier=verifier).settlement.verdict.decision is Decision.ALLOW
    with pytest.raises(BadInputError, match="allowed_signers"):
        _gate(store, policy, "author", clock)

    # A signature swapped in the store behind guardrail's back: the approval's event says otherwise, so
    # the store is refused outright (exit 3), before the signature is even looked at.
    import sqlalchemy as sa

    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE approvals SET signature = :s"), {"s": forged})
    with pytest.raises(StoreError, match=r"approval of .* by alice@example\.com: its event \d+ says otherwise"):
        _gate(store, policy, "author", clock, verifier=verifier)


def test_a_missing_allowed_signers_file_is_bad_input(tmp_path: Path, ssh_keygen: str) -> None:
    verifier = SshSignatureVerifier(tmp_path / "nope")
    with pytest.raises(BadInputError, match="allowed_signers"):
        verifier.verify("a", b"m", "-----BEGIN SSH SIGNATURE-----\n")


def test_a_signed_break_glass_pass_is_verified_again_whenever_it_would_count(  # type: ignore[no-untyped-def]
    store: SqlStore, clock: FakeClock, ssh_keygen: str, signers
) -> None:
    import sqlalchemy as sa

    from guardrail.core.approvals import BREAK_GLASS_NAMESPACE

    approval_verifier, alice, mallory = signers
    verifier = SshSignatureVerifier(approval_verifier.allowed_signers, BREAK_GLASS_NAMESPACE)
    policy = ApprovalPolicy(signatures_required=True, break_glass=frozenset({"alice@example.com"}))
    fp = _plan().fingerprint
    _gate(store, policy, "author", clock, verdict=HARD, verifier=approval_verifier)
    signed = _sign(ssh_keygen, alice, signed_message(fp), namespace="guardrail-break-glass")  # as the README says
    grant = approvals.break_glass(
        store, policy, fp, "alice@example.com", reason="outage", now=clock.now, signature=signed, verifier=verifier
    )
    assert grant.signature == signed.strip()

    def applying() -> Settlement:
        return _gate(
            store,
            policy,
            "author",
            clock,
            verdict=HARD,
            verifier=approval_verifier,
            applying=True,
            break_glass_verifier=verifier,
        ).settlement

    assert applying().break_glass == grant
    # Written into the store behind guardrail's back: a pass without, or with someone else's, signature.
    # Its event says otherwise: the store is refused (exit 3), the pass never counts.
    forged = _sign(ssh_keygen, mallory, signed_message(fp), namespace=BREAK_GLASS_NAMESPACE)
    for tampered, fact in ((None, "signed"), (forged, "signature")):
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE break_glass SET signature = :s"), {"s": tampered})
        with pytest.raises(StoreError, match=rf"break-glass pass {grant.id}: its event \d+ says otherwise \({fact}\)"):
            applying()
