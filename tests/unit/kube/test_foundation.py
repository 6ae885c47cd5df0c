"""Object addresses, node and pod readings, and placement (taints, tolerations, selectors, affinity)."""

from __future__ import annotations

import pytest

from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import NodeInfo, PodInfo, Taint
from guardrail.core.kube.objects import ObjectRef, parse_address
from guardrail.core.kube.scheduling import Placement


@pytest.mark.parametrize(
    ("manifest", "address"),
    [
        (
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "kube-system"}},
            "daemonset.apps/kube-system/agent",
        ),
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}}, "namespace/payments"),
        (
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}},
            "clusterrole.rbac.authorization.k8s.io/reader",
        ),
    ],
)
def test_addresses_follow_kubectl(manifest: dict[str, object], address: str) -> None:
    assert ObjectRef.of(manifest).address == address


def test_version_is_not_identity() -> None:
    old = ObjectRef.of({"apiVersion": "apps/v1beta2", "kind": "DaemonSet", "metadata": {"name": "a", "namespace": "x"}})
    new = ObjectRef.of({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a", "namespace": "x"}})
    assert old == new


@pytest.mark.parametrize(
    ("manifest", "missing"),
    [
        ({"kind": "Pod", "metadata": {"name": "a"}}, "apiVersion"),
        ({"apiVersion": "v1", "kind": "Pod"}, "metadata.name"),
    ],
)
def test_incomplete_objects_are_refused(manifest: dict[str, object], missing: str) -> None:
    with pytest.raises(BadInputError, match=missing):
        ObjectRef.of(manifest)


def test_parse_address() -> None:
    assert parse_address("daemonset.apps/kube-system/agent") == ("daemonset.apps", "kube-system", "agent")
    assert parse_address("namespace/payments") == ("namespace", None, "payments")
    with pytest.raises(BadInputError, match="expected TYPE"):
        parse_address("a/b/c/d")


def _node(
    name: str, labels: dict[str, str] | None = None, taints: tuple[Taint, ...] = (), cordoned: bool = False
) -> NodeInfo:
    return NodeInfo(name, labels or {}, taints, cordoned, {"Ready": "True"})


def test_node_from_manifest() -> None:
    node = NodeInfo.from_manifest(
        {
            "metadata": {"name": "n1", "labels": {"zone": "a"}, "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}], "providerID": "azure:///x"},
            "status": {
                "conditions": [{"type": "Ready", "status": "False"}],
                "allocatable": {"nvidia.com/gpu": "8"},
                "nodeInfo": {"kubeletVersion": "v1.29.3", "osImage": "Ubuntu", "kernelVersion": "5.15"},
            },
        }
    )
    assert (node.name, node.ready, node.allocatable_count("nvidia.com/gpu")) == ("n1", False, 8)
    assert node.taints == (Taint("gpu", "true", "NoSchedule"),)
    assert node.kubelet_version == "v1.29.3"
    assert node.created_at is not None
    assert node.created_at.year == 2024


def test_pod_from_manifest_counts_restarts_and_owner() -> None:
    pod = PodInfo.from_manifest(
        {
            "metadata": {
                "name": "p",
                "namespace": "ns",
                "ownerReferences": [{"kind": "DaemonSet", "name": "ds", "controller": True}],
            },
            "spec": {"nodeName": "n1"},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"restartCount": 2}, {"restartCount": 1}],
            },
        }
    )
    assert (pod.node, pod.ready, pod.restarts, pod.owner_kind) == ("n1", True, 3, "DaemonSet")


GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")


def test_daemonset_reach_honours_selector_taints_and_cordons() -> None:
    nodes = [
        _node("linux", {"kubernetes.io/os": "linux"}),
        _node("windows", {"kubernetes.io/os": "windows"}),
        _node("gpu", {"kubernetes.io/os": "linux"}, (GPU_TAINT,)),
        _node(
            "cordoned",
            {"kubernetes.io/os": "linux"},
            (Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),),
            True,
        ),
        _node("soft", {"kubernetes.io/os": "linux"}, (Taint("x", "", "PreferNoSchedule"),)),
    ]
    spec = {"nodeSelector": {"kubernetes.io/os": "linux"}}
    assert [n.name for n in Placement.of_template(spec, daemonset=True).reach(nodes)] == ["linux", "cordoned", "soft"]
    assert [n.name for n in Placement.of_template(spec).reach(nodes)] == ["linux", "soft"]
    everything = {"tolerations": [{"operator": "Exists"}]}
    assert len(Placement.of_template(everything, daemonset=True).reach(nodes)) == 5


def test_toleration_with_value_and_effect() -> None:
    gpu = _node("gpu", taints=(GPU_TAINT,))
    wrong_value = {"tolerations": [{"key": "nvidia.com/gpu", "value": "absent", "effect": "NoSchedule"}]}
    right = {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present"}]}
    assert not Placement.of_template(wrong_value).admits(gpu)
    assert Placement.of_template(right).admits(gpu)


def test_required_affinity_terms_are_ored_and_expressions_anded() -> None:
    spec = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "zone", "operator": "In", "values": ["a"]},
                                {"key": "gpu", "operator": "DoesNotExist"},
                            ]
                        },
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["special"]}]},
                        {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["64"]}]},
                    ]
                }
            }
        }
    }
    placement = Placement.of_template(spec)
    admitted = [
        n.name
        for n in placement.reach(
            [
                _node("a-cpu", {"zone": "a"}),
                _node("a-gpu", {"zone": "a", "gpu": "1"}),
                _node("b", {"zone": "b"}),
                _node("special", {"zone": "b"}),
                _node("big", {"cores": "96"}),
                _node("small", {"cores": "8"}),
            ]
        )
    ]
    assert admitted == ["a-cpu", "special", "big"]
