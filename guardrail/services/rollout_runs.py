"""Real rollouts, from the command line and the TUI: plan, start (the gate, then the steps), resume,
pause and abort, each one service call.

Another terminal pauses or aborts a run through the store (a request the driving process honours between
actions). A run whose driver is gone (a crash, kill -9) is taken over by `resume`, which continues from
the last completed step; `abort` of a run nobody drives rolls it back itself. The process that drives a
run records itself (host, pid) in it, so that `resume` refuses to take a run from a process still driving
it on this host.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from guardrail.config import Settings
from guardrail.core.audit import EventDraft, EventKind, iso_utc
from guardrail.core.errors import BadInputError, DeniedError
from guardrail.core.report import CheckReport
from guardrail.core.rollout.plan import ClusterPlan
from guardrail.core.rollout.state import Mode, Phase, RolloutState
from guardrail.core.runs import RunKind, RunRecord, RunRequest, RunStatus, StoreWithRuns
from guardrail.core.verdict import Decision
from guardrail.services import rollout_fleet, wiring
from guardrail.services.apply_lock import HostInfo
from guardrail.services.rollout import Rollout, drive, plan, start
from guardrail.services.rollout_gate import gate_rollout
from guardrail.services.rollout_status import RunView, rollout_runs, run_view
from guardrail.services.run_ids import new_run_id
from guardrail.services.store import actor as current_actor


@dataclass(frozen=True)
class FleetRequest:
    """What to roll out where: manifests (PATH...), the fleet file, the settings."""

    paths: Sequence[Path]
    fleet: Path
    settings: Settings


@dataclass(frozen=True)
class Planned:
    """What `start` would do: NEW or UPDATE, each cluster's steps (smallest first), the nodes of each."""

    workload: str
    mode: Mode
    clusters: tuple[ClusterPlan, ...]
    nodes: dict[str, int]  # every node of each cluster (the plan counts those the DaemonSet reaches)
    label: str  # the node label that holds the new pods off a node until its batch


@dataclass(frozen=True)
class Started:
    """The gate's report, and the run when the gate let it start (None: stopped at the gate)."""

    gate: CheckReport
    run: RunRecord | None


def plan_rollout(request: FleetRequest) -> Planned:
    """Read the clusters and say what a rollout would do; nothing changes. Raises ConfigError and
    BadInputError (fleet file, manifests, contexts), ClusterError (a cluster that does not answer)."""
    fleet = rollout_fleet.load(request.paths, request.fleet, request.settings)
    manifests = rollout_fleet.render(fleet)
    with rollout_fleet.connected(fleet) as clusters:
        policy = fleet.rollout.policy()
        targets = {name: rollout_fleet.target(cluster, manifests[name], policy) for name, cluster in clusters.items()}
        sizes = {name: len(t.cluster.nodes()) for name, t in targets.items()}
        ttl = {c.name: c.dns_cache_ttl_seconds for c in fleet.clusters}
        mode, planned = plan(targets, policy, ttl)
        first = next(iter(targets.values()))
        return Planned(first.ref.address, mode, planned, sizes, first.label)


def start_rollout(request: FleetRequest, store: StoreWithRuns, *, run_id: str | None = None) -> Started:
    """The gate, then a new run driven to its end (or a pause) in this process. Raises ConfigError,
    BadInputError, ClusterError, StoreError; RunConflictError (exit 1) when a run holds the DaemonSet."""
    fleet = rollout_fleet.load(request.paths, request.fleet, request.settings)
    manifests = rollout_fleet.render(fleet)
    with rollout_fleet.connected(fleet) as clusters:
        rollout = _rollout(fleet, clusters, manifests, store, request.settings)
        gated = gate_rollout(
            rollout.targets,
            source=", ".join(str(p) for p in request.paths),
            store=store,
            settings=request.settings,
            actor=rollout.actor,
            now=rollout.clock.now(),
        )
        if gated.report.verdict.decision is not Decision.ALLOW:
            return Started(gated.report, None)
        run_id = run_id or new_run_id(RunKind.ROLLOUT)
        start(rollout, run_id, extra={"fleet": fleet.to_json()})
        return Started(gated.report, drive(rollout, run_id, driver=_driver(rollout.clock.now())))


def resume_rollout(store: StoreWithRuns, run_id: str, settings: Settings) -> RunRecord:
    """Take the run over in this process and drive it to its end (or a pause), from its last completed
    step. Raises BadInputError (no such run, ended, not a real rollout, manifests changed since),
    DeniedError (a live process on this host drives it), ClusterError, StoreError."""
    record = _active(store, run_id)
    _refuse_live_driver(record)
    return _drive(store, record, settings)


def request_rollout(store: StoreWithRuns, run_id: str, request: RunRequest) -> RunRecord:
    """Ask the run to pause (or resume, or abort) between actions; the driving process does it. Raises
    BadInputError when there is no such run or it has ended, StoreError."""
    _active(store, run_id)
    return store.request(run_id, request, _event(run_id, EventKind.ROLLOUT_REQUEST, {"request": request.value}))


def abort_rollout(store: StoreWithRuns, run_id: str, settings: Settings) -> RunRecord:
    """Abort the run: roll back what it changed. A process on this host that drives it does so between
    actions; a run nobody drives (paused, its driver gone) is rolled back here. A halted run (rolled back
    already, kept to make a person look) is closed, which frees its DaemonSet for a new rollout."""
    record = _active(store, run_id)
    state = RolloutState.from_json(record.state["engine"])
    if state.phase is Phase.FINISHED:
        event = _event(run_id, EventKind.ROLLOUT_DECISION, {"decision": "closed", "outcome": record.status.value})
        return store.save_step(
            run_id,
            expected_step=record.step,
            step=record.step + 1,
            status=RunStatus.ABORTED,
            state=record.state,
            event=event,
        )
    record = request_rollout(store, run_id, RunRequest.ABORT)
    if _live_driver(record) is not None:
        return record
    return _drive(store, record, settings)


def driven_here(record: RunRecord) -> bool:
    """Whether a live process on this host (not this one) drives the run."""
    return _live_driver(record) is not None


# -- inside -------------------------------------------------------------------------------------------


@contextmanager
def opened_run_store(settings: Settings, store_url: str | None) -> Iterator[StoreWithRuns]:
    """The configured store for runs (see wiring.run_store), closed when the block ends."""
    store = wiring.run_store(settings, store_url)
    try:
        yield store
    finally:
        store.close()


def _rollout(
    fleet: rollout_fleet.Fleet,
    clusters: dict[str, Any],
    manifests: dict[str, list[dict[str, Any]]],
    store: StoreWithRuns,
    settings: Settings,
) -> Rollout:
    return rollout_fleet.rollout_of(
        fleet, clusters, manifests, store=store, settings=settings, actor=current_actor(), clock=wiring.clock()
    )


def _drive(store: StoreWithRuns, record: RunRecord, settings: Settings) -> RunRecord:
    fleet = rollout_fleet.Fleet.from_json(record.state.get("fleet") or {})
    manifests = rollout_fleet.render(fleet)
    if rollout_fleet.digest(manifests) != fleet.digest:
        raise BadInputError(
            f"run {record.id}: the manifests ({', '.join(fleet.paths)}) render differently than when the run "
            "started: abort it, or put them back as they were"
        )
    with rollout_fleet.connected(fleet) as clusters:
        rollout = _rollout(fleet, clusters, manifests, store, settings)
        return drive(rollout, record.id, driver=_driver(rollout.clock.now()))


def _active(store: StoreWithRuns, run_id: str) -> RunRecord:
    record = store.run(run_id)
    if record is None or record.kind is not RunKind.ROLLOUT:
        raise BadInputError(f"no rollout {run_id} (guardrail rollout status lists them)")
    if not record.status.active:
        raise BadInputError(f"rollout {run_id} has ended ({record.status.value})")
    return record


def _event(run_id: str, kind: EventKind, payload: dict[str, Any]) -> EventDraft:
    return EventDraft(current_actor(), kind.value, {"run": run_id, **payload})


def _driver(now: datetime) -> dict[str, Any]:
    here = HostInfo()
    return {"host": here.name, "pid": here.pid, "since": iso_utc(now)}


def _live_driver(record: RunRecord, host: HostInfo | None = None) -> dict[str, Any] | None:
    """The process on this host that drives the run, when it still runs (another host's cannot be told)."""
    here = host or HostInfo()
    driver = record.state.get("driver")
    if not isinstance(driver, dict) or record.status not in (RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL):
        return None
    pid = driver.get("pid")
    if driver.get("host") != here.name or not isinstance(pid, int) or pid == here.pid:
        return None
    return driver if here.pid_alive(pid) else None


def _refuse_live_driver(record: RunRecord) -> None:
    driver = _live_driver(record)
    if driver is not None:
        raise DeniedError(
            f"rollout {record.id} is driven by pid {driver['pid']} on this host since {driver.get('since')}: "
            "pause or abort it from here, or stop that process before resuming"
        )


def rollout_status(store: StoreWithRuns, run_id: str | None = None) -> list[RunView]:
    """Every rollout, newest first, or the one named; each as people follow it. Raises BadInputError when
    there is no such rollout, StoreError."""
    runs = rollout_runs(store.runs(RunKind.ROLLOUT))
    if run_id is not None:
        runs = [r for r in runs if r.id == run_id]
        if not runs:
            raise BadInputError(f"no rollout {run_id} (guardrail rollout status lists them)")
    events = list(store.events())
    return [run_view(record, events) for record in runs]
