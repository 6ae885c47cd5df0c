"""The loop that drives a rollout: observe -> decide -> act, with a clock and a run store.

The engine (guardrail.core.rollout.machine) decides; this loop carries out its actions through the
cluster port and records every step, measurement and decision in the store and the audit log. The run's
state is saved before every change to a cluster and after every recorded event, so a killed process
resumes with `drive` from where it stopped: an interrupted change is finished (changes are idempotent),
a completed one is never repeated. Pause and abort requested from another terminal are read from the
store between actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.rollout.approval import widening_fingerprint
from guardrail.core.rollout.machine import Transition, advance, new_state
from guardrail.core.rollout.manifests import workload_flow_schema
from guardrail.core.rollout.plan import ClusterPlan, plan_fleet
from guardrail.core.rollout.plan import ClusterTarget as PlannedCluster
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.promql import PromqlSource
from guardrail.core.rollout.state import (
    Acted,
    Action,
    ActionKind,
    Approved,
    Event,
    Mode,
    Observed,
    Outcome,
    Phase,
    Requested,
    RolloutState,
    Tick,
)
from guardrail.core.runs import RunKind, RunRecord, RunRequest, RunStatus, RunStore
from guardrail.services.rollout_act import ClusterTarget, capture, prepare, roll_back, widen
from guardrail.services.rollout_observe import ApiServerParser, DnsParser, observe

_NOTE_KINDS = {
    "step": EventKind.ROLLOUT_STEP,
    "measurement": EventKind.ROLLOUT_MEASUREMENT,
    "decision": EventKind.ROLLOUT_DECISION,
}


class StepApprovals(Protocol):
    """Where the approvals of a step that waits for them come from (see core/rollout/approval.py)."""

    def request(self, fingerprint: str, actor: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Make the step approvable (record its check, authored by `actor`), once. Raises StoreError."""
        ...

    def approvers(self, fingerprint: str) -> tuple[str, ...] | None:
        """Who approved the step when enough people did, else None. Raises StoreError."""
        ...


@dataclass(frozen=True)
class Rollout:
    """Everything the loop needs: the clusters and what goes on each, the policy, time and the store."""

    targets: Mapping[str, ClusterTarget]  # by cluster name
    policy: RolloutPolicy
    clock: Clock
    store: RunStore
    actor: str
    parse_apiserver: ApiServerParser
    parse_dns: DnsParser
    dns_cache_ttl: Mapping[str, float] | None = None  # seconds, by cluster: each cluster's node DNS cache
    approvals: StepApprovals | None = None  # None: nobody can approve here, a step that needs it waits
    prometheus: Mapping[str, PromqlSource] | None = None  # by cluster: where the PromQL gates are asked

    @property
    def workload(self) -> str:
        return next(iter(self.targets.values())).ref.address


def plan(
    targets: Mapping[str, ClusterTarget], policy: RolloutPolicy, dns_cache_ttl: Mapping[str, float] | None = None
) -> tuple[Mode, tuple[ClusterPlan, ...]]:
    """What a rollout to `targets` would do, from the clusters as they are: NEW (the DaemonSet exists
    nowhere) or UPDATE, and each cluster's steps, smallest cluster first. Changes nothing. Raises
    BadInputError when the DaemonSet exists on some clusters only, ClusterError when one does not answer."""
    exists = {name: t.cluster.get(t.ref, t.api_version) is not None for name, t in targets.items()}
    if len(set(exists.values())) > 1:
        some = ", ".join(sorted(n for n, e in exists.items() if e))
        workload = next(iter(targets.values())).ref.address
        raise BadInputError(f"{workload} exists on {some} only: roll out to clusters alike")
    mode = Mode.UPDATE if any(exists.values()) else Mode.NEW
    ttl = dns_cache_ttl or {}
    planned = [PlannedCluster(name, len(t.reach(t.cluster.nodes())), ttl.get(name)) for name, t in targets.items()]
    return mode, plan_fleet(planned, policy)


def start(rollout: Rollout, run_id: str, *, extra: Mapping[str, Any] | None = None) -> RunRecord:
    """Plan the rollout from the clusters as they are and keep it as a new run (nothing changes yet);
    `extra` is kept in the run's state beside the engine's (what a resuming process needs to reconnect).
    Raises BadInputError when the DaemonSet exists on some clusters only, RunConflictError when another
    run holds the same DaemonSet, ClusterError when a cluster does not answer."""
    mode, planned = plan(rollout.targets, rollout.policy, rollout.dns_cache_ttl)
    daemonset = next(iter(rollout.targets.values())).daemonset
    state = new_state(rollout.workload, workload_flow_schema(daemonset), mode, planned)
    now = rollout.clock.now()
    saved = {**(extra or {}), **_saved(state, {})}
    record = RunRecord(run_id, RunKind.ROLLOUT, rollout.workload, RunStatus.RUNNING, 0, saved, rollout.actor, now, now)
    payload = {"run": run_id, "workload": rollout.workload, "mode": mode.value, "plan": [c.to_json() for c in planned]}
    rollout.store.start_run(record, EventDraft(rollout.actor, EventKind.ROLLOUT_START, payload))
    return record


def drive(
    rollout: Rollout, run_id: str, *, until: datetime | None = None, driver: Mapping[str, Any] | None = None
) -> RunRecord:
    """Run the rollout until it is done, paused, or the clock reaches `until`; returns the run as stored.
    `driver` (this process: host, pid) is recorded in the run first, so that others can tell who drives it.
    Raises BadInputError when there is no such run, RunConflictError when another process moved it."""
    loop = _Loop(rollout, run_id)
    return loop.run(until, driver)


class _Loop:
    def __init__(self, rollout: Rollout, run_id: str) -> None:
        record = rollout.store.run(run_id)
        if record is None:
            raise BadInputError(f"no run {run_id}")
        self.rollout, self.run_id, self.record = rollout, run_id, record
        self.state = RolloutState.from_json(record.state["engine"])
        self.before: dict[str, Any] = dict(record.state["before"])
        # What the services keep beside the engine's state (the fleet, the driver): carried along unchanged.
        self.extra = {k: v for k, v in record.state.items() if k not in ("engine", "before")}
        self.requested: set[str] = set()  # approval fingerprints made approvable by this process

    def run(self, until: datetime | None, driver: Mapping[str, Any] | None) -> RunRecord:
        if not self.record.status.active or self.state.phase is Phase.FINISHED:
            return self.record  # ended (a halted run stays active, holding its subject, until a person acts)
        status = _status(self.state, Action(ActionKind.OBSERVE))
        if driver is not None:
            self.extra["driver"] = dict(driver)
            self._save(EventKind.ROLLOUT_DECISION, {"decision": "drive", **driver}, self.record.status)
        paused = self.record.status not in (RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL)
        if paused and self.record.requested is not RunRequest.ABORT:  # resumed after a pause (an abort says so)
            self._save(EventKind.ROLLOUT_DECISION, {"decision": "resume"}, status, clear=True)
        clock = self.rollout.clock
        event: Event = Tick(clock.now())
        while until is None or clock.now() < until:
            if isinstance(event, Tick) and self.state.phase is Phase.AWAITING_APPROVAL:
                event = self._approval(event)
            transition = self._advance(event)
            action = transition.action
            if action.kind is ActionKind.PAUSE:
                return self.record
            if action.kind is ActionKind.DONE:
                return self.record
            event = self._act(action)
        return self.record

    def _approval(self, tick: Tick) -> Event:
        """Approved, when enough people approved the widening the run waits for; else the tick as it was."""
        fingerprint = self._approvable(tick.at)
        if fingerprint is None or self.rollout.approvals is None:
            return tick
        approvers = self.rollout.approvals.approvers(fingerprint)
        return Approved(tick.at, approvers) if approvers else tick

    def _approvable(self, at: datetime) -> str | None:
        """The fingerprint of the widening the run waits for, made approvable (once per process: a resumed
        run asks again, harmlessly); None when it waits for nothing or nobody can approve."""
        awaiting, approvals = self.state.awaiting, self.rollout.approvals
        if awaiting is None or approvals is None or self.state.pending is not None:
            return None
        fingerprint = widening_fingerprint(self.run_id, self.state.workload, awaiting)
        if fingerprint not in self.requested:
            payload = {"run": self.run_id, "rollout": self.state.workload, "widen_to": awaiting}
            approvals.request(fingerprint, self.rollout.actor, at, payload)
            self.requested.add(fingerprint)
        return fingerprint

    def _advance(self, event: Event) -> Transition:
        current = self.rollout.store.run(self.run_id)
        requested = current.requested if current is not None else None
        if requested in (RunRequest.PAUSE, RunRequest.ABORT) and self.state.pending is None:
            event = Requested(event.at, requested)
        transition = advance(self.state, event, self.rollout.policy)
        self.state = transition.state
        status = _status(self.state, transition.action)
        clear = transition.handled_request
        for note in transition.notes:
            payload = dict(note.payload)
            if payload.get("decision") == "await-approval":  # what to approve, for status and the TUI
                payload["fingerprint"] = widening_fingerprint(self.run_id, self.state.workload, payload["widen_to"])
            self._save(_NOTE_KINDS[note.kind], payload, status, clear=clear)
            clear = False
        if clear or (not transition.notes and transition.action.changes_cluster):
            payload = {"action": transition.action.kind.value, "cluster": transition.action.cluster, "starting": True}
            self._save(EventKind.ROLLOUT_STEP, payload, status, clear=clear)
        if self.state.phase is Phase.AWAITING_APPROVAL:
            self._approvable(event.at)  # approvable as soon as the run says what to approve
        return transition

    def _act(self, action: Action) -> Event:
        rollout, clock = self.rollout, self.rollout.clock
        if action.kind is ActionKind.SOAK:
            clock.sleep(action.seconds)
            return Tick(clock.now())
        if action.kind is ActionKind.OBSERVE:
            sources, gates = rollout.prometheus or {}, rollout.policy.gates.promql
            readings = tuple(
                observe(
                    rollout.targets[name],
                    clock.now(),
                    rollout.parse_apiserver,
                    rollout.parse_dns,
                    (sources.get(name), gates),
                )
                for name in action.clusters
            )
            return Observed(clock.now(), readings)
        name = str(action.cluster)
        target = rollout.targets[name]
        detail = ""
        try:
            if action.kind is ActionKind.PREPARE:
                if name not in self.before:
                    self.before[name] = capture(target)
                    self._save(EventKind.ROLLOUT_STEP, {"action": "capture", "cluster": name}, RunStatus.RUNNING)
                detail = prepare(target, self.state.mode, rollout.policy, self.before[name])
            elif action.kind in (ActionKind.LABEL_NODES, ActionKind.REPLACE_PODS):
                assert action.step is not None
                widen(target, action.step, self.state.mode)
            elif action.kind is ActionKind.ROLL_BACK and name in self.before:
                roll_back(target, self.before[name])
        except ClusterError as exc:
            return Acted(clock.now(), action, ok=False, detail=str(exc))
        return Acted(clock.now(), action, detail=detail)

    def _save(self, kind: EventKind, payload: dict[str, Any], status: RunStatus, *, clear: bool = False) -> None:
        event = EventDraft(self.rollout.actor, kind.value, {"run": self.run_id, **payload})
        self.record = self.rollout.store.save_step(
            self.run_id,
            expected_step=self.record.step,
            step=self.record.step + 1,
            status=status,
            state={**self.extra, **_saved(self.state, self.before)},
            event=event,
            clear_request=clear,
        )


def _saved(state: RolloutState, before: Mapping[str, Any]) -> dict[str, Any]:
    return {"engine": state.to_json(), "before": dict(before)}


def _status(state: RolloutState, action: Action) -> RunStatus:
    if action.kind is ActionKind.PAUSE:
        return RunStatus.PAUSED
    if action.kind is not ActionKind.DONE:
        return RunStatus.AWAITING_APPROVAL if state.phase is Phase.AWAITING_APPROVAL else RunStatus.RUNNING
    if state.outcome is Outcome.COMPLETED:
        return RunStatus.COMPLETED
    if state.outcome is Outcome.HALTED:
        return RunStatus.HALTED
    return RunStatus.ABORTED if state.aborted else RunStatus.ROLLED_BACK
