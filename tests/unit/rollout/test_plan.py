"""The plan: clusters smallest first, a canary then shares of the nodes, soaks and the DNS cache."""

from __future__ import annotations

import pytest

from guardrail.core.errors import BadInputError
from guardrail.core.rollout.plan import ClusterTarget, cluster_steps, plan_fleet, validate_batches
from guardrail.core.rollout.policy import RolloutPolicy

POLICY = RolloutPolicy()


@pytest.mark.parametrize(
    ("nodes", "steps"),
    [
        (50, [("canary", 1), ("10%", 5), ("50%", 25), ("100%", 50)]),  # 1% of 50 is the canary's node
        (500, [("canary", 1), ("1%", 5), ("10%", 50), ("50%", 250), ("100%", 500)]),
        (5000, [("canary", 1), ("1%", 50), ("10%", 500), ("50%", 2500), ("100%", 5000)]),
        (1, [("canary", 1)]),
        (3, [("canary", 1), ("50%", 2), ("100%", 3)]),
    ],
)
def test_steps_widen_from_a_one_node_canary(nodes: int, steps: list[tuple[str, int]]) -> None:
    assert [(s.label, s.nodes) for s in cluster_steps(ClusterTarget("c", nodes), POLICY)] == steps


def test_only_the_cluster_wide_step_soaks_the_dns_cache_lifetime() -> None:
    steps = cluster_steps(ClusterTarget("c", 500, dns_cache_ttl_seconds=1800), POLICY)
    assert [s.soak_seconds for s in steps] == [600, 600, 600, 600, 1800]
    assert [s.cluster_wide for s in steps] == [False, False, False, False, True]
    default_ttl = cluster_steps(ClusterTarget("c", 500), POLICY)
    assert default_ttl[-1].soak_seconds == 1200  # the policy's 20 minutes
    short = cluster_steps(ClusterTarget("c", 500), RolloutPolicy(soak_seconds=3600))
    assert short[-1].soak_seconds == 3600  # the configured soak when it is longer


def test_clusters_go_smallest_first_and_a_cluster_the_daemonset_misses_gets_no_steps() -> None:
    plan = plan_fleet(
        [ClusterTarget("prod", 5000), ClusterTarget("dev", 50), ClusterTarget("empty", 0), ClusterTarget("stg", 500)],
        POLICY,
    )
    assert [c.name for c in plan] == ["empty", "dev", "stg", "prod"]
    assert plan[0].steps == ()


def test_configured_batches_and_canary() -> None:
    policy = RolloutPolicy(canary_nodes=3, batches=(0.25, 1.0))
    assert [s.nodes for s in cluster_steps(ClusterTarget("c", 100), policy)] == [3, 25, 100]


@pytest.mark.parametrize(
    ("batches", "message"),
    [
        ((), "at least one share"),
        ((0.5, 0.1, 1.0), "increase"),
        ((0.5,), "last share must be 1.0"),
        ((0.0, 1.0), "above 0"),
    ],
)
def test_bad_batches_are_refused(batches: tuple[float, ...], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        validate_batches(batches)
