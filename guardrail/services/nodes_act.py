"""A node cycle's hands and eyes: read the pool as the engine needs it, and carry out its actions over the
cluster port and the node replacer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import assert_never

from guardrail.core.audit import EventKind
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError, ClusterError, ClusterUnreachableError, CommandError
from guardrail.core.kube.cluster import Cluster
from guardrail.core.nodes.actions import (
    Action,
    ActionResult,
    Cordon,
    CreatePod,
    CycleEvent,
    DeletePod,
    Evict,
    Observation,
    Replace,
    Uncordon,
)
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.nodes.settings import Phase
from guardrail.core.nodes.state import CycleState

_LOG_LINES = 20


@dataclass(frozen=True)
class Hands:
    """What acts on the pool: the cluster, the replacer of machines, and the clock that stamps results."""

    cluster: Cluster
    replacer: NodeReplacer
    clock: Clock


def observe(cluster: Cluster, pool: PoolSelector, watch: Sequence[str], clock: Clock) -> Observation:
    """The pool's nodes, and the pods on the nodes in `watch` (those in hand). Raises
    ClusterUnreachableError, ClusterError."""
    now = clock.now().timestamp()
    observation = Observation.read(now, cluster.nodes(pool.label_selector), pool.matches)
    pods = {name: cluster.pods(node=name) for name in watch if name in observation.nodes}
    return replace(observation, pods=pods)


def act(hands: Hands, actions: Sequence[Action]) -> list[ActionResult]:
    """Carry out the actions in order; a refusal is a result (the engine fails the node), not an exception.

    Raises ClusterUnreachableError when the API server stops answering: the rest is left for the next step,
    which decides again from what the cluster then shows."""
    results = []
    for action in actions:
        try:
            _do(hands, action)
            error = None
        except ClusterUnreachableError:
            raise
        except (ClusterError, CommandError, BadInputError) as exc:
            error = str(exc)
        results.append(ActionResult(action, hands.clock.now().timestamp(), error))
    return results


def _do(hands: Hands, action: Action) -> None:
    cluster = hands.cluster
    if isinstance(action, Cordon | Uncordon):
        cluster.set_unschedulable(action.node, isinstance(action, Cordon))
    elif isinstance(action, Evict):
        cluster.evict(action.namespace, action.name)  # refused by a budget: the drain tries again later
    elif isinstance(action, Replace):
        hands.replacer.replace(action.node)
    elif isinstance(action, CreatePod):
        cluster.create(action.manifest)
    elif isinstance(action, DeletePod):
        cluster.delete_pod(action.namespace, action.name)
    else:
        assert_never(action)


def with_pod_logs(cluster: Cluster, state: CycleState, events: Sequence[CycleEvent]) -> list[CycleEvent]:
    """The events, a failed validation's with the last lines of its validation pod's log (for the audit)."""
    enriched = []
    for event in events:
        progress = state.nodes.get(event.payload.get("node", ""))
        pod = progress.validation_pod if progress is not None else None
        if event.kind is EventKind.NODE_FAILURE and event.payload.get("phase") == Phase.VALIDATION.value and pod:
            try:
                log = cluster.pod_log(state.settings.validation.namespace, pod, tail_lines=_LOG_LINES)
            except ClusterError as exc:
                log = f"(log not readable: {exc})"
            enriched.append(CycleEvent(event.kind, {**event.payload, "log": log}))
        else:
            enriched.append(event)
    return enriched
