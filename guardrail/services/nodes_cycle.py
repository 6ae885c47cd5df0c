"""Node-pool cycles: plan one (strata, budgets, pre-flight), start it, and drive it step by step.

The loop is observe -> decide -> save -> act -> settle -> save -> wait. The state is saved before the
actions of a step are carried out, so a process killed at any point resumes from the store without
repeating a phase that completed: every phase is confirmed by what the cluster shows (see
core.nodes.progress). Pause and abort requests, made from another terminal, are honoured at the next step.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from guardrail.core.audit import AuditEvent, EventDraft, EventKind
from guardrail.core.errors import BadInputError, ClusterUnreachableError
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.nodes.actions import CycleEvent
from guardrail.core.nodes.engine import abort, decide, pause, resume, settle, watched
from guardrail.core.nodes.history import HISTORY_KINDS, PoolHistory, pool_history
from guardrail.core.nodes.planner import plan_cycle
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.preflight import PreflightFinding, preflight
from guardrail.core.nodes.records import Outcome
from guardrail.core.nodes.settings import CycleSettings
from guardrail.core.nodes.state import CycleState
from guardrail.core.runs import RunKind, RunRecord, RunRequest, RunStatus, RunStore
from guardrail.services.nodes_act import Hands, act, observe, with_pod_logs
from guardrail.services.run_ids import new_run_id

_STATUS = {Outcome.COMPLETED: RunStatus.COMPLETED, Outcome.HALTED: RunStatus.HALTED, Outcome.ABORTED: RunStatus.ABORTED}


@dataclass(frozen=True)
class CycleContext:
    """What a cycle runs with: hands on the pool, the run store and who is acting."""

    hands: Hands
    store: RunStore
    actor: str
    max_unreachable: int = 20  # consecutive unanswered reads of the cluster before the loop gives up


@dataclass(frozen=True)
class CyclePlan:
    """A planned cycle: its first state, the pre-flight findings, what it holds (one run at a time), the
    pool's nodes as they were read, and what earlier cycles said (None: no audit log was read)."""

    state: CycleState
    preflight: tuple[PreflightFinding, ...]
    subject: str
    nodes: tuple[NodeInfo, ...] = ()
    history: PoolHistory | None = None


class EventLog(Protocol):
    """Where earlier cycles left their audit events (the store, or a rehearsal's store)."""

    def run_events(self, kinds: Collection[str], after_seq: int = 0) -> Iterator[AuditEvent]:
        """The events of these kinds, in seq order (see RunStore.run_events). Raises StoreError."""
        ...


SUBJECT_PREFIX = "node-pool/"


def cycle_subject(cluster: str, pool: str) -> str:
    """What a cycle holds: one active cycle per pool of a cluster."""
    return f"{SUBJECT_PREFIX}{cluster}/{pool}"


def plan_pool_cycle(
    context: CycleContext, pool: PoolSelector, settings: CycleSettings, log: EventLog | None = None
) -> CyclePlan:
    """Read the pool and plan its cycle; nothing changes. The pre-flight reads earlier cycles of the pool
    from `log` when one is given. Raises BadInputError for a pool without nodes, ClusterUnreachableError,
    ClusterError, and StoreError when the log cannot be read."""
    return plan_on(context.hands, pool, settings, log)


def plan_on(hands: Hands, pool: PoolSelector, settings: CycleSettings, log: EventLog | None = None) -> CyclePlan:
    """plan_pool_cycle with only the hands on the pool: what a plan that keeps no run needs."""
    cluster = hands.cluster
    nodes = pool.select(cluster.nodes(pool.label_selector))
    state = plan_cycle(pool.text, nodes, settings, hands.clock.now().timestamp())
    subject = cycle_subject(cluster.name, pool.text)
    history = pool_history(log.run_events(HISTORY_KINDS), subject) if log is not None else None
    findings = preflight(state, {node.name: node for node in nodes}, history)
    return CyclePlan(state, tuple(findings), subject, tuple(nodes), history)


def start_cycle(
    context: CycleContext, plan: CyclePlan, run_id: str | None = None, details: Mapping[str, Any] | None = None
) -> RunRecord:
    """Keep the planned cycle as a new run (a fresh id unless given); `details` go into its start event
    (the cluster, how machines are replaced: what a resumed cycle needs again). Raises RunConflictError
    when a cycle of the pool is active."""
    now = context.hands.clock.now()
    state = plan.state
    record = RunRecord(
        id=run_id or new_run_id(RunKind.NODE_CYCLE),
        kind=RunKind.NODE_CYCLE,
        subject=plan.subject,
        status=RunStatus.RUNNING,
        step=0,
        state=state.to_json(),
        actor=context.actor,
        created_at=now,
        updated_at=now,
    )
    payload = {
        "run": record.id,
        "subject": plan.subject,
        "pool": state.pool,
        "strata": [
            {"stratum": s.key.describe(), "key": s.key.to_json(), "nodes": len(s.nodes), "gpus": s.gpus}
            for s in state.strata
        ],
        "total_gpus": state.total_gpus,
        "minimum_gpus": state.minimum_gpus,
        "capacity_floor": state.settings.capacity_floor,
        **(details or {}),
    }
    context.store.start_run(record, EventDraft(context.actor, EventKind.NODE_CYCLE_START.value, payload))
    return record


def request_cycle(store: RunStore, run_id: str, request: RunRequest, actor: str) -> RunRecord:
    """Ask a cycle to pause, resume or abort; the process driving it acts at its next step."""
    event = EventDraft(actor, EventKind.NODE_CYCLE_REQUEST.value, {"run": run_id, "request": request.value})
    return store.request(run_id, request, event)


def drive_cycle(context: CycleContext, run_id: str) -> RunRecord:
    """Drive the cycle until it ends (completed, halted, aborted) or is paused with nothing in hand.

    Raises BadInputError for an unknown or damaged run, RunConflictError when another process drives it,
    ClusterUnreachableError after `max_unreachable` unanswered reads in a row, ClusterError on a refused read.
    """
    record = node_cycle(context.store, run_id)
    try:
        state = CycleState.from_json(record.state)
    except ValueError as exc:
        raise BadInputError(f"run {run_id}: {exc}") from None
    pool = PoolSelector.parse(state.pool)
    hands, unanswered = context.hands, 0
    watch = watched(state)
    while True:
        record = node_cycle(context.store, run_id)
        if record.requested is not None:
            state, record = _honour(context, record, state)
        if state.outcome is not None:
            return record
        try:
            observation = observe(hands.cluster, pool, watch, hands.clock)
            decision = decide(state, observation)
            state, watch = decision.state, decision.watch
            if decision.changed:
                events = with_pod_logs(hands.cluster, state, decision.events)
                record = _save(context, record, state, events)
            results = act(hands, decision.actions)
        except ClusterUnreachableError:
            unanswered += 1
            if unanswered >= context.max_unreachable:
                raise
            hands.clock.sleep(state.settings.poll_interval)
            continue
        unanswered = 0
        state, settled = settle(state, results)
        if settled:
            record = _save(context, record, state, settled)
        if state.outcome is not None or (state.paused and not decision.watch):
            return record
        hands.clock.sleep(decision.wait)


def _honour(context: CycleContext, record: RunRecord, state: CycleState) -> tuple[CycleState, RunRecord]:
    request = record.requested
    if request is RunRequest.PAUSE:
        state = pause(state)
    elif request is RunRequest.RESUME:
        state = resume(state)
    elif request is RunRequest.ABORT:
        state = abort(state)
    event = CycleEvent(EventKind.NODE_DECISION, {"decision": f"honour-{request}", "by": record.actor})
    return state, _save(context, record, state, [event], clear_request=True)


def _status(state: CycleState) -> RunStatus:
    if state.outcome is not None:
        return _STATUS[state.outcome]
    return RunStatus.PAUSED if state.paused else RunStatus.RUNNING


def _save(
    context: CycleContext,
    record: RunRecord,
    state: CycleState,
    events: Sequence[CycleEvent],
    *,
    clear_request: bool = False,
) -> RunRecord:
    drafts = [EventDraft(context.actor, e.kind.value, {"run": record.id, **e.payload}) for e in events]
    if not drafts:
        drafts = [EventDraft(context.actor, EventKind.NODE_DECISION.value, {"run": record.id, "decision": "step"})]
    return context.store.save_step(
        record.id,
        expected_step=record.step,
        step=record.step + 1,
        status=_status(state),
        state=state.to_json(),
        event=drafts[0],
        more_events=drafts[1:],
        clear_request=clear_request,
    )


def node_cycle(store: RunStore, run_id: str) -> RunRecord:
    """The run, when it is a node cycle. Raises BadInputError otherwise."""
    record = store.run(run_id)
    if record is None:
        raise BadInputError(f"no node cycle {run_id}")
    if record.kind is not RunKind.NODE_CYCLE:
        raise BadInputError(f"run {run_id} is a {record.kind.value}, not a node cycle")
    return record
