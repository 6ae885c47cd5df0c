"""The loop that drives a cycle: a process killed between phases resumes from the store without repeating
a completed phase; pause and abort asked from another terminal are honoured; the failed node stays
cordoned and the nodes never picked are untouched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import pytest

from guardrail.adapters.memory_runs import MemoryRunStore
from guardrail.adapters.node_replacers import DeleteNodeReplacer
from guardrail.core.audit import EventKind
from guardrail.core.errors import BadInputError, ClusterUnreachableError
from guardrail.core.kube.cluster import Cluster, NodeInfo
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.nodes.records import NodeStatus, Outcome
from guardrail.core.nodes.settings import CycleSettings
from guardrail.core.nodes.state import CycleState
from guardrail.core.runs import RunConflictError, RunRecord, RunRequest, RunStatus
from guardrail.services.nodes_act import Hands
from guardrail.services.nodes_cycle import CycleContext, drive_cycle, plan_pool_cycle, request_cycle, start_cycle
from guardrail.simulation.pool_sim import PoolSimulator
from guardrail.simulation.pool_spec import GroupSpec, PoolSpec, ReplaceMode

MINUTE = 60.0
SETTINGS = CycleSettings(capacity_floor=0.75)


class Killed(BaseException):
    """The process is killed (kill -9): nothing after this point runs."""


class Recording:
    """The simulated cluster, counting what is done to it, and killing the process at a chosen call."""

    def __init__(self, simulator: PoolSimulator) -> None:
        self.simulator = simulator
        self.calls: Counter[tuple[str, str]] = Counter()
        self.kill_after: tuple[str, int] | None = None  # (method, n): killed right after its n-th call
        self.on_call: Callable[[str, int], None] | None = None

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.simulator, name)
        if name not in ("set_unschedulable", "evict", "delete_node", "create", "delete_pod", "reimage"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            result = target(*args, **kwargs)
            self.calls[(name, str(args[0]) if args else "")] += 1
            count = sum(n for (method, _), n in self.calls.items() if method == name)
            if self.on_call is not None:
                self.on_call(name, count)
            if self.kill_after == (name, count):
                raise Killed
            return result

        return call


def _pool(mode: ReplaceMode = ReplaceMode.DELETE_NODE, visible: int | None = None) -> PoolSimulator:
    groups = (
        GroupSpec(8, "ND96", "eastus-1", 8, 6 * MINUTE, 3 * MINUTE, visible_gpus=visible),
        GroupSpec(4, "NC24", "eastus-1", 1, 5 * MINUTE),
    )
    return PoolSimulator(PoolSpec("gpu", 15 * MINUTE, groups, seed=4, replace=mode))


class Reimage:
    """The replace command of a pool whose machines are reimaged in place, through the recording cluster."""

    def __init__(self, cluster: Recording) -> None:
        self.cluster = cluster

    def replace(self, node: NodeInfo) -> None:
        self.cluster.reimage(node.name)

    def describe(self, node: NodeInfo) -> str:
        return f"reimage {node.name}"


def _context(cluster: Recording, store: MemoryRunStore, mode: ReplaceMode) -> CycleContext:
    as_cluster = cast(Cluster, cluster)  # it forwards every call to the simulator
    replacer: NodeReplacer = Reimage(cluster) if mode is ReplaceMode.REIMAGE else DeleteNodeReplacer(as_cluster)
    return CycleContext(Hands(as_cluster, replacer, cluster.simulator.clock), store, "alice")


def _start(
    mode: ReplaceMode = ReplaceMode.DELETE_NODE, visible: int | None = None
) -> tuple[Recording, MemoryRunStore, CycleContext, RunRecord]:
    cluster = Recording(_pool(mode, visible))
    store = MemoryRunStore(cluster.simulator.clock)
    context = _context(cluster, store, mode)
    record = start_cycle(context, plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS))
    return cluster, store, context, record


def _phase_events(store: MemoryRunStore) -> Counter[tuple[str, str]]:
    return Counter((e.payload["node"], e.payload["phase"]) for e in store.events() if e.kind == EventKind.NODE_PHASE)


@pytest.mark.parametrize(("method", "nth"), [("delete_node", 1), ("delete_node", 3), ("set_unschedulable", 6)])
def test_a_process_killed_between_phases_resumes_without_repeating_a_completed_phase(method: str, nth: int) -> None:
    cluster, store, context, record = _start()
    cluster.kill_after = (method, nth)
    with pytest.raises(Killed):
        drive_cycle(context, record.id)
    saved = store.run(record.id)
    assert saved is not None
    assert saved.status is RunStatus.RUNNING
    cluster.kill_after = None
    done = drive_cycle(_context(cluster, store, ReplaceMode.DELETE_NODE), record.id)  # a new process
    state = CycleState.from_json(done.state)
    assert done.status is RunStatus.COMPLETED
    assert state.outcome is Outcome.COMPLETED
    assert all(p.status is NodeStatus.DONE for p in state.nodes.values())
    deleted = Counter(node for (m, node), n in cluster.calls.items() if m == "delete_node" for _ in range(n))
    assert set(deleted.values()) == {1}  # every machine replaced exactly once, the interrupted one too
    assert len(deleted) == 12
    assert set(_phase_events(store).values()) == {1}  # and no phase recorded twice


def test_the_failed_node_stays_cordoned_and_the_nodes_never_picked_are_untouched() -> None:
    cluster, _store, context, record = _start(ReplaceMode.REIMAGE, visible=7)
    before = {n.name: n for n in cluster.simulator.nodes()}
    done = drive_cycle(context, record.id)
    assert done.status is RunStatus.HALTED
    state = CycleState.from_json(done.state)
    (failed,) = [p for p in state.nodes.values() if p.status is NodeStatus.FAILED]
    now = {n.name: n for n in cluster.simulator.nodes()}
    assert now[failed.current].unschedulable  # left cordoned for a person
    assert now[failed.current].ready  # Ready, yet not counted as back
    picked = set(state.nodes)
    untouched = [name for name in before if name not in picked]
    assert untouched  # the rest of its stratum
    for name in untouched:
        assert not now[name].unschedulable
        assert now[name].boot_id == before[name].boot_id
        assert cluster.calls[("set_unschedulable", name)] == 0
    assert state.halt is not None
    assert "gpu-allocatable" in state.halt


def test_pause_finishes_the_nodes_in_hand_and_resume_carries_on() -> None:
    cluster, store, context, record = _start()

    def pause_at_third_replace(method: str, count: int) -> None:
        if method == "delete_node" and count == 3:
            request_cycle(store, record.id, RunRequest.PAUSE, "bob")

    cluster.on_call = pause_at_third_replace
    paused = drive_cycle(context, record.id)
    assert paused.status is RunStatus.PAUSED
    assert paused.requested is None
    state = CycleState.from_json(paused.state)
    assert state.paused
    assert not state.nodes.in_hand  # those in hand finished
    assert 3 <= len(state.nodes) < 12
    assert all(p.status is NodeStatus.DONE for p in state.nodes.values())
    cluster.on_call = None
    request_cycle(store, record.id, RunRequest.RESUME, "bob")
    finished = drive_cycle(context, record.id)
    assert finished.status is RunStatus.COMPLETED
    kinds = [e.kind for e in store.events()]
    assert kinds.count(EventKind.NODE_CYCLE_REQUEST) == 2


def test_abort_hands_back_the_nodes_not_yet_replaced() -> None:
    cluster, store, context, record = _start()

    def abort_at_first_cordon_of_a_batch(method: str, count: int) -> None:
        if method == "set_unschedulable" and count == 6:
            request_cycle(store, record.id, RunRequest.ABORT, "bob")

    cluster.on_call = abort_at_first_cordon_of_a_batch
    aborted = drive_cycle(context, record.id)
    assert aborted.status is RunStatus.ABORTED
    state = CycleState.from_json(aborted.state)
    statuses = Counter(p.status for p in state.nodes.values())
    assert statuses[NodeStatus.RELEASED] + statuses[NodeStatus.LEFT] >= 1
    nodes = {n.name: n for n in cluster.simulator.nodes()}
    for p in state.nodes.values():
        if p.status is NodeStatus.RELEASED:
            assert not nodes[p.name].unschedulable  # back in service, never replaced
            assert cluster.calls[("delete_node", p.name)] == 0


def test_a_cycle_of_a_pool_already_running_is_refused_and_a_run_cannot_be_asked_after_it_ended() -> None:
    _cluster, store, context, record = _start()
    plan = plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS)
    with pytest.raises(RunConflictError, match="held by run"):
        start_cycle(context, plan)
    drive_cycle(context, record.id)
    with pytest.raises(BadInputError, match="has ended"):
        request_cycle(store, record.id, RunRequest.PAUSE, "bob")


def test_the_next_plan_reads_the_history_of_earlier_cycles_from_the_audit_log() -> None:
    _cluster, store, context, record = _start()
    first = plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS, store)
    assert {f.check for f in first.preflight} == {"never-passed"}
    assert first.history is not None
    assert first.history.cycles == 1  # the cycle started by _start, not finished yet
    assert plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS).preflight == ()  # no log: nothing said
    drive_cycle(context, record.id)
    again = plan_pool_cycle(context, PoolSelector.parse("gpu"), replace(SETTINGS, warn_ratio=0.01), store)
    checks = {f.check for f in again.preflight}
    assert "never-passed" not in checks
    assert "boot-history" in checks  # every boot took more than 1% of the budget
    assert again.history is not None
    assert sorted(len(h.boot_seconds) for h in again.history.strata.values()) == [4, 8]


class Flaky(Recording):
    """An API server that stops answering reads for a while."""

    def __init__(self, simulator: PoolSimulator, silent: int) -> None:
        super().__init__(simulator)
        self.silent = silent  # reads left unanswered

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        if self.silent > 0:
            self.silent -= 1
            raise ClusterUnreachableError(self.simulator.name, "connection refused")
        return self.simulator.nodes(label_selector)


def test_an_api_server_that_stops_answering_for_a_while_is_waited_for_and_never_read_as_allow() -> None:
    cluster = Flaky(_pool(), silent=0)
    store = MemoryRunStore(cluster.simulator.clock)
    context = _context(cluster, store, ReplaceMode.DELETE_NODE)
    record = start_cycle(context, plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS))
    cluster.silent = 3
    assert drive_cycle(context, record.id).status is RunStatus.COMPLETED
    assert cluster.silent == 0

    cluster = Flaky(_pool(), silent=0)
    store = MemoryRunStore(cluster.simulator.clock)
    context = replace(_context(cluster, store, ReplaceMode.DELETE_NODE), max_unreachable=3)
    record = start_cycle(context, plan_pool_cycle(context, PoolSelector.parse("gpu"), SETTINGS))
    cluster.silent = 100
    with pytest.raises(ClusterUnreachableError, match="connection refused"):
        drive_cycle(context, record.id)
    saved = store.run(record.id)
    assert saved is not None
    assert saved.status is RunStatus.RUNNING  # left for a resume, not marked as anything it is not
