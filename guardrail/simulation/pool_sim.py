"""A deterministic node pool behind the cluster port, in simulated time.

What the API server shows and accepts; the machines' lives are the provider's (pool_provider), the pods'
are pool_pods'. Drains meet PodDisruptionBudgets; a deleted Node's machine is replaced by a new one with a
new name, a reimaged one comes back under its own name with a new boot ID; a machine whose boot passes
the provider's limit never joins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import EvictionOutcome, Identity, NodeInfo, PodInfo, ServedResource
from guardrail.core.kube.labels import LabelSelector
from guardrail.core.kube.objects import ObjectRef
from guardrail.simulation.pool_clock import SimulatedClock, Timeline
from guardrail.simulation.pool_commands import GpuTruth
from guardrail.simulation.pool_machines import Machine
from guardrail.simulation.pool_manifests import node_manifest, pod_from_manifest, pod_manifest
from guardrail.simulation.pool_pods import Pods
from guardrail.simulation.pool_provider import Provider, jitter
from guardrail.simulation.pool_spec import PoolSpec

SERVER_VERSION = "1.29.7"
_SERVED = {
    ("v1", "Node"): ServedResource("v1", "Node", "nodes", False),
    ("v1", "Pod"): ServedResource("v1", "Pod", "pods", True),
}


POOL_USER = "guardrail"  # who the simulated API server says guardrail is


class PoolSimulator:
    """The cluster port (Cluster) over a simulated pool; `clock` advances it."""

    def __init__(self, spec: PoolSpec) -> None:
        self.spec = spec
        self.timeline = Timeline(spec.start)
        self.clock = SimulatedClock(self.timeline)
        self._machines: dict[str, Machine] = {}  # registered or booting
        self._selectors: dict[str, LabelSelector] = {}
        self._pods = Pods(self.timeline, self._machines, partial(jitter, spec))
        self._provider = Provider(spec, self.timeline, self._machines, self._pods)
        for index, group in enumerate(spec.groups):
            for _ in range(group.count):
                self._provider.first_boot(self._provider.new_machine(index))
        for workload in spec.workloads:
            for _ in range(workload.replicas):
                pod = self._pods.spawn(workload)
                pod.ready = pod.node is not None

    # -- reading ----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"simulated/{self.spec.pool}"

    @property
    def default_namespace(self) -> str:
        return "default"

    def server_version(self) -> str:
        return SERVER_VERSION

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        return _SERVED.get((api_version, kind))

    def served_resources(self) -> list[ServedResource]:
        return list(_SERVED.values())

    def preferred(self, group: str, kind: str) -> ServedResource | None:
        """The served version of a kind of the core group (a node pool serves nothing else)."""
        return _SERVED.get(("v1", kind)) if group == "" else None

    def count_objects(self, api_version: str, kind: str) -> int | None:
        if (api_version, kind) == ("v1", "Node"):
            return sum(1 for m in self._machines.values() if m.registered)
        if (api_version, kind) == ("v1", "Pod"):
            return sum(1 for _ in self._pods.all())
        return None

    def pod_metrics_text(self, namespace: str, name: str, *, port: int, path: str = "/metrics") -> str | None:
        """None: the pool's pods serve no metrics. Raises ClusterError for a pod that does not exist."""
        if self._pods.get(namespace, name) is None:
            raise ClusterError(self.name, f"pods {namespace}/{name} not found")
        return None

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

    def identity(self) -> Identity:
        """The user a node cycle runs as: the pool's API server authenticates every client alike."""
        return Identity(POOL_USER, ("system:authenticated",))

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
        self._provider.replace_deleted(self._registered(name))

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
        self._provider.reimage(self._registered(name))

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


class ReimageReplacer:
    """The NodeReplacer of a pool whose replace command reimages machines in place."""

    def __init__(self, simulator: PoolSimulator) -> None:
        self._simulator = simulator

    def replace(self, node: NodeInfo) -> None:
        self._simulator.reimage(node.name)

    def describe(self, node: NodeInfo) -> str:
        return f"reimage the machine of {node.name} in place (simulated)"
