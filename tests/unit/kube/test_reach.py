"""Reach of per-node workloads: records, the max_reach finding, the offline note, and the grouped count."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.reach import DEFAULT_MAX_REACH, NodeIndex, NodeReachRule, Reach
from guardrail.core.kube.rule_catalog import NODE_REACH
from guardrail.core.kube.scheduling import Placement
from guardrail.core.policy import rule_info
from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict
from tests.unit.kube.builders import changeset, kube_change, node, workload
from tests.unit.kube.corpus import corpus_objects

GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")


def _fleet(linux: int, gpu: int, windows: int = 0) -> tuple[NodeInfo, ...]:
    """Nodes with per-node hostnames (as real nodes have): linux CPU nodes, tainted GPU nodes, windows nodes."""
    nodes = [
        node(f"cpu-{i}", {"kubernetes.io/os": "linux", "kubernetes.io/hostname": f"cpu-{i}"}) for i in range(linux)
    ]
    nodes += [
        node(
            f"gpu-{i}", {"kubernetes.io/os": "linux", "pool": "gpu", "kubernetes.io/hostname": f"gpu-{i}"}, (GPU_TAINT,)
        )
        for i in range(gpu)
    ]
    nodes += [node(f"win-{i}", {"kubernetes.io/os": "windows"}) for i in range(windows)]
    return tuple(nodes)


def _analyse(
    manifest: dict[str, Any],
    nodes: tuple[NodeInfo, ...] | None,
    *,
    max_reach: int = DEFAULT_MAX_REACH,
    action: Action = Action.CREATE,
    changed_paths: tuple[str, ...] = (),
) -> tuple[tuple[Reach, ...], tuple[Finding, ...]]:
    change = kube_change(manifest, cluster="prod", action=action, changed_paths=changed_paths)
    analysis = NodeReachRule(max_reach).analyse(changeset([change], ClusterView("prod", nodes=nodes)))
    return analysis.reaches, analysis.findings


def test_daemonset_reach_counts_nodes_that_admit_it() -> None:
    nodes = _fleet(linux=30, gpu=10, windows=5)
    agent = workload("DaemonSet", "agent", {"nodeSelector": {"kubernetes.io/os": "linux"}})
    reaches, findings = _analyse(agent, nodes)
    assert reaches == (Reach("daemonset.apps/kube-system/agent", "prod", 30, 45),)  # GPU taint not tolerated
    assert findings == ()
    tolerant = workload("DaemonSet", "agent", {"tolerations": [{"operator": "Exists"}]})
    assert _analyse(tolerant, nodes)[0][0].nodes == 45


def test_daemonsets_run_on_cordoned_and_not_ready_nodes() -> None:
    # The DaemonSet controller's own tolerations: cordoned nodes and not-ready taints do not stop it.
    troubled = (
        node("a", unschedulable=True),
        node("b", taints=(Taint("node.kubernetes.io/not-ready", "", "NoExecute"),)),
        node("c", taints=(Taint("node.kubernetes.io/network-unavailable", "", "NoSchedule"),)),
    )
    assert _analyse(workload("DaemonSet", "agent"), troubled)[0][0].nodes == 2
    host_network = workload("DaemonSet", "agent", {"hostNetwork": True})
    assert _analyse(host_network, troubled)[0][0].nodes == 3
    deployment = workload("Deployment", "web", {"tolerations": [{"key": "other", "operator": "Exists"}]})
    assert _analyse(deployment, troubled)[0][0].nodes == 0  # cordoned, and untolerated taints


def test_daemonset_beyond_max_reach_is_soft_and_names_the_fleet_canary() -> None:
    reaches, findings = _analyse(workload("DaemonSet", "agent"), _fleet(linux=5_000, gpu=0))
    assert reaches[0].as_dict() == {
        "address": "daemonset.apps/kube-system/agent",
        "cluster": "prod",
        "nodes": 5000,
        "total": 5000,
    }
    assert findings == (
        Finding(
            NODE_REACH,
            Enforcement.SOFT,
            "daemonset.apps/kube-system/agent",
            "reaches 5,000 of 5,000 nodes of cluster prod in one step, more than kubernetes.max_reach (100): roll "
            "it out with `guardrail rollout` (the fleet canary), node batch by node batch",
        ),
    )


def test_max_reach_is_a_setting_and_its_bound_is_allowed() -> None:
    nodes = _fleet(linux=100, gpu=0)
    assert _analyse(workload("DaemonSet", "agent"), nodes)[1] == ()
    assert [f.enforcement for f in _analyse(workload("DaemonSet", "agent"), nodes, max_reach=99)[1]] == [
        Enforcement.SOFT
    ]


def test_updates_that_do_not_restart_pods_reach_nothing_in_one_step() -> None:
    nodes = _fleet(linux=500, gpu=0)
    agent = workload("DaemonSet", "agent")
    labels_only = _analyse(agent, nodes, action=Action.UPDATE, changed_paths=("metadata.labels.team",))
    assert (labels_only[0][0].nodes, labels_only[1]) == (500, ())
    image = _analyse(agent, nodes, action=Action.UPDATE, changed_paths=("spec.template.spec.containers[0].image",))
    assert [f.enforcement for f in image[1]] == [Enforcement.SOFT]
    unknown_diff = _analyse(agent, nodes, action=Action.UPDATE)
    assert [f.enforcement for f in unknown_diff[1]] == [Enforcement.SOFT]
    on_delete = workload("DaemonSet", "agent", spec={"updateStrategy": {"type": "OnDelete"}})
    assert _analyse(on_delete, nodes, action=Action.UPDATE)[1] == ()
    assert [f.enforcement for f in _analyse(on_delete, nodes)[1]] == [Enforcement.SOFT]  # a create starts them all


def test_offline_daemonset_gets_an_advisory_note_and_an_unknown_record() -> None:
    reaches, findings = _analyse(workload("DaemonSet", "agent"), None)
    assert reaches == (Reach("daemonset.apps/kube-system/agent", "prod", None, None),)
    assert findings == (
        Finding(
            NODE_REACH,
            Enforcement.ADVISORY,
            "daemonset.apps/kube-system/agent",
            "reach unknown on cluster prod: no node inventory (give --nodes with `kubectl get nodes -o json`, or a "
            "--context); a DaemonSet runs a pod on every node that admits it, up to the whole cluster",
        ),
    )
    assert Verdict.of(findings).decision is Decision.ALLOW  # does not hold every offline DaemonSet for approval
    placed = workload("Deployment", "web", {"nodeSelector": {"pool": "gpu"}})
    assert _analyse(placed, None) == ((Reach("deployment.apps/kube-system/web", "prod", None, None),), ())


def test_other_workloads_get_a_record_only_when_their_template_narrows_placement() -> None:
    nodes = _fleet(linux=300, gpu=200)
    gpu_tolerations = {
        "nodeSelector": {"pool": "gpu"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
    }
    for kind, address in [
        ("Deployment", "deployment.apps/kube-system/w"),
        ("StatefulSet", "statefulset.apps/kube-system/w"),
        ("ReplicaSet", "replicaset.apps/kube-system/w"),
        ("Job", "job.batch/kube-system/w"),
        ("CronJob", "cronjob.batch/kube-system/w"),
        ("Pod", "pod/kube-system/w"),
    ]:
        # Above max_reach, but only DaemonSets run per node: a record, no finding.
        assert _analyse(workload(kind, "w", gpu_tolerations), nodes) == ((Reach(address, "prod", 200, 500),), ())
        assert _analyse(workload(kind, "w"), nodes) == ((), ())


def test_a_template_that_admits_no_node_is_reported() -> None:
    reaches, findings = _analyse(workload("Deployment", "w", {"nodeSelector": {"pool": "tpu"}}), _fleet(3, 0))
    assert reaches[0].nodes == 0
    assert [(f.enforcement, f.message) for f in findings] == [
        (
            Enforcement.ADVISORY,
            "its pod template admits none of the 3 nodes of cluster prod (node selector, required node affinity or "
            "taints it does not tolerate): it would run nowhere",
        )
    ]
    assert _analyse(workload("DaemonSet", "agent"), ()) == (
        (Reach("daemonset.apps/kube-system/agent", "prod", 0, 0),),
        (),
    )


def test_deletes_have_no_reach_and_unchanged_objects_no_finding() -> None:
    nodes = _fleet(linux=500, gpu=0)
    assert _analyse(workload("DaemonSet", "agent"), nodes, action=Action.DELETE) == ((), ())
    # Still running on 500 nodes (the report says so), but nothing reaches a node anew.
    unchanged = _analyse(workload("DaemonSet", "agent"), nodes, action=Action.NO_OP)
    assert unchanged == ((Reach("daemonset.apps/kube-system/agent", "prod", 500, 500),), ())


def test_reach_per_cluster() -> None:
    agent = workload("DaemonSet", "agent")
    changes = [kube_change(agent, cluster="small"), kube_change(agent, cluster="large")]
    views = (ClusterView("small", nodes=_fleet(10, 0)), ClusterView("large", nodes=_fleet(150, 0)))
    analysis = NodeReachRule().analyse(changeset(changes, *views))
    assert [(r.address, r.nodes) for r in analysis.reaches] == [
        ("small::daemonset.apps/kube-system/agent", 10),
        ("large::daemonset.apps/kube-system/agent", 150),
    ]
    # The finding is on its own cluster's change, as every address of a change to several clusters is.
    assert [(f.address, "cluster large" in f.message) for f in analysis.findings] == [
        ("large::daemonset.apps/kube-system/agent", True)
    ]
    assert NodeReachRule().evaluate(changeset(changes, *views)) == analysis.findings


def test_corpus_telemetry_daemonsets() -> None:
    nodes = _fleet(linux=120, gpu=8, windows=4)
    for path, expected in [
        # tolerations: [{operator: Exists}] and a linux nodeSelector: every linux node, GPU ones too.
        ("kube-prometheus/manifests/nodeExporter-daemonset.yaml", 128),
        # A linux nodeSelector and no tolerations: the tainted GPU nodes are out.
        ("datadog-agent/Dockerfiles/manifests/all-containers/daemonset.yaml", 120),
    ]:
        [daemonset] = [o for o in corpus_objects(path) if o.get("kind") == "DaemonSet"]
        reaches, findings = _analyse(dict(daemonset), nodes)
        assert [r.nodes for r in reaches] == [expected], path
        assert [f.enforcement for f in findings] == [Enforcement.SOFT], path


def test_the_weight_of_the_max_reach_finding_is_a_setting() -> None:
    change = kube_change(workload("DaemonSet", "agent"), cluster="prod")
    view = ClusterView("prod", nodes=_fleet(linux=200, gpu=0))
    hard = NodeReachRule(enforcement=Enforcement.HARD).analyse(changeset([change], view))
    assert [f.enforcement for f in hard.findings] == [Enforcement.HARD]


def test_rule_registration() -> None:
    rule = NodeReachRule()
    info = rule_info(rule.id)
    assert (rule.id, rule.max_reach) == (NODE_REACH, 100)
    assert NODE_REACH == "kube-node-reach"
    assert info is not None
    assert "kubernetes.max_reach" in info.description


_KEYS = st.sampled_from(["zone", "pool", "os"])
_VALUES = st.sampled_from(["a", "b", "c"])
# Enough taint keys for more than a handful of distinct taint sets (the index then keys its decisions).
_TAINTS = st.lists(
    st.builds(
        Taint,
        st.sampled_from(["gpu", "spot", "t1", "t2", "t3", "t4"]),
        _VALUES,
        st.sampled_from(["NoSchedule", "NoExecute", "PreferNoSchedule"]),
    ),
    max_size=2,
).map(tuple)
_NODES = st.lists(
    st.builds(
        lambda i, labels, taints, cordoned: node(
            f"n{i}", {**labels, "kubernetes.io/hostname": f"n{i}"}, taints, unschedulable=cordoned
        ),
        st.integers(0, 10_000),
        st.dictionaries(_KEYS, _VALUES, max_size=3),
        _TAINTS,
        st.booleans(),
    ),
    max_size=40,
)
_EXPRESSION = st.fixed_dictionaries(
    {
        "key": _KEYS,
        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
        "values": st.lists(_VALUES, max_size=2),
    }
)
_POD_SPECS = st.fixed_dictionaries(
    {},
    optional={
        "nodeSelector": st.dictionaries(_KEYS, _VALUES, max_size=2),
        "tolerations": st.lists(
            st.fixed_dictionaries(
                {
                    "key": st.sampled_from(["gpu", "spot", "t1"]),
                    "operator": st.sampled_from(["Exists", "Equal"]),
                    "value": _VALUES,
                },
                optional={"effect": st.sampled_from(["NoSchedule", "NoExecute"])},
            ),
            max_size=2,
        ),
        "affinity": st.builds(
            lambda terms: {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
            },
            st.lists(
                st.builds(lambda e: {"matchExpressions": e}, st.lists(_EXPRESSION, min_size=1, max_size=2)),
                min_size=1,
                max_size=2,
            ),
        ),
    },
)


@settings(max_examples=200)
@given(_NODES, st.lists(_POD_SPECS, min_size=1, max_size=4), st.booleans())
def test_grouped_count_equals_deciding_every_node(nodes: list[NodeInfo], specs: list[dict[str, Any]], ds: bool) -> None:
    index = NodeIndex(nodes)
    for spec in specs + specs:  # twice: the cached decision must agree with the first
        placement = Placement.of_template(spec, daemonset=ds)
        assert index.admitted(placement) == len(placement.reach(nodes))
