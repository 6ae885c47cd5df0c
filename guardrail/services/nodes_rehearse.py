"""`guardrail nodes rehearse`: the node-cycle engine, unchanged, against a simulated pool in simulated time.

The same plan, pre-flight and loop as a real cycle (services.nodes_cycle); only the cluster, the clock,
the replacer and the store are the rehearsal's (services.wiring), so what a rehearsal shows is what the
engine would do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from guardrail.config.nodes import NodesSettings
from guardrail.config.pool_file import PoolFile
from guardrail.core.audit import AuditEvent
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.preflight import PreflightFinding
from guardrail.core.nodes.report import CycleReport, cycle_report
from guardrail.core.nodes.state import CycleState
from guardrail.core.runs import RunRecord
from guardrail.services.nodes_act import Hands
from guardrail.services.nodes_cycle import CycleContext, drive_cycle, plan_pool_cycle, start_cycle
from guardrail.services.wiring import memory_run_store, pool_simulator

REHEARSAL_ACTOR = "guardrail-rehearsal"


@dataclass(frozen=True)
class Rehearsal:
    """How the cycle went: its report and final state, the pre-flight findings, the audit events, how
    much simulated time it took, and the run as its store kept it."""

    report: CycleReport
    state: CycleState
    preflight: tuple[PreflightFinding, ...]
    events: tuple[AuditEvent, ...]
    simulated_seconds: float
    record: RunRecord


def rehearse(pool_file: PoolFile, settings: NodesSettings) -> Rehearsal:
    """Cycle the pool file's simulated pool with `settings` (the pool file's capacity_floor wins)."""
    simulated = pool_simulator(pool_file)
    cycle_settings = settings.to_cycle_settings()
    if pool_file.capacity_floor is not None:
        cycle_settings = replace(cycle_settings, capacity_floor=pool_file.capacity_floor)
    store = memory_run_store(simulated.clock)
    context = CycleContext(Hands(simulated.cluster, simulated.replacer, simulated.clock), store, REHEARSAL_ACTOR)
    started_at = simulated.clock.now()
    # The rehearsal's own store: no earlier cycle, so every stratum is one that never passed.
    plan = plan_pool_cycle(context, PoolSelector.parse(pool_file.pool), cycle_settings, store)
    # Named after what is rehearsed, so that one pool file gives the same rehearsal, audit log included.
    run_id = "rehearsal-" + hashlib.sha256(pool_file.model_dump_json().encode()).hexdigest()[:12]
    record = start_cycle(context, plan, run_id)
    record = drive_cycle(context, record.id)
    state = CycleState.from_json(record.state)
    elapsed = (simulated.clock.now() - started_at).total_seconds()
    return Rehearsal(cycle_report(state), state, plan.preflight, tuple(store.events()), elapsed, record)
