"""An operator's session: the services the TUI calls, bound to one configuration, store, actor and clock.

Every method is one service call (check, gate, locks, approvals, audit) and may block: the TUI runs them
in worker threads. Errors are raised as the services raise them; the TUI shows them and keeps going.
The store is opened on first use and a failure to open it is retried on the next call, so a store that
comes back is picked up without restarting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.config import Settings
from guardrail.core.approvals import Approval, ApprovalStatus, BreakGlass
from guardrail.core.audit import AuditEvent, ChainReport, EventFilter, EventKind
from guardrail.core.errors import BadInputError, StoreError
from guardrail.core.locks import Lock, LockTarget, split_workspace_lock_name
from guardrail.core.report import CheckReport
from guardrail.core.rollback.plan import RollbackPlan
from guardrail.core.runs import RunRecord, StoreWithRuns
from guardrail.services import approvals, audit, locks, nodes_runs
from guardrail.services.check import CheckRequest, check
from guardrail.services.nodes_runs import CycleView
from guardrail.services.review import settle as settle_review
from guardrail.services.rollback import RollbackApplied, RollbackRequest, apply_rollback, plan_rollback
from guardrail.services.store import actor as configured_actor
from guardrail.services.store import open_configured_store, signature_verifier

if TYPE_CHECKING:  # loaded when the Rollouts or Nodes screen asks, not when the app starts
    from guardrail.core.rollout.rehearsal import RehearsalReport
    from guardrail.services.nodes_rehearse import Rehearsal
    from guardrail.services.rollout_status import RunView

Clock = Callable[[], datetime]
# The audit browser lists the newest events first and stops here: a filter narrows further.
MAX_EVENTS = 2000
_CLOSED = "the session is closed"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, eq=False)
class Review:
    """A checked plan: the verdict as the rules gave it and as approvals, break-glass and locks settle it.

    Without a store (`store_problem` says why) locks are not checked and approvals not counted: `report`
    is then the rules' verdict alone and the TUI says so.
    """

    plan: Path
    unsettled: CheckReport
    report: CheckReport
    author: str | None = None
    actor: str | None = None  # who checked it: the identity approvals and break-glass will be recorded under
    status: ApprovalStatus | None = None
    passes: tuple[BreakGlass, ...] = ()
    store_problem: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.report.changeset.fingerprint


@dataclass(frozen=True)
class EventPage:
    """The newest events matching a filter, newest first, and how many matched in all."""

    events: tuple[AuditEvent, ...]
    total: int


@dataclass(eq=False)
class _Opening:
    """One attempt at opening the store: done, and with the error when it failed."""

    done: bool = False
    error: BaseException | None = None


@dataclass
class OperatorSession:
    """The services, bound to settings, a store URL (None: the configured one), an actor and a clock."""

    settings: Settings
    store_url: str | None = None
    terraform_bin: str | None = None
    clock: Clock = utc_now
    actor: Callable[[], str] = configured_actor
    open_store: Callable[[str | None, Settings], StoreWithRuns] = open_configured_store
    # What `tui --rehearse` named: a simulated fleet for the Rollouts screen, simulated pools for the Nodes screen.
    fleet_file: Path | None = None
    pool_files: tuple[Path, ...] = ()
    _store: StoreWithRuns | None = field(default=None, init=False, repr=False)
    _opening: _Opening | None = field(default=None, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)
    # Guards the three above; callers wait on it for an opening to finish or the session to close.
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)

    def store(self) -> StoreWithRuns:
        """The store, opened on first use. Raises StoreError when it cannot be opened or the session is closed.

        The store is opened in a thread of its own that every caller waits for, until it is done or the
        session is closed: an opening can take up to the connect timeout (a server that accepts but never
        answers), and neither quitting the app nor exiting the interpreter waits for it.
        """
        with self._changed:
            self._check_open()
            if self._store is not None:
                return self._store
            attempt = self._opening
            if attempt is None:
                attempt = self._opening = _Opening()
                threading.Thread(target=self._open, args=(attempt,), name="store-open", daemon=True).start()
            self._changed.wait_for(lambda: attempt.done or self._closed)
            self._check_open()
            if self._store is None:
                raise attempt.error or StoreError("the store could not be opened")
            return self._store

    def close(self) -> None:
        """Close the store, at once even while it is still being opened: the opening thread then closes the
        store it opened itself. Every later call raises StoreError."""
        with self._changed:
            self._closed = True
            store, self._store = self._store, None
            self._changed.notify_all()
        if store is not None:
            store.close()

    def _open(self, attempt: _Opening) -> None:
        opened: StoreWithRuns | None = None
        try:
            opened = self.open_store(self.store_url, self.settings)
        except BaseException as error:  # handed to the callers waiting for it: nobody else would see it
            attempt.error = error
        finally:
            with self._changed:
                attempt.done = True
                self._opening = None  # a failure is retried on the next call
                closed = self._closed
                if opened is not None and not closed:
                    self._store = opened
                self._changed.notify_all()
        if opened is not None and closed:  # closed while it was being opened: nobody else will close this one
            opened.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(_CLOSED)

    # -- review ---------------------------------------------------------------------------------------

    def review(self, plan: Path) -> Review:
        """Check the plan, then settle it against locks and approvals (when the store is reachable).

        Raises BadInputError for a bad plan or configuration, CommandError when terraform fails or is missing.
        """
        # A long-running app opens many plans: the parse must not pin them in memory (see parse_plan).
        report = check(CheckRequest(plan=plan, settings=self.settings, terraform_bin=self.terraform_bin, freeze=False))
        return self.settle(plan, report)

    def settle(self, plan: Path, unsettled: CheckReport) -> Review:
        """The checked plan against the locks active now and its approvals; records the check (the gate)."""
        try:
            store = self.store()
            actor = self.actor()
            reviewed = settle_review(store, unsettled, self.settings, actor, self.clock())
        except StoreError as error:
            return Review(plan, unsettled, unsettled, store_problem=str(error))
        gate = reviewed.gate
        return Review(plan, unsettled, reviewed.report, gate.author, actor, gate.status, gate.passes)

    # -- locks ----------------------------------------------------------------------------------------

    def locks(self, *, include_inactive: bool = False) -> list[Lock]:
        return locks.list_locks(self.store(), self.clock(), include_inactive=include_inactive)

    def add_lock(self, target: LockTarget, pattern: str, reason: str, expires_in: timedelta | None) -> Lock:
        """Raises BadInputError for an empty pattern or reason or a bad tag, StoreError."""
        chosen = {target.value: pattern}
        return locks.add_lock(
            self.store(),
            self.actor(),
            self.clock(),
            reason=reason,
            address=chosen.get(LockTarget.ADDRESS.value),
            type_=chosen.get(LockTarget.TYPE.value),
            tag=chosen.get(LockTarget.TAG.value),
            expires_in=expires_in,
        )

    def release_lock(self, lock_id: str, reason: str) -> Lock:
        return locks.release_lock(self.store(), self.actor(), lock_id, reason, self.clock())

    # -- approvals ------------------------------------------------------------------------------------

    def approve(self, fingerprint: str, comment: str) -> Approval:
        """Raises ApprovalRefusedError (the author, not an approver), InvalidSignatureError, BadInputError."""
        policy = self.settings.approvals.policy()
        verifier = signature_verifier(self.settings)
        return approvals.approve(
            self.store(), policy, fingerprint, self.actor(), self.clock(), comment=comment, verifier=verifier
        )

    def break_glass(self, fingerprint: str, reason: str, ttl: timedelta) -> BreakGlass:
        """Raises ApprovalRefusedError (not allowed to), BadInputError (no reason, ttl out of range)."""
        policy = self.settings.approvals.policy()
        return approvals.break_glass(
            self.store(), policy, fingerprint, self.actor(), reason=reason, now=self.clock(), ttl=ttl
        )

    # -- audit ----------------------------------------------------------------------------------------

    def events(self, selection: EventFilter | None = None, limit: int = MAX_EVENTS) -> EventPage:
        matching = list(audit.list_events(self.store(), selection))
        newest = tuple(islice(reversed(matching), limit))
        return EventPage(newest, len(matching))

    def event(self, seq: int) -> AuditEvent:
        return audit.show(self.store(), seq)

    def verify(self) -> ChainReport:
        return audit.verify(self.store())

    # -- rollback -------------------------------------------------------------------------------------

    def rollback_plan(self, seq: int) -> RollbackPlan:
        """Plan the rollback of the apply whose apply-end event is `seq` (back to the commit of the apply
        before it). Raises BadInputError (not a successful apply, not in a repository), CommandError."""
        return plan_rollback(self._rollback_request(seq), actor=self.actor())

    def rollback_apply(self, seq: int) -> RollbackApplied:
        """Plan that rollback again, apply it through the gate and verify it (see apply_rollback)."""
        return apply_rollback(self._rollback_request(seq), actor=self.actor())

    def _rollback_request(self, seq: int) -> RollbackRequest:
        event = audit.show(self.store(), seq)
        payload = event.payload if event.kind == EventKind.APPLY_END else None
        workspace = payload.get("workspace") if isinstance(payload, dict) else None
        split = split_workspace_lock_name(workspace) if isinstance(workspace, str) else None
        if split is None:
            raise BadInputError(f"audit event {seq} is not the end of an apply: nothing to roll back")
        directory = Path(split[0])
        return RollbackRequest(
            directory, self.settings, store=self.store_url, terraform_bin=self.terraform_bin, undo_seq=seq
        )

    # -- rollouts -------------------------------------------------------------------------------------

    def rollouts(self) -> list[RunView]:
        """Every rollout, newest first, as people follow them."""
        from guardrail.services.rollout_runs import rollout_status

        return rollout_status(self.store())

    def pause_rollout(self, run_id: str) -> RunRecord:
        """Ask the process that drives the rollout to pause. Raises BadInputError (no such run, ended)."""
        from guardrail.core.runs import RunRequest
        from guardrail.services.rollout_runs import request_rollout

        return request_rollout(self.store(), run_id, RunRequest.PAUSE)

    def resume_rollout(self, run_id: str) -> RunRecord:
        """Drive the rollout here until it ends or pauses (this blocks: run it on a thread of its own).
        Raises BadInputError, DeniedError (a live process drives it), ClusterError."""
        from guardrail.services.rollout_runs import resume_rollout

        return resume_rollout(self.store(), run_id, self.settings)

    def abort_rollout(self, run_id: str) -> RunRecord:
        """Abort the rollout: its driver rolls it back, or this call does when nobody drives it (then it
        blocks until the rollback is verified or not)."""
        from guardrail.services.rollout_runs import abort_rollout

        return abort_rollout(self.store(), run_id, self.settings)

    def rehearse_fleet(self, fleet: Path) -> tuple[RehearsalReport, RehearsalReport]:
        """The fleet file rehearsed guarded and naive (simulated: nothing is touched, nothing recorded)."""
        from guardrail.core.rollout.rehearsal import Strategy
        from guardrail.services.rollout_rehearse import rehearse

        return rehearse(fleet, Strategy.GUARDED), rehearse(fleet, Strategy.NAIVE)

    # -- node cycles ----------------------------------------------------------------------------------

    def node_cycles(self) -> list[CycleView]:
        """Every node cycle in the store, newest first."""
        return nodes_runs.cycle_views(self.store())

    def pause_cycle(self, run_id: str) -> CycleView:
        """Raises BadInputError for an unknown or ended cycle."""
        return nodes_runs.pause_cycle(self.store(), run_id, self.actor())

    def resume_cycle(self, run_id: str) -> CycleView:
        """Ask a paused cycle to carry on. Raises BadInputError for one that is not paused."""
        return nodes_runs.ask_resume(self.store(), run_id, self.actor())

    def abort_cycle(self, run_id: str) -> CycleView:
        """Raises BadInputError for an unknown or ended cycle."""
        return nodes_runs.abort_cycle(self.store(), run_id, self.actor())

    def rehearse_pool(self, pool_file: Path) -> Rehearsal:
        """Cycle a simulated pool with the engine, in simulated time (nothing is stored). Raises BadInputError
        (ConfigError) for a bad pool file."""
        from guardrail.config.pool_file import load_pool_file
        from guardrail.services.nodes_rehearse import rehearse

        return rehearse(load_pool_file(pool_file), self.settings.nodes)
