"""Rollout runs for the TUI's tests, in the harness's store: one driven on the simulator (deterministic,
for what the screen shows), and real ones over emulated clusters (for the actions that drive a run)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers
from guardrail.adapters.store import open_store
from guardrail.config import Settings
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.services import wiring
from guardrail.services.rollout import Rollout, drive, start
from guardrail.services.rollout_act import ClusterTarget
from guardrail.services.rollout_runs import FleetRequest, start_rollout
from guardrail.simulation.fleet import SimulatedFleet
from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec, FleetSpec
from tests.adapters.kubernetes.fleet_emulator import (
    AGENT,
    EmulatedCluster,
    FleetClock,
    Load,
    emulated,
    rollout_files,
)
from tests.tui.conftest import Harness

SIMULATED = "ro-simulated"


def simulated_run(harness: Harness, minutes: float = 15) -> str:
    """A rollout driven `minutes` into a simulated fleet of two clusters, left running (nobody drives it)."""
    fleet = SimulatedFleet(
        FleetSpec(
            clusters=(ClusterSpec("dev-1", 20, 10, 100, 0.2, 600.0), ClusterSpec("prod-1", 60, 10, 200, 0.3, 600.0)),
            calls=(CallSpec("list", "pods", "node", 30.0),),
            cost=CostSpec(2.0, 0.05),
            seed=7,
        )
    )
    policy = RolloutPolicy(soak_seconds=300, dns_cache_ttl_seconds=600, batches=(0.1, 0.5, 1.0))
    store = open_store(harness.store_url, clock=fleet.clock.now)
    try:
        rollout = Rollout(
            targets={c.name: ClusterTarget.of(c, [AGENT], policy) for c in fleet.clusters()},
            policy=policy,
            clock=fleet.clock,
            store=store,
            actor="alice@example.com",
            parse_apiserver=parse_apiserver_metrics,
            parse_dns=parse_coredns_answers,
        )
        start(rollout, SIMULATED)
        drive(rollout, SIMULATED, until=fleet.clock.now() + timedelta(minutes=minutes))
    finally:
        store.close()
    return SIMULATED


@contextmanager
def killed_real_run(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A rollout over two emulated clusters whose driving process was killed after the small cluster's
    canary; the clusters stay up (and the test clock in the wiring) while the block runs."""
    with emulated(EmulatedCluster("small", 3, Load(baseline=0.2)), EmulatedCluster("large", 6, Load())) as clusters:
        clock = FleetClock(clusters)
        monkeypatch.setattr(wiring, "clock", lambda: clock)
        manifests, fleet_file = rollout_files(tmp_path, clusters, AGENT)

        def kill(_: FleetClock) -> None:
            if clusters[0].agent_pods():  # the canary runs: the driving process is killed (kill -9)
                clock.on_sleep.remove(kill)
                raise KeyboardInterrupt

        clock.on_sleep.append(kill)
        store = harness.open_store()
        try:
            with pytest.raises(KeyboardInterrupt):
                start_rollout(FleetRequest([manifests], fleet_file, Settings()), store, run_id="ro-real")
        finally:
            store.close()
        yield "ro-real"
