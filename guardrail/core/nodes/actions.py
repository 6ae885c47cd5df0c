"""What the engine reads (an observation of the pool), what it asks for (actions) and what it says
(events). The services turn actions into cluster calls and events into audit entries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.audit import EventKind
from guardrail.core.kube.cluster import GPU_RESOURCE, NodeInfo, PodInfo
from guardrail.core.nodes.capacity import serving_gpus


@dataclass(frozen=True, slots=True)
class Observation:
    """The pool as the cluster shows it at `now` (seconds since the epoch): its nodes by name, the pods on
    every node the engine watches (see engine.watched), and the GPUs its serving nodes have in all."""

    now: float
    nodes: Mapping[str, NodeInfo]
    pods: Mapping[str, Sequence[PodInfo]] = field(default_factory=dict)
    serving_gpus: int | None = None  # None: summed from `nodes` when needed

    @classmethod
    def read(cls, now: float, listed: Iterable[NodeInfo], belongs: Callable[[Mapping[str, str]], bool]) -> Observation:
        """The pool's nodes among those `listed`, and their serving GPUs, in one pass (it runs at every
        step over the whole pool)."""
        nodes: dict[str, NodeInfo] = {}
        total = 0
        for node in listed:
            if belongs(node.labels):
                nodes[node.name] = node
                # capacity.serving_gpus, spelled out: a call per node per step is a tenth of a rehearsal
                if not node.unschedulable and node.conditions.get("Ready") == "True":
                    text = node.allocatable.get(GPU_RESOURCE)
                    if text is not None and text.isdigit():
                        total += int(text)
        return cls(now, nodes, {}, total)

    def available_gpus(self, out: Iterable[str]) -> int:
        """GPUs that serve, leaving out the nodes named in `out` (those being cycled, failed, left)."""
        total = self.serving_gpus if self.serving_gpus is not None else sum(map(serving_gpus, self.nodes.values()))
        for name in out:
            node = self.nodes.get(name)
            if node is not None:
                total -= serving_gpus(node)
        return total


# Every action names the planned node it works for (`planned`), so that its result finds its way back.
@dataclass(frozen=True, slots=True)
class Cordon:
    planned: str
    node: str


@dataclass(frozen=True, slots=True)
class Uncordon:
    planned: str
    node: str


@dataclass(frozen=True, slots=True)
class Evict:
    planned: str
    node: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace the machine of `node` (the command template gets its name, provider ID, zone and labels)."""

    planned: str
    node: NodeInfo


@dataclass(frozen=True, slots=True)
class CreatePod:
    planned: str
    node: str
    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeletePod:
    planned: str
    node: str
    namespace: str
    name: str


Action = Cordon | Uncordon | Evict | Replace | CreatePod | DeletePod


@dataclass(frozen=True, slots=True)
class ActionResult:
    """How an action went: `error` is the refusal's text (None when it worked); `finished` the time it
    returned. An eviction a PodDisruptionBudget refused is not an error: the drain tries again."""

    action: Action
    finished: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CycleEvent:
    """Something the audit log keeps: a finished phase, a decision, a failure."""

    kind: EventKind
    payload: Mapping[str, Any]
