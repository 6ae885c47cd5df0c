"""Which nodes start now: batches that size themselves from the capacity headroom.

Strata take turns, one node each per round, so that no stratum starves another of the headroom. A
stratum that has not yet brought a node back healthy has only its canary in hand; once a node of it
passed, it takes as many as the headroom allows. A node that left the pool before its turn is skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from guardrail.core.audit import EventKind
from guardrail.core.kube.cluster import GPU_RESOURCE
from guardrail.core.nodes.actions import CycleEvent, Observation
from guardrail.core.nodes.capacity import fits, serving
from guardrail.core.nodes.records import NodeProgress, NodeStatus
from guardrail.core.nodes.state import CycleState


def admit(
    state: CycleState, observation: Observation, available: int, now: float
) -> tuple[CycleState, int, list[str], list[CycleEvent]]:
    """The state with the nodes that start now, the GPUs still serving after they left, the names of the
    nodes started, and the events."""
    picked: list[NodeProgress] = []
    cursor = list(state.cursor)
    in_hand = Counter(p.stratum for p in state.nodes.in_hand)
    passed = {index for index in range(len(state.strata)) if state.nodes.passed(index)}
    started: list[str] = []
    skipped: list[str] = []
    turned = True
    while turned:
        turned = False
        for index, plan in enumerate(state.strata):
            if cursor[index] >= len(plan.nodes) or (index not in passed and in_hand[index] > 0):
                continue
            name = plan.nodes[cursor[index]]
            node = observation.nodes.get(name)
            if node is None:
                picked.append(NodeProgress(name, index, 0, now, now, status=NodeStatus.SKIPPED, current=name))
                skipped.append(name)
            else:
                gpus = node.allocatable_count(GPU_RESOURCE) if serving(node) else 0
                if not fits(available, gpus, state.minimum_gpus):
                    continue
                available -= gpus
                in_hand[index] += 1
                picked.append(NodeProgress(name, index, gpus, now, now, current=name))
                started.append(name)
            cursor[index] += 1
            turned = True
    events: list[CycleEvent] = []
    if started:
        payload = {
            "decision": "start",
            "nodes": started,
            "strata": sorted({state.strata[p.stratum].key.label for p in picked if p.name in started}),
            "available_gpus": available,
            "minimum_gpus": state.minimum_gpus,
        }
        events.append(CycleEvent(EventKind.NODE_DECISION, payload))
    if skipped:
        payload = {"decision": "skip", "nodes": skipped, "reason": "the node left the pool before its turn"}
        events.append(CycleEvent(EventKind.NODE_DECISION, payload))
    known = state.known | set(started) if started else state.known
    state = replace(state.with_progress(picked), cursor=tuple(cursor), known=known)
    return state, available, started, events
