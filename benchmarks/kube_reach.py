#!/usr/bin/env python3
"""Speed of the Kubernetes reach, deprecated-API and control-plane cost rules: 5,000 objects against a
5,000-node inventory, offline, as `kube check --nodes` meets them.

The gate's whole-process budget for that check is 2 s; these rules must take a small part of it. Two
object sets, in one process, alternating runs to share the machine's noise:
  - typical: 1,000 DaemonSets and 1,500 node-selected Deployments in a few placements each, 2,500 plain
    Deployments, with RBAC for some DaemonSets;
  - adversarial: 5,000 DaemonSets, every one with a placement of its own (nothing to reuse).
Reference, measured in the same run: deciding every node for each workload (Placement.reach), on a
sample of workloads, extrapolated to all of them. Prints medians and the ratio reference / grouped.

    python benchmarks/kube_reach.py [--runs 5] [--nodes 5000] [--objects 5000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView, KubeChange, KubeChangeSet
from guardrail.core.kube.cluster import NodeInfo, Taint
from guardrail.core.kube.control_plane_cost import ControlPlaneCostRule
from guardrail.core.kube.deprecated_apis import DeprecatedApiRule
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.reach import NodeReachRule
from guardrail.core.kube.scheduling import Placement
from guardrail.core.kube.workloads import is_daemonset, pod_spec

ZONES, POOLS = 10, 5


def fleet(count: int) -> tuple[NodeInfo, ...]:
    """Nodes as a large cluster shows them: per-node hostnames, zones, pools, GPU taints, a few cordoned."""
    nodes = []
    for i in range(count):
        pool = f"pool-{i % POOLS}"
        labels = {
            "kubernetes.io/hostname": f"node-{i}",
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": f"zone-{i % ZONES}",
            "pool": pool,
            "node.kubernetes.io/instance-type": f"type-{i % 7}",
        }
        taints = (Taint("nvidia.com/gpu", "present", "NoSchedule"),) if pool == "pool-4" else ()
        nodes.append(NodeInfo(f"node-{i}", labels, taints, i % 97 == 0, {"Ready": "True"}))
    return tuple(nodes)


def manifest(kind: str, name: str, pod: dict[str, Any], api_version: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": f"team-{hash(name) % 50}"},
        "spec": {"template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [], **pod}}},
    }


def typical(objects: int) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    for i in range(objects):
        if i % 5 == 0:
            pod: dict[str, Any] = {"nodeSelector": {"pool": f"pool-{i % POOLS}"}} if i % 3 else {}
            if i % 4 == 0:
                pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
            pod["serviceAccountName"] = f"agent-{i % 20}"
            made.append(manifest("DaemonSet", f"ds-{i}", pod, "extensions/v1beta1" if i % 50 == 0 else "apps/v1"))
        elif i % 10 in (1, 2, 3):
            made.append(
                manifest(
                    "Deployment", f"web-{i}", {"nodeSelector": {"topology.kubernetes.io/zone": f"zone-{i % ZONES}"}}
                )
            )
        else:
            made.append(manifest("Deployment", f"app-{i}", {}))
    for i in range(0, 20, 2):  # RBAC: half of the agents' service accounts may list pods cluster-wide
        made.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"agent-{i}"},
                "roleRef": {"kind": "ClusterRole", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"},
                "subjects": [{"kind": "Group", "name": "system:serviceaccounts"}] if i == 0 else [],
            }
        )
    made.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}],
        }
    )
    return made


def adversarial(objects: int) -> list[dict[str, Any]]:
    """Every DaemonSet with a placement of its own: nothing decided once can be reused."""
    return [
        manifest(
            "DaemonSet",
            f"ds-{i}",
            {
                "nodeSelector": {"topology.kubernetes.io/zone": f"zone-{i % ZONES}"},
                "tolerations": [{"key": f"taint-{i}", "operator": "Exists"}],
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "pool", "operator": "NotIn", "values": [f"pool-{i % POOLS}"]}
                                    ]
                                }
                            ]
                        }
                    }
                },
            },
        )
        for i in range(objects)
    ]


def changeset(manifests: list[dict[str, Any]], nodes: tuple[NodeInfo, ...]) -> KubeChangeSet:
    changes = tuple(
        KubeChange("prod", ObjectRef.of(m), m["apiVersion"], Action.CREATE, None, m, f"bench.yaml#{i}")
        for i, m in enumerate(manifests)
    )
    view = ClusterView("prod", version="1.33", nodes=nodes, counts={"pod": 150_000, "node": len(nodes)})
    return KubeChangeSet(changes, (view,))


def naive_per_workload(changes: KubeChangeSet, nodes: tuple[NodeInfo, ...], sample: int) -> tuple[float, int]:
    """Seconds per workload when every node is decided (Placement.reach), over the first `sample` workloads;
    and how many workloads there are."""
    placements = []
    for change in changes.changes:
        spec = pod_spec(change.after)
        if spec is not None:
            placements.append(Placement.of_template(spec, daemonset=is_daemonset(change.ref)))
    chosen = placements[:sample]
    start = time.perf_counter()
    for placement in chosen:
        placement.reach(nodes)
    return (time.perf_counter() - start) / len(chosen), len(placements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--objects", type=int, default=5000)
    args = parser.parse_args()
    nodes = fleet(args.nodes)
    sets = {
        "typical": changeset(typical(args.objects), nodes),
        "adversarial": changeset(adversarial(args.objects), nodes),
    }
    times: dict[str, dict[str, list[float]]] = {name: {"reach": [], "deprecated": [], "cost": []} for name in sets}
    outcomes: dict[str, str] = {}
    for _ in range(args.runs):
        for name, changes in sets.items():
            start = time.perf_counter()
            analysis = NodeReachRule().analyse(changes)
            times[name]["reach"].append(time.perf_counter() - start)
            start = time.perf_counter()
            deprecated = DeprecatedApiRule().evaluate(changes)
            times[name]["deprecated"].append(time.perf_counter() - start)
            start = time.perf_counter()
            cost = ControlPlaneCostRule().evaluate(changes)
            times[name]["cost"].append(time.perf_counter() - start)
            outcomes[name] = (
                f"{len(analysis.reaches):,} reach records, {len(analysis.findings):,} reach findings, "
                f"{len(deprecated):,} API findings, {len(cost):,} cost findings"
            )
    print(f"{args.objects:,} objects against {args.nodes:,} nodes, median of {args.runs} runs")
    for name, changes in sets.items():
        per_workload, workloads = naive_per_workload(changes, nodes, sample=20)
        reach_ms = statistics.median(times[name]["reach"]) * 1000
        deprecated_ms = statistics.median(times[name]["deprecated"]) * 1000
        cost_ms = statistics.median(times[name]["cost"]) * 1000
        naive_ms = per_workload * workloads * 1000
        print(f"{name:12} {outcomes[name]}")
        print(f"{'':12} reach {reach_ms:7.1f} ms   deprecated APIs {deprecated_ms:6.1f} ms   cost {cost_ms:6.1f} ms")
        print(f"{'':12} every node decided (reference, 20 workloads extrapolated): {naive_ms:9.1f} ms", end="")
        print(f"; ratio {naive_ms / reach_ms:,.0f}x")


if __name__ == "__main__":
    main()
