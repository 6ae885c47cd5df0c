"""Approvals of a rollout step (`rollout.approve_after_canary`), in the store beside every plan's: the
step's fingerprint is checked once (its author is the rollout's actor, who therefore cannot approve it),
then `guardrail approve FINGERPRINT` by others counts as for any plan, signatures included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guardrail.core.approvals import ApprovalPolicy
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.store_ports import ApprovalStore, SignatureVerifier
from guardrail.services.approvals import approval_status


@dataclass(frozen=True)
class StoredApprovals:
    """StepApprovals (services/rollout.py) kept in the store."""

    store: ApprovalStore
    policy: ApprovalPolicy
    verifier: SignatureVerifier | None = None

    def request(self, fingerprint: str, actor: str, at: datetime, payload: Mapping[str, Any]) -> None:
        if self.store.plan_author(fingerprint) is not None:
            return  # asked before (by a process that was killed since)
        check = {**payload, "verdict": "needs-approval", "reason": "widening past the canary needs approval"}
        # The step's author is whoever asks first: a second asker (a resumed run) finds it and records nothing.
        event = EventDraft(actor, EventKind.CHECK, check, fingerprint)
        self.store.record_check(fingerprint, actor, at, event, author=actor)

    def approvers(self, fingerprint: str) -> tuple[str, ...] | None:
        status = approval_status(self.store, self.policy, fingerprint, self.verifier)
        return status.approvers if status.satisfied else None


class Unattended:
    """A rehearsal's approvals: nobody to ask, every step counts as approved by the rehearsal itself."""

    def request(self, fingerprint: str, actor: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Nothing to record."""

    def approvers(self, fingerprint: str) -> tuple[str, ...] | None:
        return ("rehearsal",)
