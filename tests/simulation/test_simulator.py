"""The fleet simulator: deterministic, overloaded the way the model says, contained by APF objects, and
seen only through what a real cluster shows."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers
from guardrail.core.errors import BadInputError, ClusterError, ClusterUnreachableError
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.rollout.manifests import containment
from guardrail.simulation.fleet import SimulatedFleet
from guardrail.simulation.selectors import selector
from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec, FleetSpec

DAEMONSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "telemetry"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"serviceAccountName": "agent", "containers": [{"name": "agent", "image": "agent:1"}]},
        },
    },
}


def _fleet(nodes: int = 2000, seed: int = 1, scope: str = "cluster") -> SimulatedFleet:
    return SimulatedFleet(
        FleetSpec(
            clusters=(ClusterSpec("c", nodes, 30, 200, 0.3, 600.0),),
            calls=(CallSpec("list", "pods", scope, 30.0),),
            cost=CostSpec(2.0, 0.05),
            seed=seed,
        )
    )


def _run(seed: int) -> tuple[list[Any], str]:
    fleet = _fleet(seed=seed)
    cluster = fleet.cluster("c")
    cluster.apply(DAEMONSET, field_manager="test")
    fleet.run(3600)
    world = cluster.world  # overloaded by now: read the exposition directly, not through the port
    return fleet.truth(), world.api.metrics_text(world.objects())


def test_same_seed_same_result_and_another_seed_another() -> None:
    assert _run(1) == _run(1)
    assert _run(1)[1] != _run(2)[1]


def test_an_overloaded_api_server_takes_nodes_then_dns_down() -> None:
    fleet = _fleet()
    cluster = fleet.cluster("c")
    cluster.apply(DAEMONSET, field_manager="test")
    fleet.run(40)  # the pods start within 25 s
    # 2,000 pods x (2 ms + 0.05 ms x 62,002 pods) / 30 s = 206.8 seats; 0.3 + 206.8 / 200 seats.
    world = cluster.world
    assert world.api.utilisation == pytest.approx(0.3 + 2000 * (2 + 0.05 * 62_002) / 1000 / 30 / 200, rel=0.03)
    assert world.nodes_ready
    fleet.run(60)
    assert not world.nodes_ready  # 60 s above utilisation 1: heartbeats fail
    assert not cluster.ready()
    with pytest.raises(ClusterUnreachableError, match="overloaded"):
        cluster.nodes()
    assert world.dns_failures == 0  # the node caches still answer
    fleet.run(700)
    assert world.dns_failing()
    assert world.dns_failures > 0
    [truth] = fleet.truth()
    assert truth.down
    assert truth.peak_utilisation > 1


def test_containment_caps_the_workload_and_the_rollback_identity_is_served() -> None:
    fleet = _fleet()
    cluster = fleet.cluster("c")
    for manifest in containment(DAEMONSET, shares=20, rollback_user="guardrail"):
        cluster.apply(manifest, field_manager="test")
    cluster.apply(DAEMONSET, field_manager="test")
    fleet.run(300)
    world = cluster.world
    # The bounded level has ceil(200 x 20 / 265) = 16 seats: the rest of the demand gets 429s.
    assert world.api.bound_seats == 16
    assert world.api.utilisation == pytest.approx(0.3 + 16 / 200, abs=0.01)
    assert world.nodes_ready
    sample = parse_apiserver_metrics(cluster.metrics_text() or "")
    flow = sample.flows["guardrail-workload-telemetry-agent"]
    assert flow.rejected_total > 0
    assert sample.throttled_total > 0
    assert sample.seats == 200


def test_guardrail_is_served_under_overload_once_its_flow_schema_is_exempt() -> None:
    fleet = _fleet()
    cluster = fleet.cluster("c")
    rollback = containment(DAEMONSET, shares=20, rollback_user="guardrail")[2]
    cluster.apply(rollback, field_manager="test")
    cluster.apply({**DAEMONSET, "spec": {**DAEMONSET["spec"], "template": {
        "metadata": {"labels": {"app": "agent"}},
        "spec": {"serviceAccountName": "other", "containers": []},
    }}}, field_manager="test")  # fmt: skip
    fleet.run(120)
    assert cluster.world.api.overloaded()
    assert len(cluster.nodes()) == 2000  # served: exempt
    assert cluster.delete(ObjectRef("apps", "DaemonSet", "telemetry", "agent"), "apps/v1")
    fleet.run(120)
    assert not cluster.world.api.overloaded()


def test_node_scoped_lists_cost_the_same_on_any_cluster() -> None:
    small, large = _fleet(nodes=50, scope="node"), _fleet(nodes=5000, scope="node")
    for fleet in (small, large):
        fleet.cluster("c").apply(DAEMONSET, field_manager="test")
        fleet.run(60)
    per_pod = [f.cluster("c").world._workload_load()[0] / f.cluster("c").world.running_workload for f in (small, large)]
    assert per_pod[0] == pytest.approx(per_pod[1])
    assert per_pod[0] == pytest.approx((2 + 0.05 * 31) / 1000 / 30)


def test_the_daemonset_keeps_off_held_nodes_and_reaches_nodes_that_join() -> None:
    from guardrail.core.rollout.manifests import with_hold_affinity

    fleet = _fleet(nodes=20)
    cluster = fleet.cluster("c")
    label = "guardrail.dev/rollout-agent"
    names = [n.name for n in cluster.nodes()]
    for name in names:
        cluster.label_node(name, {label: "hold"})
    cluster.apply(with_hold_affinity(DAEMONSET, label), field_manager="t")
    assert cluster.pods(label_selector="app=agent") == []
    for name in names[:3]:
        cluster.label_node(name, {label: None})
    fleet.run(30)
    pods = cluster.pods(namespace="telemetry", label_selector="app=agent")
    assert sorted(p.node or "" for p in pods) == names[:3]
    assert all(p.ready for p in pods)
    cluster.label_node(names[0], {label: "hold"})
    assert len(cluster.pods(label_selector="app=agent")) == 2
    cluster.add_node("c-node-late")  # no label: admitted
    fleet.run(30)
    assert "c-node-late" in {p.node for p in cluster.pods(label_selector="app=agent") if p.ready}
    with pytest.raises(ClusterError, match="not found"):
        cluster.label_node("no-such-node", {"a": "b"})
    with pytest.raises(ClusterError, match="already exists"):
        cluster.add_node("c-node-late")


def test_coredns_metrics_are_read_through_the_pod_proxy() -> None:
    fleet = _fleet(nodes=600)
    fleet.run(600)
    cluster = fleet.cluster("c")
    pods = cluster.pods(namespace="kube-system", label_selector="k8s-app=kube-dns")
    assert [p.name for p in pods] == ["coredns-0", "coredns-1"]
    answers = sum(
        parse_coredns_answers(cluster.pod_metrics_text("kube-system", p.name, port=9153) or "")[0] for p in pods
    )
    assert answers == pytest.approx(600 * 600 / 60, rel=1e-3)  # one lookup a minute per node
    assert cluster.pod_metrics_text("kube-system", "coredns-0", port=8080) is None


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        ("a=b", {"a": "b"}, True),
        ("a=b,c", {"a": "b"}, False),
        ("a!=b", {}, True),
        ("!a", {"a": "x"}, False),
        ("a in (x, y),b notin (z)", {"a": "y", "b": "w"}, True),
        ("", {"a": "b"}, True),
    ],
)
def test_label_selectors(text: str, labels: dict[str, str], matches: bool) -> None:
    assert selector(text)(labels) is matches


def test_a_bad_label_selector_is_refused() -> None:
    with pytest.raises(BadInputError):
        selector("a b")


def test_discovery_and_counts_as_a_cluster_shows_them() -> None:
    cluster = _fleet(nodes=50).cluster("c")
    assert cluster.default_namespace == "default"
    preferred = cluster.preferred("apps", "DaemonSet")
    assert preferred is not None
    assert (preferred.api_version, preferred.plural, preferred.namespaced) == ("apps/v1", "daemonsets", True)
    assert cluster.preferred("batch", "Job") is None
    assert cluster.count_objects("v1", "Node") == 50
    assert cluster.count_objects("apps/v1", "DaemonSet") == 0
    cluster.apply(DAEMONSET, field_manager="test")
    assert cluster.count_objects("apps/v1", "DaemonSet") == 1
    with pytest.raises(ClusterError, match="not served"):
        cluster.count_objects("batch/v1", "Job")
