"""A GPU pool behind the emulated API server, and a clock that moves it: what the cloud provider, the
kubelet and the GPU operator do while a cycle waits.

The cycle reads and writes the pool only through the real adapter over HTTP. The world acts on the
emulator directly, as those other parties would: when the loop waits (PoolClock.sleep), time passes and
the world takes a step. A deleted Node registers again after its boot time, with a new boot ID, Ready,
its GPUs allocatable and the operator's validator pod completed on it; a reimaged machine goes NotReady and
comes back the same way; a validation pod that guardrail created is run to its end. No test sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kmock

from guardrail.adapters.kubernetes.cluster import KubernetesCluster
from guardrail.core.nodes.validation import VALIDATION_LABEL
from tests.adapters.kubernetes.emulator import ApiServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POOL_LABEL = "agentpool"
OPERATOR_NAMESPACE = "gpu-operator"


@dataclass
class Machine:
    """One node's machine: where it is, its GPUs, how long it takes to boot, and how it comes back."""

    name: str
    instance_type: str
    zone: str
    gpus: int = 8
    boot_seconds: float = 6 * 60
    visible_gpus: int | None = None  # GPUs it shows after a replacement (None: all of them)
    validation_fails: bool = False  # its validation pod fails after the replacement
    labels: dict[str, str] = field(default_factory=dict)
    boots: int = 1
    due: float | None = None  # when the machine being replaced registers again

    def manifest(self, *, ready: bool = True, replaced: bool = False) -> dict[str, Any]:
        gpus = self.visible_gpus if replaced and self.visible_gpus is not None else self.gpus
        labels = {
            POOL_LABEL: "gpu",
            "node.kubernetes.io/instance-type": self.instance_type,
            "topology.kubernetes.io/region": self.zone.rsplit("-", 1)[0],
            "topology.kubernetes.io/zone": self.zone,
            "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
            "nvidia.com/gpu.present": "true",
            **self.labels,
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": self.name, "labels": labels, "creationTimestamp": "2026-03-01T00:00:00Z"},
            "spec": {"providerID": f"azure:///subscriptions/s/vmss/{self.instance_type}/virtualMachines/{self.name}"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "allocatable": {"nvidia.com/gpu": str(gpus), "cpu": "96"},
                "nodeInfo": {
                    "bootID": f"{self.name}-boot-{self.boots}",
                    "kubeletVersion": "v1.29.7",
                    "osImage": "Ubuntu 22.04.4 LTS",
                    "kernelVersion": "5.15.0-1071-azure",
                },
            },
        }


class PoolWorld:
    """The pool's machines and the pods on them, moved forward by `tick`."""

    def __init__(self, emulator: ApiServer, cluster: KubernetesCluster, machines: Iterable[Machine]) -> None:
        self.emulator = emulator
        self.cluster = cluster  # the world reads through the API as the provider's controllers would
        self.machines = {m.name: m for m in machines}
        self.on_tick: list[Callable[[float], None]] = []
        self.reimage_log: Path | None = None  # a replace command's record of the machines it asked for
        self._reimaged = 0
        for machine in self.machines.values():
            emulator.objects["v1/nodes", None, machine.name] = machine.manifest()

    def put_pod(self, namespace: str, name: str, node: str, *, owner: str | None = None, **extra: Any) -> None:
        metadata: dict[str, Any] = {"name": name, "namespace": namespace, **extra}
        if owner is not None:
            metadata["ownerReferences"] = [{"kind": owner, "name": f"{name}-owner", "controller": True}]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"nodeName": node}}
        self.emulator.objects["v1/pods", namespace, name] = {**pod, "status": {"phase": "Running"}}

    def tick(self, now: float) -> None:
        listed = {node.name for node in self.cluster.nodes()}
        for machine in self.machines.values():
            if machine.due is None and machine.name not in listed:
                machine.due = now + machine.boot_seconds  # the pool re-creates the deleted Node's machine
            if machine.due is not None and now >= machine.due:
                self._register(machine)
        self._reimage(now)
        self._run_validation_pods()
        for react in self.on_tick:
            react(now)

    def _register(self, machine: Machine) -> None:
        machine.boots += 1
        machine.due = None
        self.emulator.objects["v1/nodes", None, machine.name] = machine.manifest(replaced=True)
        validator = f"nvidia-cuda-validator-{machine.name}-{machine.boots}"
        labels = {"app": "nvidia-cuda-validator"}
        self.put_pod(OPERATOR_NAMESPACE, validator, machine.name, owner="Job", labels=labels)
        self.emulator.objects["v1/pods", OPERATOR_NAMESPACE, validator].patch({"status": {"phase": "Succeeded"}})

    def _reimage(self, now: float) -> None:
        """A replace command asked for these machines (one JSON argv per line): each goes NotReady and
        boots again in place, keeping its name."""
        if self.reimage_log is None or not self.reimage_log.exists():
            return
        asked = self.reimage_log.read_text().splitlines()
        for line in asked[self._reimaged :]:
            machine = self.machines[json.loads(line)[0]]
            machine.due = now + machine.boot_seconds
            self.emulator.objects["v1/nodes", None, machine.name].patch(
                {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
            )
        self._reimaged = len(asked)

    def _run_validation_pods(self) -> None:
        for pod in self.cluster.pods(label_selector=f"{VALIDATION_LABEL}=true"):
            if pod.phase != "Pending" or pod.node is None:
                continue
            failed = self.machines[pod.node].validation_fails
            phase = "Failed" if failed else "Succeeded"
            self.emulator.objects["v1/pods", pod.namespace, pod.name].patch({"status": {"phase": phase}})

    # -- what the test reads back --------------------------------------------------------------------

    def node(self, name: str) -> dict[str, Any]:
        return dict(self.emulator.objects["v1/nodes", None, name].raw)

    def requests(self, method: kmock.method, resource: str) -> list[kmock.Request]:
        return list(self.emulator[method, kmock.resource(resource)])

    def cordons(self, name: str) -> list[bool]:
        """The unschedulable values the cycle patched onto the node, in order."""
        return [
            bool(r.data["spec"]["unschedulable"])
            for r in self.requests(kmock.method.PATCH, "v1/nodes")
            if r.name == name and "spec" in (r.data or {})
        ]


class PoolClock:
    """The loop's clock: reading it is free; waiting moves time on and lets the world take a step."""

    def __init__(self, world: PoolWorld, start: datetime = START) -> None:
        self.world = world
        self.moment = start
        self.waits = 0

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.waits += 1
        self.moment += timedelta(seconds=max(seconds, 0.0))
        self.world.tick(self.moment.timestamp())
