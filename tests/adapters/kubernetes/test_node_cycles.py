"""Real node cycles through the real adapter, over HTTP against the emulated API server: the same services
`guardrail nodes cycle` and `resume` call, with a clock that moves the pool when the loop waits.

A pool of four GPU nodes in two strata: each node cordoned, drained (an eviction refused by a
PodDisruptionBudget with 429, then allowed), its Node deleted and registered again by the pool with a new
boot ID, Ready, its GPUs allocatable again, a validation pod pinned to it run to completion, uncordoned.
A node that comes back short of a GPU, or whose validation pod fails, halts the cycle, stays cordoned, and
the nodes not yet picked are never touched.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import kmock
import pytest

from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.config import Settings
from guardrail.core.audit import AuditEvent, EventKind
from guardrail.core.nodes.records import NodeStatus
from guardrail.core.runs import RunStatus
from guardrail.services import wiring
from guardrail.services.nodes_plan import PoolTarget
from guardrail.services.nodes_runs import CycleView, cycle_pool, pause_cycle, resume_pool_cycle
from tests.adapters.kubernetes.conftest import CONTEXT
from tests.adapters.kubernetes.emulator import ApiServer, declare_evictions
from tests.adapters.kubernetes.pool_world import Machine, PoolClock, PoolWorld
from tests.conftest import initialised_sqlite

ND96, NC96 = "Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4"
PHASES = ["cordon", "drain", "replace", "register", "ready", "gpu-allocatable", "validation", "uncordon"]


class Killed(BaseException):
    """The process is killed (kill -9): nothing after this point runs."""


def _machines(**changes: dict[str, Any]) -> list[Machine]:
    machines = [
        Machine("gpu-a-0", ND96, "eastus-1"),
        Machine("gpu-a-1", ND96, "eastus-1"),
        Machine("gpu-b-0", NC96, "westus2-1"),
        Machine("gpu-b-1", NC96, "westus2-1"),
    ]
    for machine in machines:
        for key, value in changes.get(machine.name, {}).items():
            setattr(machine, key, value)
    return machines


def _settings(tmp_path: Path, capacity_floor: float) -> Settings:
    nodes = {"capacity_floor": capacity_floor, "validation": {"image": "registry.local/gpu-check:2"}}
    return Settings.model_validate({"nodes": nodes, "base_dir": tmp_path})


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Half the pool's GPUs may be out: both canaries at once (the strata are 8-GPU nodes, 32 GPUs in all)."""
    monkeypatch.setenv("GUARDRAIL_ACTOR", "alice@example.com")
    return _settings(tmp_path, 0.5)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{initialised_sqlite(tmp_path / 'guardrail.db')}"


class Pool:
    """A world on the emulator, a clock that moves it, and the cycle's services aimed at it."""

    def __init__(self, emulator: ApiServer, cluster: KubernetesCluster, kubeconfig: Path, machines: list[Machine]):
        self.world = PoolWorld(emulator, cluster, machines)
        self.clock = PoolClock(self.world)
        self.kubeconfig = kubeconfig
        self.blocked: Counter[str] = Counter()
        # A training job and a server with a PodDisruptionBudget on the first canary, and an agent.
        self.world.put_pod("ml", "trainer-0", "gpu-a-0")
        self.world.put_pod("ml", "server-0", "gpu-a-0")
        self.world.put_pod("kube-system", "agent-gpu-a-0", "gpu-a-0", owner="DaemonSet")
        declare_evictions(emulator, protected=self._budget_allows_none_yet)

    def _budget_allows_none_yet(self, namespace: str, name: str) -> bool:
        # server-0's budget refuses the first eviction (its replacement is not Ready yet), then allows it.
        self.blocked[name] += 1
        return name == "server-0" and self.blocked[name] == 1

    def target(self, replace_command: str | None = None) -> PoolTarget:
        return PoolTarget("agentpool=gpu", CONTEXT, str(self.kubeconfig), replace_command)

    def events(self, settings: Settings, store_url: str) -> list[AuditEvent]:
        store = wiring.run_store(settings, store_url)
        try:
            return list(store.events())
        finally:
            store.close()


@pytest.fixture
def pool(emulator: ApiServer, cluster: KubernetesCluster, kubeconfig: Path) -> Pool:
    return Pool(emulator, cluster, kubeconfig, _machines())


def _statuses(view: CycleView) -> dict[str, NodeStatus]:
    assert view.state is not None
    return {p.name: p.status for p in view.state.nodes.values()}


def _phases(events: list[AuditEvent]) -> Counter[tuple[str, str]]:
    return Counter((e.payload["node"], e.payload["phase"]) for e in events if e.kind == EventKind.NODE_PHASE)


def test_a_pool_is_cycled_node_by_node_and_every_node_comes_back_healthy(
    pool: Pool, settings: Settings, store_url: str
) -> None:
    outcome = cycle_pool(pool.target(), settings, store_url, clock=pool.clock)
    assert outcome.view is not None
    assert outcome.view.record.status is RunStatus.COMPLETED
    assert set(_statuses(outcome.view).values()) == {NodeStatus.DONE}
    world = pool.world
    for name in world.machines:
        node = world.node(name)
        assert not node["spec"].get("unschedulable")  # uncordoned
        assert node["status"]["nodeInfo"]["bootID"] == f"{name}-boot-2"  # registered again after its delete
        assert world.cordons(name)[0] is True
        assert world.cordons(name)[-1] is False
    deleted = Counter(r.name for r in world.requests(kmock.method.DELETE, "v1/nodes"))
    assert deleted == Counter(list(world.machines))  # every machine replaced, once
    # The drain: the server's budget refused it once (429), then let it go; the agent was never evicted.
    evicted = [r.name for r in pool.world.emulator[kmock.method.POST, kmock.subresource("eviction")]]
    assert Counter(evicted) == {"trainer-0": 1, "server-0": 2}
    creations = [r.data for r in world.requests(kmock.method.POST, "v1/pods") if r.data.get("kind") == "Pod"]
    assert sorted(pod["spec"]["nodeName"] for pod in creations) == sorted(world.machines)
    for pod in creations:
        (container,) = pod["spec"]["containers"]
        assert container["image"] == "registry.local/gpu-check:2"  # from the settings
        assert container["command"] == ["sh", "-c", "nvidia-smi && dcgmi diag -r 1"]  # the default
        assert container["resources"]["limits"] == {"nvidia.com/gpu": "8"}
    cleaned = Counter(r.name for r in world.requests(kmock.method.DELETE, "v1/pods"))
    assert cleaned == Counter(pod["metadata"]["name"] for pod in creations)  # validation pods removed once passed
    events = pool.events(settings, store_url)
    assert _phases(events) == Counter({(name, phase): 1 for name in world.machines for phase in PHASES})
    kinds = [e.kind for e in events]
    assert kinds[0] == EventKind.CHECK  # the gate recorded the plan before it started
    assert kinds[1] == EventKind.NODE_CYCLE_START
    assert kinds[-1] == EventKind.NODE_CYCLE_END
    assert events[1].payload["fingerprint"] == outcome.plan.fingerprint
    assert pool.clock.waits > 0


def test_a_node_that_comes_back_short_of_a_gpu_halts_the_cycle_and_stays_cordoned(
    emulator: ApiServer, cluster: KubernetesCluster, kubeconfig: Path, tmp_path: Path, store_url: str
) -> None:
    # A quarter of the GPUs may be out: one node at a time, the westus2 canary first (strata in key order).
    settings = _settings(tmp_path, 0.75)
    pool = Pool(emulator, cluster, kubeconfig, _machines(**{"gpu-b-0": {"visible_gpus": 7}}))
    outcome = cycle_pool(pool.target(), settings, store_url, clock=pool.clock)
    assert outcome.view is not None
    view = outcome.view
    assert view.record.status is RunStatus.HALTED
    assert outcome.exit_code == 1
    assert view.state is not None
    assert view.state.halt == (
        f"stratum {NC96} westus2-1: node gpu-b-0 failed in phase gpu-allocatable after 5m0s, "
        "gpu-allocatable budget 5m0s: nvidia.com/gpu allocatable is 7, the stratum had 8"
    )
    assert _statuses(view) == {"gpu-b-0": NodeStatus.FAILED}
    world = pool.world
    assert world.node("gpu-b-0")["spec"]["unschedulable"] is True  # left cordoned for a person
    assert world.node("gpu-b-0")["status"]["allocatable"]["nvidia.com/gpu"] == "7"
    for untouched in ("gpu-a-0", "gpu-a-1", "gpu-b-1"):
        assert world.cordons(untouched) == []
        assert world.node(untouched)["status"]["nodeInfo"]["bootID"] == f"{untouched}-boot-1"
    assert [r.name for r in world.requests(kmock.method.DELETE, "v1/nodes")] == ["gpu-b-0"]


def test_a_failed_validation_pod_halts_the_cycle_with_its_log_in_the_audit(
    emulator: ApiServer, cluster: KubernetesCluster, kubeconfig: Path, settings: Settings, store_url: str
) -> None:
    pool = Pool(emulator, cluster, kubeconfig, _machines(**{"gpu-a-0": {"validation_fails": True}}))
    log = "GPU 0: NVIDIA A100\ndcgmi diag: Error: PCIe replay counter check failed\n"

    async def any_pod_log(request: kmock.Request) -> bytes:
        return log.encode()

    emulator[kmock.method.GET, kmock.subresource("log")] << any_pod_log
    outcome = cycle_pool(pool.target(), settings, store_url, clock=pool.clock)
    assert outcome.view is not None
    assert outcome.view.record.status is RunStatus.HALTED
    # gpu-a-0 waited for its server's budget: the westus2 canary passed first and its stratum widened to
    # gpu-b-1, which was past its replace at the halt and finished; nothing started afterwards.
    assert _statuses(outcome.view) == {
        "gpu-a-0": NodeStatus.FAILED,
        "gpu-b-0": NodeStatus.DONE,
        "gpu-b-1": NodeStatus.DONE,
    }
    assert pool.world.node("gpu-a-0")["spec"]["unschedulable"] is True
    assert pool.world.cordons("gpu-a-1") == []  # the rest of the failed stratum is untouched
    (failure,) = [e for e in pool.events(settings, store_url) if e.kind == EventKind.NODE_FAILURE]
    assert failure.payload["phase"] == "validation"
    assert failure.payload["message"].startswith("validation pod kube-system/gpu-validate-gpu-a-0-")
    assert failure.payload["message"].endswith(" failed")
    assert "PCIe replay counter check failed" in failure.payload["log"]


def test_a_cycle_killed_mid_way_resumes_without_repeating_a_completed_phase(
    pool: Pool, settings: Settings, store_url: str
) -> None:
    started: list[CycleView] = []

    def kill_after_the_first_delete(now: float) -> None:
        if pool.world.requests(kmock.method.DELETE, "v1/nodes"):
            raise Killed

    pool.world.on_tick.append(kill_after_the_first_delete)
    with pytest.raises(Killed):
        cycle_pool(pool.target(), settings, store_url, clock=pool.clock, started=started.append)
    pool.world.on_tick.clear()
    (run,) = started
    resumed = resume_pool_cycle(run.record.id, settings, store_url, kubeconfig=str(pool.kubeconfig), clock=pool.clock)
    assert resumed.record.status is RunStatus.COMPLETED
    deleted = Counter(r.name for r in pool.world.requests(kmock.method.DELETE, "v1/nodes"))
    assert deleted == Counter(dict.fromkeys(pool.world.machines, 1))
    assert set(_phases(pool.events(settings, store_url)).values()) == {1}  # no phase recorded twice


def test_pause_from_another_terminal_is_honoured_and_resume_carries_on(
    pool: Pool, settings: Settings, store_url: str
) -> None:
    started: list[CycleView] = []

    def pause_once_a_node_is_back(now: float) -> None:
        if started and pool.world.machines["gpu-a-0"].boots == 2:
            other = wiring.run_store(settings, store_url)  # another terminal, another connection
            try:
                pause_cycle(other, started[0].record.id, "bob@example.com")
            finally:
                other.close()
            pool.world.on_tick.clear()

    pool.world.on_tick.append(pause_once_a_node_is_back)
    outcome = cycle_pool(pool.target(), settings, store_url, clock=pool.clock, started=started.append)
    assert outcome.view is not None
    paused = outcome.view
    assert paused.record.status is RunStatus.PAUSED
    assert outcome.exit_code == 0
    assert paused.state is not None
    assert not paused.state.nodes.in_hand  # the nodes in hand finished
    assert set(_statuses(paused).values()) == {NodeStatus.DONE}
    assert len(_statuses(paused)) < 4
    resumed = resume_pool_cycle(
        paused.record.id, settings, store_url, kubeconfig=str(pool.kubeconfig), clock=pool.clock
    )
    assert resumed.record.status is RunStatus.COMPLETED
    requests = [
        e.payload["request"] for e in pool.events(settings, store_url) if e.kind == EventKind.NODE_CYCLE_REQUEST
    ]
    assert requests == ["pause", "resume"]


def test_a_replace_command_gets_the_node_and_no_shell(
    pool: Pool, settings: Settings, store_url: str, tmp_path: Path
) -> None:
    record = tmp_path / "reimaged.jsonl"
    marker = tmp_path / "pwned"
    script = tmp_path / "reimage.py"
    script.write_text(
        f"import json, sys\nwith open({str(record)!r}, 'a') as out:\n    out.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    for machine in pool.world.machines.values():
        machine.labels["team"] = f"ml; touch {marker} $(touch {marker})"
        pool.world.emulator.objects["v1/nodes", None, machine.name] = machine.manifest()
    pool.world.reimage_log = record
    template = (
        f"{sys.executable} {script} {{{{ name }}}} {{{{ provider_id }}}} {{{{ zone }}}} {{{{ labels['team'] }}}}"
        " {{ labels['node.kubernetes.io/instance-type'] }}"
    )
    outcome = cycle_pool(pool.target(template), settings, store_url, clock=pool.clock)
    assert outcome.view is not None
    assert outcome.view.record.status is RunStatus.COMPLETED
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(call[0] for call in calls) == sorted(pool.world.machines)
    assert next(call for call in calls if call[0] == "gpu-b-0") == [
        "gpu-b-0",
        f"azure:///subscriptions/s/vmss/{NC96}/virtualMachines/gpu-b-0",
        "westus2-1",
        f"ml; touch {marker} $(touch {marker})",  # one argument, as written: nothing ran it
        NC96,
    ]
    assert not marker.exists()
    assert pool.world.requests(kmock.method.DELETE, "v1/nodes") == []  # machines reimaged, Nodes kept
