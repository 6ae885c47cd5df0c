"""The pods of a simulated pool: DaemonSet pods, Deployments' pods guarded by PodDisruptionBudgets (so a
drain can be blocked), the GPU operator's validator pods, and validation pods that really run their
command against the machine's GPUs (pool_commands)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.core.kube.cluster import GPU_RESOURCE, EvictionOutcome, PodInfo
from guardrail.simulation.pool_clock import Timeline
from guardrail.simulation.pool_commands import GpuTruth, run_container
from guardrail.simulation.pool_machines import Machine
from guardrail.simulation.pool_spec import WorkloadSpec

# kube-scheduler's minFeasibleNodesToFind: on a large cluster it scores only this many fitting nodes.
FEASIBLE_NODES = 100
DAEMONSETS = (("gpu-operator", "nvidia-device-plugin-daemonset"), ("gpu-operator", "nvidia-operator-validator"))
VALIDATOR_NAMESPACE = "gpu-operator"
VALIDATOR_LABELS = {"app": "nvidia-cuda-validator"}


@dataclass(slots=True)
class Pod:
    namespace: str
    name: str
    node: str | None
    phase: str = "Pending"
    ready: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    owner_kind: str | None = None
    owner_name: str | None = None
    gpus: int = 0
    workload: WorkloadSpec | None = None
    log: str = ""
    created: float = 0.0
    alive: bool = True

    _info: PodInfo | None = None

    def info(self, created_at: datetime) -> PodInfo:
        """The pod as the API shows it; kept while its node, phase and readiness stay what they were."""
        cached = self._info
        if cached is None or (cached.node, cached.phase, cached.ready) != (self.node, self.phase, self.ready):
            cached = PodInfo(
                self.namespace,
                self.name,
                self.node,
                self.phase,
                self.ready,
                0,
                dict(self.labels),
                self.owner_kind,
                self.owner_name,
                created_at,
            )
            self._info = cached
        return cached

    @property
    def holds_gpus(self) -> bool:
        return self.phase in ("Pending", "Running") and self.node is not None


class Pods:
    """Every pod, indexed by name and by node."""

    def __init__(
        self, timeline: Timeline, machines: Mapping[str, Machine], factor: Callable[[str, str], float]
    ) -> None:
        self._timeline = timeline
        self._machines = machines
        self._factor = factor  # (key, what) -> the seeded jitter factor
        self._by_name: dict[tuple[str, str], Pod] = {}
        self._by_node: dict[str, dict[tuple[str, str], Pod]] = {}
        self._by_workload: dict[str, dict[tuple[str, str], Pod]] = {}
        self._used: dict[str, int] = {}  # GPUs held on each node by its pending and running pods
        self._pending: list[Pod] = []
        self._serial = 0
        self._order: list[str] | None = None  # machine names, for the scheduler's rotating search
        self._next = 0

    def all(self) -> Iterator[Pod]:
        return iter(self._by_name.values())

    def on(self, node: str) -> list[Pod]:
        return list(self._by_node.get(node, {}).values())

    def get(self, namespace: str, name: str) -> Pod | None:
        return self._by_name.get((namespace, name))

    def add(self, pod: Pod) -> Pod:
        pod.created = self._timeline.elapsed
        key = (pod.namespace, pod.name)
        self._by_name[key] = pod
        if pod.node is not None:
            self._by_node.setdefault(pod.node, {})[key] = pod
        if pod.workload is not None:
            self._by_workload.setdefault(pod.workload.name, {})[key] = pod
        self._hold(pod, 1)
        return pod

    def remove(self, pod: Pod) -> None:
        self._hold(pod, -1)
        pod.alive = False
        key = (pod.namespace, pod.name)
        self._by_name.pop(key, None)
        if pod.node is not None:
            self._by_node.get(pod.node, {}).pop(key, None)
        if any(waiting is pod for waiting in self._pending):
            self._pending = [waiting for waiting in self._pending if waiting is not pod]
        if pod.workload is not None:
            self._by_workload.get(pod.workload.name, {}).pop(key, None)
            self.spawn(pod.workload)  # the ReplicaSet replaces it

    def settle(self, pod: Pod, phase: str, log: str) -> None:
        """A running or pending pod ended (Succeeded, Failed): its GPUs are free again."""
        if pod.alive and pod.phase in ("Pending", "Running"):
            self._hold(pod, -1)
            pod.phase, pod.log = phase, log

    def _hold(self, pod: Pod, sign: int) -> None:
        if pod.gpus and pod.holds_gpus and pod.node is not None:
            self._used[pod.node] = self._used.get(pod.node, 0) + sign * pod.gpus

    def machines_changed(self) -> None:
        """A machine was added or removed: the scheduler's search order is rebuilt when next needed."""
        self._order = None

    def clear_node(self, node: str) -> None:
        """The machine is gone or reimaged: every pod on it is gone (workload pods come back elsewhere)."""
        for pod in list(self._by_node.get(node, {}).values()):
            self.remove(pod)
        self._by_node.pop(node, None)

    # -- Deployments and their PodDisruptionBudgets ---------------------------------------------------

    def spawn(self, workload: WorkloadSpec, node: str | None = None, ready: bool = False) -> Pod:
        """A new pod of the workload, placed on `node` or by the scheduler (Pending when nothing fits)."""
        self._serial += 1
        pod = Pod(
            workload.namespace,
            f"{workload.name}-{self._serial:05d}",
            None,
            labels={"app": workload.name},
            owner_kind="ReplicaSet",
            owner_name=f"{workload.name}-rs",
            gpus=workload.gpus,
            workload=workload,
        )
        if node is not None:
            self._bind(pod, node, ready)
        else:
            self.add(pod)
            self._pending.append(pod)
            self.schedule_pending()
        return pod

    def evict(self, namespace: str, name: str) -> EvictionOutcome:
        pod = self.get(namespace, name)
        if pod is None:
            return EvictionOutcome.GONE
        workload = pod.workload
        if workload is not None and pod.ready and self._disruptions_allowed(workload) <= 0:
            return EvictionOutcome.BLOCKED
        self.remove(pod)
        return EvictionOutcome.EVICTED

    def _disruptions_allowed(self, workload: WorkloadSpec) -> int:
        healthy = sum(1 for p in self._by_workload.get(workload.name, {}).values() if p.ready)
        if workload.min_available is not None:
            return healthy - workload.min_available
        if workload.max_unavailable is not None:
            return workload.max_unavailable - (workload.replicas - healthy)
        return 1  # no budget: any pod may go

    def schedule_pending(self) -> None:
        for pod in list(self._pending):
            node = self._fit(pod.gpus)
            if node is None:
                return  # nothing fits now; tried again when a node comes back or is uncordoned
            self._pending.remove(pod)
            self._bind(pod, node, ready=False)

    def _fit(self, gpus: int) -> str | None:
        """Where the scheduler puts a pod: like kube-scheduler on a large cluster, it searches from where
        it stopped last, scores the first FEASIBLE_NODES nodes that fit (most free GPUs, then fewest
        pods), and takes the best."""
        if self._order is None:
            self._order = list(self._machines)
        order = self._order
        best: tuple[int, int, str] | None = None
        found = 0
        for step in range(len(order)):
            name = order[(self._next + step) % len(order)]
            machine = self._machines.get(name)
            if machine is None or not machine.serving:
                continue
            free = machine.allocatable_gpus - self._used.get(name, 0)
            if free < gpus:
                continue
            rank = (-free, len(self._by_node.get(name, {})), name)
            if best is None or rank < best:
                best = rank
            found += 1
            if found >= FEASIBLE_NODES:
                self._next = (self._next + step + 1) % len(order)
                break
        return None if best is None else best[2]

    def free_gpus(self, node: str) -> int:
        machine = self._machines.get(node)
        return 0 if machine is None else machine.allocatable_gpus - self._used.get(node, 0)

    def _bind(self, pod: Pod, node: str, ready: bool) -> None:
        self._by_name.pop((pod.namespace, pod.name), None)
        if pod.workload is not None:
            self._by_workload.get(pod.workload.name, {}).pop((pod.namespace, pod.name), None)
        pod.node, pod.phase, pod.ready = node, "Running", ready
        self.add(pod)
        if not ready and pod.workload is not None:
            delay = pod.workload.start * self._factor(pod.name, "start")
            self._timeline.at(delay, lambda: _become_ready(pod))

    # -- the node's own pods ----------------------------------------------------------------------------

    def daemonset_pods(self, node: str) -> None:
        for namespace, daemonset in DAEMONSETS:
            pod = Pod(namespace, f"{daemonset}-{_suffix(node)}", node, "Running", True)
            pod.labels, pod.owner_kind, pod.owner_name = {"app": daemonset}, "DaemonSet", daemonset
            self.add(pod)

    def validator_completed(self, node: str) -> None:
        """The GPU operator's CUDA validator ran on the node and completed."""
        pod = Pod(VALIDATOR_NAMESPACE, f"nvidia-cuda-validator-{_suffix(node)}", node, "Succeeded")
        pod.labels = dict(VALIDATOR_LABELS)
        self.add(pod)

    def drop_validator(self, node: str) -> None:
        for pod in self.on(node):
            if pod.labels == VALIDATOR_LABELS:
                self.remove(pod)

    # -- validation pods --------------------------------------------------------------------------------

    def run_validation(self, pod: Pod, manifest: Mapping[str, Any], truth: GpuTruth, deadline: float | None) -> None:
        """Admit and run a pod pinned to its node as a kubelet would: refused when its GPUs are not free."""
        machine = self._machines.get(pod.node or "")
        if machine is None or not machine.ready:
            return  # the kubelet of a missing or not-Ready node never starts it: it stays Pending
        free = self.free_gpus(machine.name) + pod.gpus  # the pod itself is already on the node
        if pod.gpus > free:
            refused = (
                f"UnexpectedAdmissionError: requested {pod.gpus} {GPU_RESOURCE}, {free} available on {machine.name}"
            )
            self.settle(pod, "Failed", refused + "\n")
            return
        pod.phase = "Running"
        run = run_container(_command(manifest), truth, pod.gpus)
        if deadline is not None and run.seconds > deadline:
            self._timeline.at(deadline, lambda: self.settle(pod, "Failed", run.log + "DeadlineExceeded\n"))
        else:
            self._timeline.at(
                run.seconds, lambda: self.settle(pod, "Succeeded" if run.succeeded else "Failed", run.log)
            )


def _become_ready(pod: Pod) -> None:
    if pod.alive and pod.phase == "Running":
        pod.ready = True


def _command(manifest: Mapping[str, Any]) -> list[str]:
    containers = manifest.get("spec", {}).get("containers") or [{}]
    first = containers[0] if isinstance(containers[0], Mapping) else {}
    return [str(part) for part in (first.get("command") or []) + (first.get("args") or [])]


def _suffix(node: str) -> str:
    return node.rsplit("-", 1)[-1]
