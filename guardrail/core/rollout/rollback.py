"""When a rolled-back cluster counts as recovered: every health gate passes again and the API server's
load and the Ready nodes are back where they were before the rollout."""

from __future__ import annotations

from guardrail.core.rollout.gates import Baseline, GateStatus, judge
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.readings import ClusterReading


def back_at_baseline(
    reading: ClusterReading, previous: ClusterReading | None, baseline: Baseline, policy: RolloutPolicy
) -> str | None:
    """None when `reading` is back at the cluster's pre-rollout baseline, else what is not."""
    results = judge(reading, previous, baseline, policy.gates)
    problems = [f"{r.gate}: {r.detail}" for r in results if r.status is not GateStatus.PASS]
    if reading.apiserver is not None:
        limit = baseline.utilisation + policy.baseline_tolerance
        if reading.apiserver.utilisation > limit:
            problems.append(
                f"seats in use {reading.apiserver.utilisation:.2f} above the baseline {baseline.utilisation:.2f} "
                f"+ {policy.baseline_tolerance:.2f}"
            )
    return "; ".join(problems) or None
