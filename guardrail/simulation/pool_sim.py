"""A deterministic node pool behind the cluster port, in simulated time.

Machines boot, register, turn Ready and advertise their GPUs on the schedule of pool_machines; drains
meet PodDisruptionBudgets; a deleted Node's machine is replaced by a new one with a new name, a reimaged
one comes back under its own name with a new boot ID; a machine whose boot passes the provider's limit
never joins. Everything random is seeded per machine and boot, so a rehearsal is the same every time.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import EvictionOutcome, NodeInfo, PodInfo, ServedResource
from guardrail.core.kube.labels import LabelSelector
from guardrail.core.kube.objects import ObjectRef
from guardrail.simulation import pool_machines as timing
from guardrail.simulation.pool_clock import SimulatedClock, Timeline
from guardrail.simulation.pool_commands import GpuTruth
from guardrail.simulation.pool_machines import Machine
from guardrail.simulation.pool_manifests import node_manifest, pod_from_manifest, pod_manifest
from guardrail.simulation.pool_pods import Pods
from guardrail.simulation.pool_spec import PoolSpec

SERVER_VERSION = "1.29.7"
_SERVED = {
    ("v1", "Node"): ServedResource("v1", "Node", "nodes", False),
    ("v1", "Pod"): ServedResource("v1", "Pod", "pods", True),
}


class PoolSimulator:
    """The cluster port (Cluster) over a simulated pool; `clock` advances it."""

    def __init__(self, spec: PoolSpec) -> None:
        self.spec = spec
        self.timeline = Timeline(spec.start)
        self.clock = SimulatedClock(self.timeline)
        self._machines: dict[str, Machine] = {}  # registered or booting
        self._serial = [0] * len(spec.groups)
        self._selectors: dict[str, LabelSelector] = {}
        self._pods = Pods(self.timeline, self._machines, self._factor)
        for index, group in enumerate(spec.groups):
            for _ in range(group.count):
                self._first_boot(self._new_machine(index))
        for workload in spec.workloads:
            for _ in range(workload.replicas):
                pod = self._pods.spawn(workload)
                pod.ready = pod.node is not None

    # -- reading ----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"simulated/{self.spec.pool}"

    def server_version(self) -> str:
        return SERVER_VERSION

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        return _SERVED.get((api_version, kind))

    def get(self, ref: ObjectRef, api_version: str) -> dict[str, Any] | None:
        if ref.group == "" and ref.kind == "Node":
            machine = self._machines.get(ref.name)
            return node_manifest(machine.info()) if machine is not None and machine.registered else None
        if ref.group == "" and ref.kind == "Pod":
            pod = self._pods.get(ref.namespace or "default", ref.name)
            return None if pod is None else pod_manifest(pod, self._time(pod.created))
        return None

    def list_objects(
        self, api_version: str, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        if kind == "Node":
            return [node_manifest(node) for node in self.nodes(label_selector)]
        if kind == "Pod":
            return [
                pod_manifest(pod, self._time(pod.created))
                for pod in self._pods.all()
                if (namespace is None or pod.namespace == namespace)
                and self._selector(label_selector).matches(pod.labels)
            ]
        return []

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        selector = self._selector(label_selector)
        shown = [m.info() for m in self._machines.values() if m.registered]
        return [node for node in shown if selector.matches(node.labels)] if selector.requirements else shown

    def pods(
        self, *, namespace: str | None = None, label_selector: str | None = None, node: str | None = None
    ) -> list[PodInfo]:
        selector = self._selector(label_selector)
        found = self._pods.on(node) if node is not None else list(self._pods.all())
        return [
            pod.info(self._time(pod.created))
            for pod in found
            if (namespace is None or pod.namespace == namespace) and selector.matches(pod.labels)
        ]

    def metrics_text(self) -> str | None:
        return None

    def ready(self) -> bool:
        return True

    # -- writing ----------------------------------------------------------------------------------------

    def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, dry_run: bool = False, force: bool = False
    ) -> dict[str, Any]:
        raise ClusterError(self.name, "server-side apply is not part of the node-pool simulation")

    def delete(self, ref: ObjectRef, api_version: str, *, dry_run: bool = False) -> bool:
        if ref.group == "" and ref.kind == "Node" and ref.name in self._machines:
            if not dry_run:
                self.delete_node(ref.name)
            return True
        if ref.group == "" and ref.kind == "Pod" and self._pods.get(ref.namespace or "default", ref.name):
            if not dry_run:
                self.delete_pod(ref.namespace or "default", ref.name)
            return True
        return False

    def label_node(self, name: str, labels: Mapping[str, str | None]) -> None:
        machine = self._registered(name)
        for key, value in labels.items():
            if value is None:
                machine.extra_labels.pop(key, None)
            else:
                machine.extra_labels[key] = value
        machine.changed()

    def set_unschedulable(self, name: str, unschedulable: bool) -> None:
        machine = self._registered(name)
        machine.unschedulable = unschedulable
        machine.changed()
        if not unschedulable:
            self._pods.schedule_pending()

    def evict(self, namespace: str, name: str) -> EvictionOutcome:
        return self._pods.evict(namespace, name)

    def delete_pod(self, namespace: str, name: str) -> None:
        pod = self._pods.get(namespace, name)
        if pod is None:
            raise ClusterError(self.name, f"pods {namespace}/{name} not found")
        self._pods.remove(pod)

    def delete_node(self, name: str) -> None:
        """The Node goes, and with it the machine: the pool creates a new one (with a new name)."""
        machine = self._registered(name)
        del self._machines[name]
        self._pods.machines_changed()
        machine.epoch += 1
        self._pods.clear_node(name)
        self._boot(self._new_machine(machine.group))

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        if manifest.get("apiVersion") != "v1" or manifest.get("kind") != "Pod":
            raise ClusterError(self.name, f"creating {manifest.get('kind')} is not part of the node-pool simulation")
        pod, deadline = pod_from_manifest(manifest)
        if self._pods.get(pod.namespace, pod.name) is not None:
            raise ClusterError(self.name, f"pods {pod.namespace}/{pod.name} already exists")
        self._pods.add(pod)
        machine = self._machines.get(pod.node or "")
        if machine is not None and machine.registered:
            truth = GpuTruth(machine.spec.gpus, machine.exposed_gpus, machine.spec.gpu_product, machine.xid)
            self._pods.run_validation(pod, manifest, truth, deadline)
        return pod_manifest(pod, self._time(pod.created))

    def pod_log(self, namespace: str, name: str, *, tail_lines: int = 50) -> str:
        pod = self._pods.get(namespace, name)
        if pod is None:
            raise ClusterError(self.name, f"pods {namespace}/{name} not found")
        return "\n".join(pod.log.splitlines()[-tail_lines:])

    # -- the provider -----------------------------------------------------------------------------------

    def reimage(self, name: str) -> None:
        """A replace command reimaged the machine: it reboots under its own name (its Node object stays)."""
        machine = self._registered(name)
        for pod in self._pods.on(name):
            if pod.owner_kind != "DaemonSet":
                self._pods.remove(pod)
        self._boot(machine)
        epoch, boot_id = machine.epoch, machine.boot_id
        self.timeline.at(timing.NODE_MONITOR_GRACE, lambda: self._silent(machine, epoch, boot_id))

    def _new_machine(self, group: int) -> Machine:
        index = self._serial[group]
        self._serial[group] += 1
        scale_set = f"aks-{self.spec.pool}-{group}-vmss"
        provider_id = (
            f"azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_{self.spec.pool}"
            f"/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}/virtualMachines/{index}"
        )
        spec = self.spec.groups[group]
        machine = Machine(f"{scale_set}{index:06d}", group, spec, provider_id, self.spec.pool)
        self._machines[machine.name] = machine
        self._pods.machines_changed()
        return machine

    def _first_boot(self, machine: Machine) -> None:
        """The pool as it stands when the rehearsal starts: registered weeks ago, healthy."""
        machine.boots = 1
        machine.registered, machine.ready_status = True, "True"
        machine.created_at = self.spec.start - timedelta(days=30)
        machine.boot_id = self._boot_id(machine)
        machine.exposed_gpus = machine.spec.gpus
        machine.gpus_advertised(machine.spec.gpus)
        self._pods.daemonset_pods(machine.name)
        self._pods.validator_completed(machine.name)

    def _boot(self, machine: Machine) -> None:
        machine.epoch += 1
        machine.boots += 1
        epoch, group = machine.epoch, machine.spec
        took = group.boot * self._factor(machine, "boot") + group.gpu_diag * self._factor(machine, "gpu_diag")
        if took > self.spec.boot_timeout:
            return  # the provider's boot script ran past its limit: the machine never joins
        self.timeline.at(took, lambda: self._register(machine, epoch))

    def _register(self, machine: Machine, epoch: int) -> None:
        if machine.epoch != epoch:
            return
        if not machine.registered:
            machine.created_at = self.timeline.now()
            self._pods.daemonset_pods(machine.name)
        machine.registered, machine.ready_status = True, "False"
        machine.boot_id = self._boot_id(machine)
        machine.allocatable_gpus, machine.gpu_labels, machine.conditions = 0, {}, {}
        machine.exposed_gpus, machine.xid = machine.spec.rejoined_gpus, machine.spec.xid
        machine.changed()
        self._after(machine, epoch, timing.REGISTER_TO_READY, "ready", self._turn_ready)

    def _turn_ready(self, machine: Machine) -> None:
        machine.ready_status = "True"
        machine.changed()
        self._pods.schedule_pending()
        epoch = machine.epoch
        self._after(machine, epoch, timing.READY_TO_PLUGIN, "plugin", lambda m: m.gpus_advertised(m.exposed_gpus))
        self._after(machine, epoch, timing.READY_TO_VALIDATOR, "validator", self._validated)
        if machine.xid:
            self._after(machine, epoch, timing.READY_TO_XID, "xid", _report_xid)

    def _validated(self, machine: Machine) -> None:
        self._pods.drop_validator(machine.name)
        self._pods.validator_completed(machine.name)

    def _silent(self, machine: Machine, epoch: int, boot_id: str) -> None:
        # The kubelet stopped posting status when the machine went down; it is Unknown until it is back.
        if machine.epoch == epoch and machine.boot_id == boot_id and machine.name in self._machines:
            machine.ready_status = "Unknown"
            machine.changed()

    def _after(self, machine: Machine, epoch: int, seconds: float, what: str, then: Callable[[Machine], None]) -> None:
        def fire() -> None:
            if machine.epoch == epoch and machine.name in self._machines:
                then(machine)

        self.timeline.at(seconds * self._factor(machine, what), fire)

    # -- determinism --------------------------------------------------------------------------------------

    def _factor(self, subject: Machine | str, what: str) -> float:
        """A duration's seeded jitter factor, the same for the same machine, boot and step every run."""
        if self.spec.jitter <= 0:
            return 1.0
        key = f"{subject.name}#{subject.boots}" if isinstance(subject, Machine) else subject
        rng = random.Random(f"{self.spec.seed}/{key}/{what}")
        return rng.uniform(1 - self.spec.jitter, 1 + self.spec.jitter)

    def _boot_id(self, machine: Machine) -> str:
        digest = hashlib.sha256(f"{self.spec.seed}/{machine.name}#{machine.boots}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16]))

    def _registered(self, name: str) -> Machine:
        machine = self._machines.get(name)
        if machine is None or not machine.registered:
            raise ClusterError(self.name, f"nodes {name} not found")
        return machine

    def _selector(self, text: str | None) -> LabelSelector:
        key = text or ""
        if key not in self._selectors:
            self._selectors[key] = LabelSelector.parse(key)
        return self._selectors[key]

    def _time(self, elapsed: float) -> datetime:
        return self.spec.start + timedelta(seconds=elapsed)


def _report_xid(machine: Machine) -> None:
    machine.conditions[timing.XID_CONDITION] = "True"
    machine.changed()


class ReimageReplacer:
    """The NodeReplacer of a pool whose replace command reimages machines in place."""

    def __init__(self, simulator: PoolSimulator) -> None:
        self._simulator = simulator

    def replace(self, node: NodeInfo) -> None:
        self._simulator.reimage(node.name)
