"""The cloud provider of a simulated pool: it creates machines, boots them on the schedule of
pool_machines, reimages them, and replaces a machine whose Node was deleted with a new one.

Everything random is seeded per machine and boot (`jitter`), so a rehearsal is the same every time.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, MutableMapping
from datetime import timedelta

from guardrail.simulation import pool_machines as timing
from guardrail.simulation.pool_clock import Timeline
from guardrail.simulation.pool_machines import Machine
from guardrail.simulation.pool_pods import Pods
from guardrail.simulation.pool_spec import PoolSpec


def jitter(spec: PoolSpec, subject: Machine | str, what: str) -> float:
    """A duration's seeded factor in [1 - jitter, 1 + jitter]: the same for the same machine (and boot) or
    pod, and the same step, in every run."""
    if spec.jitter <= 0:
        return 1.0
    key = f"{subject.name}#{subject.boots}" if isinstance(subject, Machine) else subject
    rng = random.Random(f"{spec.seed}/{key}/{what}")
    return rng.uniform(1 - spec.jitter, 1 + spec.jitter)


class Provider:
    """The machines' lives. `machines` holds every machine, registered or booting, by name."""

    def __init__(self, spec: PoolSpec, timeline: Timeline, machines: MutableMapping[str, Machine], pods: Pods) -> None:
        self._spec = spec
        self._timeline = timeline
        self._machines = machines
        self._pods = pods
        self._serial = [0] * len(spec.groups)

    def new_machine(self, group: int) -> Machine:
        """A machine of the group, not booted yet, named as the scale set names its instances."""
        index = self._serial[group]
        self._serial[group] += 1
        pool = self._spec.pool
        scale_set = f"aks-{pool}-{group}-vmss"
        provider_id = (
            f"azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_{pool}"
            f"/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}/virtualMachines/{index}"
        )
        machine = Machine(f"{scale_set}{index:06d}", group, self._spec.groups[group], provider_id, pool)
        self._machines[machine.name] = machine
        self._pods.machines_changed()
        return machine

    def first_boot(self, machine: Machine) -> None:
        """The pool as it stands when the rehearsal starts: registered weeks ago, healthy."""
        machine.boots = 1
        machine.registered, machine.ready_status = True, "True"
        machine.created_at = self._spec.start - timedelta(days=30)
        machine.boot_id = self._boot_id(machine)
        machine.exposed_gpus = machine.spec.gpus
        machine.gpus_advertised(machine.spec.gpus)
        self._pods.daemonset_pods(machine.name)
        self._pods.validator_completed(machine.name)

    def reimage(self, machine: Machine) -> None:
        """The machine reboots under its own name; its Node object stays and goes Unknown meanwhile."""
        for pod in self._pods.on(machine.name):
            if pod.owner_kind != "DaemonSet":
                self._pods.remove(pod)
        self._boot(machine)
        epoch, boot_id = machine.epoch, machine.boot_id
        self._timeline.at(timing.NODE_MONITOR_GRACE, lambda: self._silent(machine, epoch, boot_id))

    def replace_deleted(self, machine: Machine) -> None:
        """Its Node was deleted: the machine goes, with its pods, and a new one of the group boots."""
        del self._machines[machine.name]
        self._pods.machines_changed()
        machine.epoch += 1
        self._pods.clear_node(machine.name)
        self._boot(self.new_machine(machine.group))

    def _boot(self, machine: Machine) -> None:
        machine.epoch += 1
        machine.boots += 1
        epoch, group = machine.epoch, machine.spec
        took = group.boot * jitter(self._spec, machine, "boot") + group.gpu_diag * jitter(
            self._spec, machine, "gpu_diag"
        )
        if took > self._spec.boot_timeout:
            return  # the provider's boot script ran past its limit: the machine never joins
        self._timeline.at(took, lambda: self._register(machine, epoch))

    def _register(self, machine: Machine, epoch: int) -> None:
        if machine.epoch != epoch:
            return
        if not machine.registered:
            machine.created_at = self._timeline.now()
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

        self._timeline.at(seconds * jitter(self._spec, machine, what), fire)

    def _boot_id(self, machine: Machine) -> str:
        digest = hashlib.sha256(f"{self._spec.seed}/{machine.name}#{machine.boots}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16]))


def _report_xid(machine: Machine) -> None:
    machine.conditions[timing.XID_CONDITION] = "True"
    machine.changed()
