"""Approval before widening past the canary (`rollout.approve_after_canary`).

Once the first canary is measured and the load gate lets the widening through, the rollout waits in
AWAITING_APPROVAL, still observing and judging every gate (a failing gate rolls back as ever). The step it
waits for has a fingerprint of its own, which people approve with `guardrail approve`; the loop tells the
engine when the approvals suffice, and the engine decides again (a fresh projection) before widening.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrail.core.audit import canonical_json
from guardrail.core.fingerprint import fingerprint
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.state import Approved, Note, Phase, RolloutState


def needs_approval(s: RolloutState, policy: RolloutPolicy) -> bool:
    """Whether the next widening waits for approvals: past a measured canary, not approved yet."""
    return policy.approve_after_canary and not s.approved_by and bool(s.points)


def await_approval(s: RolloutState, decision: Mapping[str, Any], notes: list[Note]) -> None:
    """Hold the widening `decision` (its widen_to and projection) until it is approved."""
    s.phase = Phase.AWAITING_APPROVAL
    s.awaiting = dict(decision["widen_to"])
    notes.append(Note("decision", {"decision": "await-approval", **decision}))


def approved(s: RolloutState, event: Approved, notes: list[Note]) -> None:
    s.phase, s.awaiting = Phase.ROLLING, None
    s.approved_by = list(event.approvers)
    notes.append(Note("decision", {"decision": "approved", "by": list(event.approvers)}))


def widening_fingerprint(run_id: str, workload: str, widen_to: Mapping[str, Any]) -> str:
    """The fingerprint people approve: this run's widening of `workload` to `widen_to` (cluster, step,
    nodes). Another run, or another step, has another fingerprint."""
    return fingerprint(
        [
            ("rollout-run", run_id.encode()),
            ("rollout-workload", workload.encode()),
            ("rollout-widen-to", canonical_json(dict(widen_to)).encode()),
        ]
    )
