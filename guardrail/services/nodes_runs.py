"""Real node cycles: `guardrail nodes cycle`, `status`, `pause`, `resume` and `abort`, and the Nodes screen.

A cycle passes the gate first (services.review.settle, as every plan does: the locks on its Nodes, the
approvals of its fingerprint when `nodes.approve_before_cycle` asks for them, a pre-flight finding it
would halt on), then starts as a run in the store and is driven by the loop of services.nodes_cycle with
the clock it is given. Pause and abort are requests in the store that the driving process honours between
actions; resume drives a paused or interrupted cycle again from the store, from its last completed phase.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guardrail.config import Settings
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.clock import Clock, SystemClock
from guardrail.core.errors import BadInputError
from guardrail.core.nodes.ending import close_idle
from guardrail.core.nodes.records import Outcome
from guardrail.core.nodes.report import CycleReport, cycle_report
from guardrail.core.nodes.state import CycleState
from guardrail.core.report import CheckReport
from guardrail.core.runs import RunConflictError, RunKind, RunRecord, RunRequest, RunStatus, RunStore, StoreWithRuns
from guardrail.core.verdict import Decision, Verdict
from guardrail.services import wiring
from guardrail.services.approvals import use_break_glass
from guardrail.services.nodes_act import Hands
from guardrail.services.nodes_cycle import CycleContext, drive_cycle, node_cycle, request_cycle, start_cycle
from guardrail.services.nodes_plan import PoolPlan, PoolTarget, replacer_for, review_pool
from guardrail.services.review import Reviewed, settle
from guardrail.services.store import actor as current_actor


@dataclass(frozen=True)
class CycleView:
    """A node cycle as the store keeps it, and its report; `problem` says why there is none (a state this
    version cannot read)."""

    record: RunRecord
    state: CycleState | None
    report: CycleReport | None
    problem: str | None = None

    @property
    def exit_code(self) -> int:
        """0 completed or paused (nothing failed), 1 halted or aborted."""
        return 0 if self.record.status in (RunStatus.COMPLETED, RunStatus.PAUSED, RunStatus.RUNNING) else 1


@dataclass(frozen=True)
class CycleOutcome:
    """A cycle asked for: its plan, what the gate said, and the run (None when the gate did not let it
    start: refused by a lock, or waiting for approval)."""

    plan: PoolPlan
    reviewed: Reviewed
    view: CycleView | None

    @property
    def exit_code(self) -> int:
        """1 refused or halted, 2 waiting for approval, else the run's (see CycleView.exit_code)."""
        if self.view is None:
            return 2 if self.reviewed.report.verdict.decision is Decision.NEEDS_APPROVAL else 1
        return self.view.exit_code


def cycle_pool(
    target: PoolTarget,
    settings: Settings,
    store_url: str | None,
    *,
    clock: Clock | None = None,
    started: Callable[[CycleView], None] | None = None,
) -> CycleOutcome:
    """Plan the cycle, pass it through the gate, and when it may go, keep it as a run and drive it to its
    end (`started` is told of the run first). Raises what plan_pool raises, RunConflictError (exit 1) when
    a cycle of the pool is active, DeniedError when a break-glass pass was spent meanwhile."""
    clock = clock or SystemClock()
    cluster = wiring.cluster(target.context, target.kubeconfig)
    store = wiring.run_store(settings, store_url)
    try:
        plan = review_pool(target, settings, cluster, clock, store)
        who = current_actor()
        unsettled = CheckReport(plan.changeset, Verdict.of(plan.findings))
        reviewed = settle(store, unsettled, settings, who, clock.now(), applying=True)
        if reviewed.report.verdict.decision is not Decision.ALLOW:
            return CycleOutcome(plan, reviewed, None)
        grant = reviewed.gate.settlement.break_glass
        if grant is not None:
            use_break_glass(store, grant, who, clock.now())
        context = CycleContext(Hands(cluster, replacer_for(cluster, target, settings), clock), store, who)
        details = {"cluster": cluster.name, "replace_command": target.replace_command, "fingerprint": plan.fingerprint}
        record = start_cycle(context, plan.cycle, details=details)
        if started is not None:
            started(view_of(record))
        return CycleOutcome(plan, reviewed, view_of(drive_cycle(context, record.id)))
    finally:
        store.close()


def resume_pool_cycle(
    run_id: str,
    settings: Settings,
    store_url: str | None,
    *,
    context: str | None = None,
    kubeconfig: str | None = None,
    clock: Clock | None = None,
) -> CycleView:
    """Drive a paused or interrupted cycle again, on the cluster and with the replace command it started
    with (from its start event), from its last completed phase. A halted cycle is left as it is (a person
    decides: abort frees the pool). Raises BadInputError for an unknown, ended or unreadable run or another
    cluster than its own, RunConflictError when another process moved it meanwhile."""
    store = wiring.run_store(settings, store_url)
    try:
        record = node_cycle(store, run_id)
        view = view_of(record)
        if not record.status.active:
            raise BadInputError(f"run {run_id} has ended ({record.status.value}): nothing to resume")
        if view.state is None:
            raise BadInputError(f"run {run_id}: {view.problem}")
        if view.state.outcome is not None:
            return view
        start = start_details(store, run_id)
        recorded = start.get("cluster")
        if context is not None and isinstance(recorded, str) and context != recorded:
            raise BadInputError(f"run {run_id} cycles a pool of {recorded}, not of {context}")
        cluster = wiring.cluster(context or (recorded if isinstance(recorded, str) else None), kubeconfig)
        command = start.get("replace_command")
        target = PoolTarget(view.state.pool, replace_command=command if isinstance(command, str) else None)
        who = current_actor()
        hands = Hands(cluster, replacer_for(cluster, target, settings), clock or SystemClock())
        if record.status is RunStatus.PAUSED and record.requested is not RunRequest.ABORT:
            request_cycle(store, run_id, RunRequest.RESUME, who)
        return view_of(drive_cycle(CycleContext(hands, store, who), run_id))
    finally:
        store.close()


def cycle_views(store: RunStore) -> list[CycleView]:
    """Every node cycle in the store, newest first."""
    return [view_of(record) for record in reversed(store.runs(RunKind.NODE_CYCLE))]


def cycle_view(store: RunStore, run_id: str) -> CycleView:
    """One node cycle. Raises BadInputError when there is no such node cycle."""
    return view_of(node_cycle(store, run_id))


def pause_cycle(store: RunStore, run_id: str, actor: str) -> CycleView:
    """Ask the cycle to pause: no node starts any more; the nodes in hand finish. Raises BadInputError for
    an unknown or ended run."""
    node_cycle(store, run_id)
    return view_of(request_cycle(store, run_id, RunRequest.PAUSE, actor))


def ask_resume(store: RunStore, run_id: str, actor: str) -> CycleView:
    """Ask a paused cycle to carry on; the process driving it does (if none does any more, `guardrail nodes
    resume ID` drives it). Raises BadInputError for an unknown or ended run, or one that is not paused."""
    record = node_cycle(store, run_id)
    if record.status is not RunStatus.PAUSED and record.requested is not RunRequest.PAUSE:
        raise BadInputError(f"run {run_id} is {record.status.value}, not paused: nothing to resume")
    return view_of(request_cycle(store, run_id, RunRequest.RESUME, actor))


def abort_cycle(store: RunStore, run_id: str, actor: str) -> CycleView:
    """Abort the cycle. With nodes in hand the request waits for the process driving it, which hands back
    the nodes not yet replaced; with none in hand (paused between nodes, or halted) the cycle ends here, at
    once, and frees the pool. Raises BadInputError for an unknown or ended run."""
    node_cycle(store, run_id)
    record = request_cycle(store, run_id, RunRequest.ABORT, actor)
    view = view_of(record)
    closed = close_idle(view.state) if view.state is not None else None
    if closed is None:
        return view
    state, events = closed
    drafts = [EventDraft(actor, e.kind.value, {"run": run_id, **e.payload}) for e in events]
    try:
        saved = store.save_step(
            run_id,
            expected_step=record.step,
            step=record.step + 1,
            status=RunStatus.ABORTED,
            state=state.to_json(),
            event=drafts[0],
            more_events=drafts[1:],
            clear_request=True,
        )
    except RunConflictError:
        # The process driving it moved first: it honours the request at its next step.
        return cycle_view(store, run_id)
    return view_of(saved)


def view_of(record: RunRecord) -> CycleView:
    try:
        state = CycleState.from_json(record.state)
    except ValueError as exc:
        return CycleView(record, None, None, str(exc))
    return CycleView(record, state, cycle_report(state))


def start_details(store: StoreWithRuns, run_id: str) -> Mapping[str, Any]:
    """The start event of the run: its cluster and replace command. Raises BadInputError when the audit log
    does not have it (a resumed cycle must not guess how machines are replaced)."""
    for event in store.events():
        if event.kind != EventKind.NODE_CYCLE_START:
            continue
        try:
            payload = event.payload
        except ValueError:
            continue  # a damaged event: `guardrail audit verify` names it
        if isinstance(payload, dict) and payload.get("run") == run_id:
            return payload
    raise BadInputError(f"run {run_id}: its start is not in the audit log: cannot tell how it replaces machines")


def halted(view: CycleView) -> bool:
    """Whether the cycle stopped on a failure and waits for a person."""
    return view.state is not None and view.state.outcome is Outcome.HALTED
