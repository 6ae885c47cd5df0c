"""Long-running changes that advance step by step and survive the process: fleet rollouts and node-pool
cycles. A run's state is saved after every step, so a killed process resumes where it stopped, and
another terminal can ask it to pause or abort.

Pure records and the store port; the engines (core/rollout, core/nodes) decide, the services loop.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from guardrail.core.audit import AuditEvent, EventDraft
from guardrail.core.errors import DeniedError
from guardrail.core.store_ports import Store


class RunKind(StrEnum):
    ROLLOUT = "rollout"
    NODE_CYCLE = "node-cycle"


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"  # a gate or budget failed: stopped where it was, waiting for a person
    AWAITING_APPROVAL = "awaiting-approval"  # held before a step that people must approve (still watched)
    COMPLETED = "completed"
    ROLLED_BACK = "rolled-back"
    ABORTED = "aborted"

    @property
    def active(self) -> bool:
        """Whether the run still holds its subject: no other run of the same subject may start."""
        return self in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.HALTED, RunStatus.AWAITING_APPROVAL)


class RunRequest(StrEnum):
    """What a person asked of a run from outside the process that drives it."""

    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"


class RunConflictError(DeniedError):
    """Another run holds the subject, or another process advanced this run meanwhile (exit 1)."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as stored. `state` is the engine's own plain-JSON state; `step` counts completed steps."""

    id: str
    kind: RunKind
    subject: str  # what it changes (objects on clusters, a node pool): one active run per subject
    status: RunStatus
    step: int
    state: Mapping[str, Any]
    actor: str
    created_at: datetime
    updated_at: datetime
    requested: RunRequest | None = None  # asked from another terminal, not yet acted on


class RunStore(Protocol):
    """Where runs live. Every write appends its audit event in the same transaction. Raises StoreError."""

    def start_run(self, record: RunRecord, event: EventDraft) -> AuditEvent:
        """Keep a new run. Raises RunConflictError when an active run has the same subject."""
        ...

    def run(self, run_id: str) -> RunRecord | None:
        """The run with that id, or None."""
        ...

    def runs(self, kind: RunKind | None = None) -> list[RunRecord]:
        """Every run (of a kind), oldest first."""
        ...

    def save_step(
        self,
        run_id: str,
        *,
        expected_step: int,
        step: int,
        status: RunStatus,
        state: Mapping[str, Any],
        event: EventDraft,
        clear_request: bool = False,
        more_events: Sequence[EventDraft] = (),
    ) -> RunRecord:
        """Save the run's progress if its stored step is still `expected_step` (compare-and-set), and
        clear an acted-on request when asked. `more_events` are the step's further audit events (a node
        cycle's step finishes several phases at once), appended after `event` in the same transaction.
        Raises RunConflictError when another process moved it."""
        ...

    def request(self, run_id: str, request: RunRequest, event: EventDraft) -> RunRecord:
        """Ask the run to pause, resume or abort. Raises BadInputError when there is no such run or it has
        ended."""
        ...

    def run_events(self, kinds: Collection[str], after_seq: int = 0) -> Iterator[AuditEvent]:
        """The audit events of these kinds (those runs record) with seq > `after_seq`, in seq order, as
        stored: what a plan reads of earlier runs without reading the rest of a long log. Raises StoreError."""
        ...


class StoreWithRuns(RunStore, Store, Protocol):
    """The whole store with its runs: what a real rollout or node cycle keeps beside its run (the locks and
    approvals the gate settles with, the approvals a step waits for, the audit log they all share). Raises
    StoreError as every store does; `close()` releases it."""
