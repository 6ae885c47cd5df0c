"""One simulated cluster's data plane: nodes, the DaemonSet controller's pods, the workload's calls,
heartbeats and DNS, advanced tick by tick. The port (cluster.py) reads and writes it.

Consequences of an overloaded API server (apiserver.py says when): after 60 s above utilisation 1, node
heartbeats fail (every node NotReady) and CoreDNS cannot refresh; DNS answers fail once the cluster's
dns_cache_ttl has passed since. Each node's resolver is modelled as one lookup a minute. A workload pod
whose requests are refused (queued out or 429) crash-loops: one restart per 5 minutes of refusals.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from guardrail.core.kube.cluster import NodeInfo, PodInfo
from guardrail.core.kube.scheduling import Placement
from guardrail.simulation.apiserver import BASELINE_FLOW, ApiServer
from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec

LOOKUPS_PER_NODE_PER_SECOND = 1 / 60
RESTART_EVERY_SECONDS = 300.0
# Objects of the kinds that do not grow with nodes, as a mid-sized cluster has them.
OTHER_OBJECTS = {"configmaps": 400, "services": 120, "endpoints": 120, "namespaces": 30, "secrets": 600}
COREDNS = ("coredns-0", "coredns-1")


@dataclass
class SimPod:
    name: str
    namespace: str
    owner: str
    node: str
    revision: str
    labels: Mapping[str, str]
    created: float
    ready_at: float
    workload: bool  # runs the rolled-out workload's calls (a pod of a revision that existed before does not)
    restarts_base: int
    running: bool = False  # its start was counted in the workload's load


def revision_of(daemonset: Mapping[str, Any]) -> str:
    template = daemonset.get("spec", {}).get("template", {})
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


class World:
    """The nodes and pods of one cluster, and its API server's load, in simulated seconds."""

    def __init__(
        self, spec: ClusterSpec, calls: tuple[CallSpec, ...], cost: CostSpec, epoch: datetime, seed: int
    ) -> None:
        self.spec, self.calls, self.cost, self.epoch = spec, calls, cost, epoch
        self.rng = random.Random(f"{seed}:{spec.name}")
        self.api = ApiServer(spec, random.Random(f"{seed}:{spec.name}:api"))
        self.now = 0.0
        self.node_labels: dict[str, dict[str, str]] = {
            name: {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
            for name in (f"{spec.name}-node-{i:05d}" for i in range(spec.nodes))
        }
        self.unschedulable: set[str] = set()
        self.nodes_ready = True
        self.pods: dict[tuple[str, str], SimPod] = {}  # (DaemonSet key, node) -> pod
        self.starting: list[tuple[float, str, str]] = []  # (ready_at, DaemonSet key, node)
        self.running_workload = 0
        self.baseline_revisions: set[str] = set()
        self.workload_flow = BASELINE_FLOW
        self.refresh_failing_since: float | None = None
        self.refused_seconds = 0.0
        self.dns_lookups = 0.0
        self.dns_failures = 0.0
        self.version = 0  # bumped on every change the node and pod lists show
        self._node_cache: dict[str, NodeInfo] = {}
        self._node_list: list[NodeInfo] | None = None
        # DaemonSet key -> (the stored object, its revision, its placement): objects are replaced on change.
        self._templates: dict[str, tuple[Mapping[str, Any], str, Placement]] = {}
        self._pod_cache: tuple[int, list[PodInfo]] | None = None

    # -- time ---------------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while self.starting and self.starting[0][0] <= self.now:
            ready_at, key, node = heapq.heappop(self.starting)
            pod = self.pods.get((key, node))
            if pod is not None and pod.ready_at == ready_at and pod.workload and not pod.running:
                pod.running = True
                self.running_workload += 1
            self._changed()
        demand, requests = self._workload_load()
        self.api.tick(self.now, seconds, demand, requests, self.workload_flow)
        failing = self.api.failing(self.now)
        if failing and self.refresh_failing_since is None:
            self.refresh_failing_since = self.now
        elif not failing:
            self.refresh_failing_since = None
        if self.nodes_ready == failing:
            self.nodes_ready = not failing
            self._node_cache.clear()
            self._node_list = None
            self._changed()
        refused = self.api.overloaded() or (requests > 0 and demand > self.api.bound_seats)
        before = self.restart_count()
        self.refused_seconds += seconds if refused and self.running_workload else 0.0
        if self.restart_count() != before:
            self._changed()
        lookups = len(self.node_labels) * LOOKUPS_PER_NODE_PER_SECOND * seconds
        self.dns_lookups += lookups
        if self.dns_failing():
            self.dns_failures += lookups

    def dns_failing(self) -> bool:
        since = self.refresh_failing_since
        return since is not None and self.now - since >= self.spec.dns_cache_ttl_seconds

    def restart_count(self) -> int:
        return int(self.refused_seconds // RESTART_EVERY_SECONDS)

    def objects(self) -> dict[str, int]:
        pods = len(self.node_labels) * self.spec.pods_per_node + len(self.pods) + len(COREDNS)
        return {"pods": pods, "nodes": len(self.node_labels), **OTHER_OBJECTS}

    def _workload_load(self) -> tuple[float, float]:
        """(seat-seconds per second, requests per second) of the running workload pods."""
        if not self.running_workload:
            return 0.0, 0.0
        objects = self.objects()
        seat_seconds = requests = 0.0
        for call in self.calls:
            returned = self._returned(call, objects)
            seat_seconds += (self.cost.request_ms + self.cost.per_object_ms * returned) / 1000 / call.every_seconds
            requests += 1 / call.every_seconds
        return seat_seconds * self.running_workload, requests * self.running_workload

    def _returned(self, call: CallSpec, objects: Mapping[str, int]) -> int:
        if call.verb == "get":
            return 1
        if call.scope == "node" and call.resource == "pods":
            return self.spec.pods_per_node + 1
        if call.scope == "node" and call.resource == "nodes":
            return 1
        return objects.get(call.resource, 0)

    # -- the DaemonSet controller ---------------------------------------------------------------------

    def reconcile(self, key: str, daemonset: Mapping[str, Any] | None, nodes: list[str] | None = None) -> None:
        """Make the pods of DaemonSet `key` match its template on `nodes` (every node when None)."""
        targets = list(self.node_labels) if nodes is None else nodes
        if daemonset is None:
            for node in targets:
                self._remove((key, node))
            return
        spec = daemonset.get("spec", {})
        cached = self._templates.get(key)
        if cached is None or cached[0] is not daemonset:
            pod_spec = spec.get("template", {}).get("spec", {})
            cached = (daemonset, revision_of(daemonset), Placement.of_template(pod_spec, daemonset=True))
            self._templates[key] = cached
        _, revision, placement = cached
        on_delete = spec.get("updateStrategy", {}).get("type") == "OnDelete"
        labels = dict(spec.get("template", {}).get("metadata", {}).get("labels", {}))
        metadata = daemonset.get("metadata", {})
        for node in targets:
            existing = self.pods.get((key, node))
            if not placement.admits(self.node_info(node)):
                self._remove((key, node))
            elif existing is None or (existing.revision != revision and not on_delete):
                self._remove((key, node))
                self._create(key, metadata, node, revision, labels)

    def recreate(self, key: str, daemonset: Mapping[str, Any], node: str) -> None:
        """A pod of `key` on `node` was deleted: the controller starts one of the current template."""
        self._remove((key, node))
        self.reconcile(key, daemonset, [node])

    def _create(self, key: str, metadata: Mapping[str, Any], node: str, revision: str, labels: dict[str, str]) -> None:
        existed = revision in self.baseline_revisions
        ready_at = self.now if existed else self.now + self.rng.uniform(5.0, 25.0)
        name = f"{metadata.get('name', 'ds')}-{node.rsplit('-', 1)[-1]}"
        generation = str(metadata.get("generation", 1))
        pod_labels = {**labels, "controller-revision-hash": revision, "pod-template-generation": generation}
        pod = SimPod(
            name,
            str(metadata.get("namespace", "default")),
            str(metadata.get("name")),
            node,
            revision,
            pod_labels,
            self.now,
            ready_at,
            not existed,
            self.restart_count(),
        )
        self.pods[(key, node)] = pod
        if not existed:
            heapq.heappush(self.starting, (ready_at, key, node))
        self._changed()

    def _remove(self, pod_key: tuple[str, str]) -> None:
        pod = self.pods.pop(pod_key, None)
        if pod is None:
            return
        if pod.running:
            self.running_workload -= 1
        self._changed()

    # -- what the API shows ---------------------------------------------------------------------------

    def node_info(self, name: str) -> NodeInfo:
        info = self._node_cache.get(name)
        if info is None:
            ready = "True" if self.nodes_ready else "Unknown"
            info = NodeInfo(
                name,
                dict(self.node_labels[name]),
                (),
                name in self.unschedulable,
                {"Ready": ready},
                {"pods": "110", "cpu": "32"},
                created_at=self.epoch,
            )
            self._node_cache[name] = info
        return info

    def node_list(self) -> list[NodeInfo]:
        """Every node, in name order (cached until a node changes)."""
        if self._node_list is None:
            self._node_list = [self.node_info(name) for name in self.node_labels]
        return self._node_list

    def add_node(self, name: str) -> None:
        """A node joins the cluster (the DaemonSet controller is the caller's to run on it)."""
        self.node_labels[name] = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        self.forget_node(name)

    def forget_node(self, name: str) -> None:
        self._node_cache.pop(name, None)
        self._node_list = None
        self._changed()

    def pod_infos(self) -> list[PodInfo]:
        if self._pod_cache is not None and self._pod_cache[0] == self.version:
            return self._pod_cache[1]
        restarts = self.restart_count()
        infos = [self._coredns(name, i) for i, name in enumerate(COREDNS)]
        for pod in self.pods.values():
            ready = pod.ready_at <= self.now and self.nodes_ready
            infos.append(
                PodInfo(
                    pod.namespace,
                    pod.name,
                    pod.node,
                    "Running" if pod.ready_at <= self.now else "Pending",
                    ready,
                    restarts - pod.restarts_base if pod.workload else 0,
                    pod.labels,
                    "DaemonSet",
                    pod.owner,
                    self.epoch + timedelta(seconds=pod.created),
                )
            )
        self._pod_cache = (self.version, infos)
        return infos

    def _coredns(self, name: str, index: int) -> PodInfo:
        node = next(iter(self.node_labels)) if index == 0 or len(self.node_labels) < 2 else list(self.node_labels)[1]
        labels = {"k8s-app": "kube-dns"}
        return PodInfo("kube-system", name, node, "Running", not self.dns_failing(), 0, labels, "ReplicaSet", "coredns")

    def coredns_metrics_text(self) -> str:
        share = 1 / len(COREDNS)  # each CoreDNS pod answers half of the lookups
        failed = self.dns_failures * share
        ok = (self.dns_lookups - self.dns_failures) * share
        return (
            "# HELP coredns_dns_responses_total Counter of response status codes.\n"
            "# TYPE coredns_dns_responses_total counter\n"
            f'coredns_dns_responses_total{{plugin="",rcode="NOERROR",server="dns://:53",zone="."}} {ok:.3f}\n'
            f'coredns_dns_responses_total{{plugin="",rcode="SERVFAIL",server="dns://:53",zone="."}} {failed:.3f}\n'
        )

    def _changed(self) -> None:
        self.version += 1
