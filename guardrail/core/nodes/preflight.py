"""Before a full cycle: inconsistencies inside each stratum, and strata that never passed one.

The outage this answers: a GPU diagnostics command ran past its boot-script timeout on one node type in
one region only. What tells such a stratum apart beforehand is that it differs (a kubelet, a driver, an OS
image that its neighbours do not have), that its earlier boots came close to the budget, or that it has
never been through a cycle at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo
from guardrail.core.nodes.history import PoolHistory, StratumHistory
from guardrail.core.nodes.records import format_seconds
from guardrail.core.nodes.state import CycleState
from guardrail.core.nodes.strata import StratumKey
from guardrail.core.nodes.timings import p95

# Driver version labels of NVIDIA's GPU feature discovery (the full one on recent releases).
DRIVER_FULL_LABEL = "nvidia.com/cuda.driver-version.full"
DRIVER_PART_LABELS = ("nvidia.com/cuda.driver.major", "nvidia.com/cuda.driver.minor", "nvidia.com/cuda.driver.rev")
_SHOWN = 3  # node names quoted per odd value


@dataclass(frozen=True, slots=True)
class PreflightFinding:
    """Something to look at before the cycle. `blocking`: the cycle would halt on it."""

    stratum: str
    check: str  # kubelet, os-image, kernel, gpu-product, driver, gpus, health, boot-history, never-passed, capacity
    message: str
    blocking: bool = False


def driver_version(node: NodeInfo) -> str:
    """The NVIDIA driver version its labels show, or "" when they show none."""
    labels = node.labels
    if DRIVER_FULL_LABEL in labels:
        return labels[DRIVER_FULL_LABEL]
    parts = [labels.get(label, "") for label in DRIVER_PART_LABELS]
    return ".".join(parts) if any(parts) else ""


def preflight(state: CycleState, nodes: Mapping[str, NodeInfo], history: PoolHistory | None) -> list[PreflightFinding]:
    """The findings for a planned cycle of `nodes` (the pool's nodes by name). Without a `history` (no store
    to read earlier cycles from) nothing is said of earlier cycles: not knowing is not "never passed"."""
    findings: list[PreflightFinding] = []
    headroom = state.lowest_available - state.minimum_gpus
    for plan in state.strata:
        label = plan.key.describe()
        members = [nodes[name] for name in plan.nodes if name in nodes]
        for check, value in (("kubelet", _kubelet), ("driver", driver_version)):
            odd = _odd_ones(members, value)
            if odd:
                findings.append(PreflightFinding(label, check, f"{check} differs inside the stratum: {odd}"))
        short = [n.name for n in members if n.allocatable_count(GPU_RESOURCE) != plan.gpus]
        if short:
            findings.append(
                PreflightFinding(label, "gpus", f"{_names(short)} do not show the {plan.gpus} GPUs the others have")
            )
        unwell = [n.name for n in members if not n.ready or n.unschedulable]
        if unwell:
            findings.append(PreflightFinding(label, "health", f"{_names(unwell)} already not Ready or cordoned"))
        if plan.gpus > max(headroom, 0):
            message = (
                f"a node of {plan.gpus} GPUs does not fit the headroom of {max(headroom, 0)} GPUs "
                f"(floor {state.settings.capacity_floor:g} of {state.total_gpus}): it can never start"
            )
            findings.append(PreflightFinding(label, "capacity", message, blocking=True))
        if history is not None:
            past = history.of(plan.key)
            findings.extend(_history_findings(label, past, plan.budgets.boot, state.settings.warn_ratio))
    findings.extend(_splits(state))
    return findings


def _history_findings(label: str, past: StratumHistory, budget: float, warn_ratio: float) -> list[PreflightFinding]:
    findings = []
    if past.passed == 0:
        findings.append(PreflightFinding(label, "never-passed", "this stratum has never passed a cycle"))
    if past.boot_seconds:
        slow = p95(past.boot_seconds)
        if slow > warn_ratio * budget:
            message = (
                f"boot p95 in earlier cycles is {format_seconds(slow)}, {slow / budget:.0%} of the "
                f"{format_seconds(budget)} boot budget"
            )
            if past.timed_out:
                message += f"; {past.timed_out} boot(s) ran out of it"
            findings.append(PreflightFinding(label, "boot-history", message, blocking=slow >= budget))
    return findings


def _splits(state: CycleState) -> list[PreflightFinding]:
    """Strata of one instance type and zone that differ by OS image, kernel or GPU product."""
    by_placement: dict[tuple[str, str, str], list[StratumKey]] = {}
    for plan in state.strata:
        by_placement.setdefault(plan.key.placement, []).append(plan.key)
    sizes = {plan.key: len(plan.nodes) for plan in state.strata}
    findings = []
    for keys in by_placement.values():
        if len(keys) < 2:
            continue
        for check, part in (("os-image", "os_image"), ("kernel", "kernel"), ("gpu-product", "gpu_product")):
            values = Counter[str]()
            for key in keys:
                values[getattr(key, part) or "(none)"] += sizes[key]
            if len(values) > 1:
                spread = ", ".join(f"{count} node(s) {value}" for value, count in values.most_common())
                findings.append(PreflightFinding(keys[0].label, check, f"{check} differs between its nodes: {spread}"))
    return findings


def _kubelet(node: NodeInfo) -> str:
    return node.kubelet_version


def _odd_ones(members: Sequence[NodeInfo], read: Callable[[NodeInfo], str]) -> str:
    """`1 node(s) v1.28.9 (n1)` for every value but the most common one; "" when all agree."""
    values = Counter(read(node) for node in members)
    if len(values) < 2:
        return ""
    common = values.most_common(1)[0][0]
    parts = []
    for found, count in values.most_common()[1:]:
        names = [n.name for n in members if read(n) == found]
        parts.append(f"{count} node(s) {found or '(none)'} ({_names(names)})")
    return f"most have {common or '(none)'}; " + "; ".join(parts)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
