"""One node's way through its phases: given its progress and what the cluster shows, the next progress,
the actions to take and what to record. Every phase is confirmed by an observation, never assumed from
an action, so a resumed cycle neither repeats a phase that completed nor skips one that did not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from guardrail.core.audit import EventKind
from guardrail.core.kube.cluster import NodeInfo, PodInfo
from guardrail.core.nodes.actions import Action, Cordon, CreatePod, CycleEvent, DeletePod, Evict, Replace, Uncordon
from guardrail.core.nodes.records import Failure, NodeProgress, NodeStatus
from guardrail.core.nodes.settings import CycleSettings, Phase
from guardrail.core.nodes.state import StratumPlan
from guardrail.core.nodes.validation import (
    gpu_shortfall,
    read_validation,
    unhealthy_conditions,
    validation_pod_manifest,
    validation_pod_name,
)

# Pods a drain leaves alone: DaemonSet pods run on cordoned nodes by design, mirror pods are the kubelet's.
_UNEVICTED_OWNERS = frozenset({"DaemonSet", "Node"})
_FINISHED_POD_PHASES = frozenset({"Succeeded", "Failed"})
# Phases in which the replacement must stay cordoned: registered, not validated yet.
_GUARDED = frozenset({Phase.READY, Phase.GPU, Phase.VALIDATION})
# Statuses whose node in a guarded phase is cordoned: in hand, or failed (left out of service).
_KEPT_CORDONED = frozenset({NodeStatus.ACTIVE, NodeStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Step:
    """What came of looking at one node: its progress, actions, events, a newcomer it claimed as its
    replacement, and how soon it wants another look (seconds; None: at the next poll). Everything else
    happens at the poll's pace: a cycle is a controller reading the pool every poll_interval."""

    progress: NodeProgress
    actions: tuple[Action, ...] = ()
    events: tuple[CycleEvent, ...] = ()
    claimed: str | None = None
    wake: float | None = None


@dataclass(frozen=True, slots=True)
class NodeView:
    """What the engine hands a node's step: the time, the node now standing for it (None: not in the
    pool), the pods on it (None: not listed in this observation, which is never "no pods"), and the
    newcomers of its placement it may claim as its replacement."""

    now: float
    node: NodeInfo | None
    pods: Sequence[PodInfo] | None
    newcomers: Sequence[NodeInfo]


def advance(progress: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    """Move the node through as many phases as the observation confirms."""
    if progress.phase is Phase.REGISTER and progress.seen_down and view.node is None and not view.newcomers:
        # Booting, nothing registered yet: most of the nodes in hand at most steps. Only the budget can end it.
        deadline = (progress.replaced_at or progress.phase_started) + plan.budgets.boot
        if view.now < deadline:
            return Step(progress, wake=min(settings.poll_interval, deadline - view.now))
    actions: list[Action] = []
    events: list[CycleEvent] = []
    claimed: str | None = None
    wake: float | None = None
    current = progress
    while current.status is NodeStatus.ACTIVE:
        step = _PHASES[current.phase](current, plan, settings, view)
        actions.extend(step.actions)
        events.extend(step.events)
        claimed = claimed or step.claimed
        wake = step.wake
        moved = step.progress.phase is not current.phase or step.progress.status is not current.status
        current = step.progress
        if not moved or step.actions:
            break
        if step.claimed is not None:  # from now on the claimed newcomer is the node to look at
            view = NodeView(view.now, _find(view.newcomers, step.claimed), None, ())
    node = view.node
    if current.status in _KEPT_CORDONED and current.phase in _GUARDED and node is not None and not node.unschedulable:
        # A new Node registers schedulable: keep workloads off it until its GPUs are validated, and off it
        # for good when it failed (even in the very step that claimed it).
        actions.append(Cordon(current.name, current.current))
    return Step(current, tuple(actions), tuple(events), claimed, wake)


def finish_phase(progress: NodeProgress, plan: StratumPlan, at: float, to: Phase) -> tuple[NodeProgress, CycleEvent]:
    """The progress with its phase done at `at` (its duration kept) and `to` begun; the event saying so."""
    seconds = max(0.0, at - progress.phase_started)
    event = CycleEvent(
        EventKind.NODE_PHASE,
        {
            "node": progress.name,
            "current": progress.current,
            "stratum": plan.key.label,
            "stratum_index": progress.stratum,  # which of the cycle's strata: history reads it back
            "phase": progress.phase.value,
            "seconds": seconds,
            "budget": plan.budgets.of(progress.phase),
        },
    )
    durations = {**progress.durations, progress.phase.value: seconds}
    return replace(progress, phase=to, phase_started=at, durations=durations), event


def fail(
    progress: NodeProgress,
    plan: StratumPlan,
    measured: float,
    budget: float | None,
    message: str,
    *,
    duration: float | None = None,
) -> tuple[NodeProgress, CycleEvent]:
    """The node failed in its current phase: it is left as it is (cordoned), and the cycle halts.

    `measured` is what the budget was held against; `duration` the phase's own time when that differs
    (Ready shares the boot budget with register, so its budget counts from the replace)."""
    failure = Failure(progress.name, progress.stratum, progress.phase, measured, budget, message)
    own = measured if duration is None else duration
    durations = {**progress.durations, progress.phase.value: own}
    failed = replace(progress, status=NodeStatus.FAILED, failure=failure, durations=durations)
    payload = {
        **failure.to_json(),
        "stratum": plan.key.label,
        "stratum_index": progress.stratum,
        "current": progress.current,
    }
    return failed, CycleEvent(EventKind.NODE_FAILURE, payload)


def _elapsed(progress: NodeProgress, now: float) -> float:
    return now - progress.phase_started


def _timed_out(progress: NodeProgress, plan: StratumPlan, now: float, message: str) -> Step | None:
    budget = plan.budgets.of(progress.phase)
    if _elapsed(progress, now) < budget:
        return None
    failed, event = fail(progress, plan, _elapsed(progress, now), budget, message)
    return Step(failed, events=(event,))


def _gone(progress: NodeProgress) -> Step:
    event = CycleEvent(
        EventKind.NODE_DECISION,
        {"decision": "skip", "node": progress.name, "reason": "the node left the pool before its replace"},
    )
    return Step(replace(progress, status=NodeStatus.SKIPPED), events=(event,))


def _cordon(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    if view.node is None:
        return _gone(p)
    if view.node.unschedulable:
        done, event = finish_phase(p, plan, view.now, Phase.DRAIN)
        return Step(done, events=(event,))
    # The API server's answer confirms the cordon (engine.settle); the drain begins at the next poll.
    return _timed_out(p, plan, view.now, "the node is still schedulable") or Step(p, (Cordon(p.name, p.current),))


def evictable(pods: Sequence[PodInfo]) -> list[PodInfo]:
    """The pods a drain must evict: running or pending pods that no DaemonSet or kubelet owns."""
    return [p for p in pods if p.owner_kind not in _UNEVICTED_OWNERS and p.phase not in _FINISHED_POD_PHASES]


def _drain(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    if view.node is None:
        return _gone(p)
    if view.pods is None:
        return Step(p)  # its pods are listed from the next observation on
    left = evictable(view.pods)
    if not left:
        done, event = finish_phase(p, plan, view.now, Phase.REPLACE)
        return Step(done, events=(event,))
    names = ", ".join(f"{pod.namespace}/{pod.name}" for pod in left[:5])
    more = f" and {len(left) - 5} more" if len(left) > 5 else ""
    message = f"{len(left)} pod(s) still on the node ({names}{more}): evictions refused or not finished"
    timed_out = _timed_out(p, plan, view.now, message)
    if timed_out is not None:
        return timed_out
    evictions = tuple(Evict(p.name, p.current, pod.namespace, pod.name) for pod in left)
    return Step(p, evictions)  # refused evictions are tried again at the next poll


def _replace(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node = view.node
    if not p.replace_issued:
        if node is None:
            return _gone(p)
        issued = replace(p, replace_issued=True, boot_id=node.boot_id)
        payload = {"decision": "replace", "node": p.name, "stratum": plan.key.label, "provider_id": node.provider_id}
        return Step(issued, (Replace(p.name, node),), (CycleEvent(EventKind.NODE_DECISION, payload),))
    # Issued, and no result recorded: the process stopped in between. Did the replace happen?
    if node is None or not node.ready or (p.boot_id and node.boot_id and node.boot_id != p.boot_id):
        done, event = finish_phase(replace(p, seen_down=True), plan, view.now, Phase.REGISTER)
        return Step(replace(done, replaced_at=view.now), events=(event,))
    timed_out = _timed_out(p, plan, view.now, "the replace did not take effect")
    if timed_out is not None:
        return timed_out
    again = CycleEvent(
        EventKind.NODE_DECISION, {"decision": "replace-again", "node": p.name, "reason": "no result was recorded"}
    )
    return Step(p, (Replace(p.name, node),), (again,))


def _register(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node, now = view.node, view.now
    replaced_at = p.replaced_at if p.replaced_at is not None else p.phase_started
    deadline = replaced_at + plan.budgets.boot
    if node is not None:
        rebooted = bool(p.boot_id and node.boot_id and node.boot_id != p.boot_id)
        seen_down = p.seen_down or not node.ready
        if rebooted or (seen_down and node.ready and not (p.boot_id and node.boot_id)):
            done, event = finish_phase(replace(p, seen_down=seen_down), plan, now, Phase.READY)
            return Step(done, events=(event,))
        if seen_down != p.seen_down:
            p = replace(p, seen_down=seen_down)
    else:
        if not p.seen_down:
            p = replace(p, seen_down=True)
        if view.newcomers:
            newcomer = view.newcomers[0]
            done, event = finish_phase(replace(p, current=newcomer.name), plan, now, Phase.READY)
            return Step(done, events=(event,), claimed=newcomer.name)
    if now >= deadline:
        message = f"no replacement registered (the same name, or a new {plan.key.label} node)"
        failed, event = fail(p, plan, now - replaced_at, plan.budgets.boot, message)
        return Step(failed, events=(event,))
    return Step(p, wake=min(settings.poll_interval, deadline - now))


def _ready(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node, now = view.node, view.now
    replaced_at = p.replaced_at if p.replaced_at is not None else p.phase_started
    if node is not None and node.ready:
        done, event = finish_phase(p, plan, now, Phase.GPU)
        return Step(done, events=(event,))
    deadline = replaced_at + plan.budgets.boot
    if now >= deadline:
        failed, event = fail(
            p, plan, now - replaced_at, plan.budgets.boot, "registered but not Ready", duration=now - p.phase_started
        )
        return Step(failed, events=(event,))
    return Step(p, wake=min(settings.poll_interval, deadline - now))


def _gpu(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node, now = view.node, view.now
    if node is not None:
        unhealthy = unhealthy_conditions(node, settings)
        if unhealthy:
            message = f"GPU-unhealthy condition {', '.join(unhealthy)} is set on the node"
            failed, event = fail(p, plan, _elapsed(p, now), None, message)
            return Step(failed, events=(event,))
        if gpu_shortfall(node, plan.gpus) is None:
            done, event = finish_phase(p, plan, now, Phase.VALIDATION)
            return Step(done, events=(event,))
    shortfall = gpu_shortfall(node, plan.gpus) if node is not None else "the node left the pool"
    timed_out = _timed_out(p, plan, now, shortfall or "")
    return timed_out or Step(p, wake=min(settings.poll_interval, plan.budgets.gpu - _elapsed(p, now)))


def _validation(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node, now = view.node, view.now
    if node is None:
        return _timed_out(p, plan, now, "the node left the pool") or Step(p, wake=settings.poll_interval)
    if view.pods is None:
        return Step(p)  # the pods on a node claimed just now are listed from the next observation on
    actions: list[Action] = []
    if settings.validation.enabled:
        name = p.validation_pod or validation_pod_name(p.current, p.phase_started)
        if p.validation_pod != name:
            p = replace(p, validation_pod=name)
        namespace = settings.validation.namespace
        if not any(pod.name == name and pod.namespace == namespace for pod in view.pods):
            left = plan.budgets.validation - _elapsed(p, now)
            manifest = validation_pod_manifest(settings, p.current, name, plan.gpus, left)
            actions.append(CreatePod(p.name, p.current, manifest))
    reading = read_validation(node, view.pods, settings, p.validation_pod, plan.gpus)
    if reading.failed is not None:
        failed, event = fail(p, plan, _elapsed(p, now), None, reading.failed)
        return Step(failed, events=(event,))
    if reading.passed:
        done, event = finish_phase(p, plan, now, Phase.UNCORDON)
        cleanup: list[Action] = []
        if p.validation_pod is not None:
            cleanup.append(DeletePod(p.name, p.current, settings.validation.namespace, p.validation_pod))
        # The uncordon is confirmed by its answer; the next node starts once an observation shows it serving.
        return Step(done, (*cleanup, Uncordon(p.name, p.current)), (event,))
    message = "still waiting for: " + "; ".join(reading.waiting)
    timed_out = _timed_out(p, plan, now, message)
    return timed_out or Step(
        p, tuple(actions), wake=min(settings.poll_interval, plan.budgets.validation - _elapsed(p, now))
    )


def _uncordon(p: NodeProgress, plan: StratumPlan, settings: CycleSettings, view: NodeView) -> Step:
    node = view.node
    if node is None:
        if p.ending is NodeStatus.RELEASED:
            return _gone(p)
        failed, event = fail(p, plan, _elapsed(p, view.now), None, "the node left the pool after its validation")
        return Step(failed, events=(event,))
    if not node.unschedulable:
        done, event = finish_phase(p, plan, view.now, Phase.UNCORDON)
        return Step(replace(done, status=p.ending), events=(event,))
    return _timed_out(p, plan, view.now, "the node is still cordoned") or Step(p, (Uncordon(p.name, p.current),))


def _find(nodes: Sequence[NodeInfo], name: str) -> NodeInfo | None:
    return next((n for n in nodes if n.name == name), None)


_PHASES = {
    Phase.CORDON: _cordon,
    Phase.DRAIN: _drain,
    Phase.REPLACE: _replace,
    Phase.REGISTER: _register,
    Phase.READY: _ready,
    Phase.GPU: _gpu,
    Phase.VALIDATION: _validation,
    Phase.UNCORDON: _uncordon,
}
