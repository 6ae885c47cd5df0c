"""Node cycles kept in the TUI's store, made by the real loop on simulated pools: one that halted at its
westus2 canary, and one interrupted with nodes in hand (its process was killed), still running."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from guardrail.config.nodes import NodesSettings
from guardrail.config.pool_file import load_pool_file
from guardrail.core.clock import Clock
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.runs import StoreWithRuns
from guardrail.services.nodes_act import Hands
from guardrail.services.nodes_cycle import CycleContext, drive_cycle, plan_pool_cycle, start_cycle
from guardrail.services.wiring import pool_simulator

HALTED = "c0ffee000001"
RUNNING = "c0ffee000002"

POOL = """\
pool: {name}
boot_timeout: 15m
capacity_floor: 0.75
groups:
  - {{count: 3, instance_type: Standard_ND96asr_v4, zone: eastus-1, gpus: 8, boot: 6m, gpu_diag: 5m}}
  - {{count: 3, instance_type: Standard_ND96asr_v4, zone: westus2-1, gpus: 8, boot: 6m, gpu_diag: {diag}}}
seed: 3
"""


class Interrupted(BaseException):
    """The process driving the cycle is killed."""


class KilledAfter:
    """The simulated clock, until the loop has waited `waits` times: then the process is killed."""

    def __init__(self, clock: Clock, waits: int) -> None:
        self._clock = clock
        self._left = waits

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        if self._left == 0:
            raise Interrupted
        self._left -= 1
        self._clock.sleep(seconds)


def pool_file(folder: Path, name: str, diag: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(POOL.format(name=name, diag=diag))
    return path


def seed_cycles(store: StoreWithRuns, folder: Path) -> None:
    """A halted cycle (the westus2 boots run past the budget) and one killed mid-way."""
    settings = replace(NodesSettings().to_cycle_settings(), capacity_floor=0.75)
    for run_id, name, diag, waits in ((HALTED, "gpu-west", "12m", None), (RUNNING, "gpu-east", "3m", 12)):
        spec = load_pool_file(pool_file(folder, name, diag))
        simulated = pool_simulator(spec)
        clock: Clock = simulated.clock if waits is None else KilledAfter(simulated.clock, waits)
        context = CycleContext(Hands(simulated.cluster, simulated.replacer, clock), store, "alice@example.com")
        plan = plan_pool_cycle(context, PoolSelector.parse(spec.pool), settings, store)
        start_cycle(context, plan, run_id, details={"cluster": simulated.cluster.name, "replace_command": None})
        with contextlib.suppress(Interrupted):
            drive_cycle(context, run_id)
