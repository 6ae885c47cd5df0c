"""The load gate before a widening: project the next step and the full fleet onto each cluster's seats
and refuse when any projection passes `rollout.max_apiserver_utilisation`."""

from __future__ import annotations

from typing import Any

from guardrail.core.rollout.plan import ClusterPlan, Step
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.projection import CostModel, Projection, project
from guardrail.core.rollout.state import RolloutState


def load_gate(
    s: RolloutState, cluster: ClusterPlan, step: Step, model: CostModel, policy: RolloutPolicy
) -> tuple[str | None, dict[str, Any]]:
    """(why the widening to `step` of `cluster` is refused, or None; the arithmetic for the record)."""
    limit = policy.max_apiserver_utilisation
    following = _projection(s, cluster, step.nodes, model, limit)
    fleet = [_projection(s, c, c.nodes, model, limit) for c in s.plan if c.steps]
    payload: dict[str, Any] = {
        "widen_to": {"cluster": cluster.name, "step": step.label, "nodes": step.nodes},
        "limit": limit,
        "model": model.describe(),
        "next": following.to_json(),
        "fleet": [p.to_json() for p in fleet],
    }
    if following.over:
        return f"load gate: the next step ({cluster.name} {step.label}) would pass {limit:.2f}: " + (
            following.arithmetic()
        ), payload
    over = [p for p in fleet if p.over]
    if over:
        names = ", ".join(p.cluster for p in over)
        return f"load gate: the full fleet would pass {limit:.2f} on {names}: " + "; ".join(
            p.arithmetic() for p in over
        ), payload
    return None, payload


def deployed_pods(s: RolloutState, cluster: ClusterPlan) -> int:
    """The nodes of `cluster` that run new pods after the steps taken so far."""
    index = s.plan.index(cluster)
    cluster_index, done = s.position
    if index < cluster_index:
        return cluster.nodes
    if index == cluster_index and done >= 0:
        return cluster.steps[done].nodes
    return 0


def _projection(s: RolloutState, cluster: ClusterPlan, pods: int, model: CostModel, limit: float) -> Projection:
    baseline = s.baselines[cluster.name]
    reading = s.previous.get(cluster.name)
    objects = reading.apiserver.objects if reading is not None and reading.apiserver is not None else baseline.objects
    own = next((p for p in reversed(s.points) if p.cluster == cluster.name), None)
    return project(
        cluster.name,
        pods=pods,
        pods_now=deployed_pods(s, cluster),
        objects_now=objects,
        baseline=baseline,
        model=model,
        own=own,
        limit=limit,
    )
