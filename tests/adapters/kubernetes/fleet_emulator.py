"""A fleet of emulated clusters for the rollout's real path: each a kmock API server over HTTP with what a
real one has and the emulator lacks, declared here:

- nodes, the mandatory APF configuration (the `exempt` and `catch-all` levels and schemas), CoreDNS pods
  whose metrics answer through the pod proxy, /version, /readyz, and SelfSubjectReviews naming the user;
- the DaemonSet controller, run whenever the test clock advances: a pod (Ready at once) on every node a
  DaemonSet's template admits, of its current generation; OnDelete keeps an old pod until it is deleted;
- /metrics: APF seats and seats in use, the workload's own FlowSchema counters once guardrail created it,
  requests, latency and stored objects, moved by the agent pods that run: each costs `flow_cost` seats on
  its own flow and `hidden_cost` seats more that only the seats in use show (load the flow cannot see).

The clock advances only when the rollout sleeps: no test waits on the wall clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kmock
import yaml

from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.scheduling import Placement
from guardrail.simulation.apf import MANDATORY_APF
from tests.adapters.kubernetes.emulator import ApiServer, ServedApiServer

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
LABEL = "guardrail.dev/rollout-agent"
AGENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "telemetry"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"serviceAccountName": "agent", "containers": [{"name": "agent", "image": "agent:2"}]},
        },
    },
}
OTHERS = """apiVersion: v1
kind: ServiceAccount
metadata: {name: agent, namespace: telemetry}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: agent, namespace: telemetry}
data: {environment: "{{ environment }}"}
"""
ROLLOUT = {
    "batches": [0.5, 1.0],
    "soak": "2m",
    "dns_cache_ttl": "3m",
    "watch_every": "2m",
    "rollback_verify_timeout": "15m",
}

IDENTITY = {"username": "oncall@example.com", "groups": ["ops", "system:authenticated"]}
VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.4", "platform": "linux/amd64"}
COREDNS = ("coredns-0", "coredns-1")
_PODS = kmock.resource("v1/pods")


@dataclass
class Load:
    """What one cluster's API server shows."""

    seats: float = 100.0
    baseline: float = 0.2  # share of the seats busy without the agent
    flow_cost: float = 0.5  # seats per agent pod, on the agent's FlowSchema
    hidden_cost: float = 0.0  # seats per agent pod that only the seats in use show
    objects: float = 500.0  # stored objects besides the pods


@dataclass
class EmulatedCluster:
    """One cluster: its API server, its nodes and the load its agent pods cause."""

    name: str
    nodes: int
    load: Load = field(default_factory=Load)
    served: ServedApiServer = field(default_factory=ServedApiServer)
    execution: float = 0.0  # seat-seconds on the agent's flow, cumulative
    dispatched: float = 0.0
    requests: float = 0.0
    running_peak: int = 0  # the most agent pods that ran at once

    def start(self) -> None:
        self.served.start()
        server = self.emulator
        for index in range(self.nodes):
            name = f"{self.name}-node-{index}"
            server.objects["v1/nodes", None, name] = _node(name)
        for manifest in MANDATORY_APF:
            plural = "flowschemas" if manifest["kind"] == "FlowSchema" else "prioritylevelconfigurations"
            server.objects[f"flowcontrol.apiserver.k8s.io/v1/{plural}", None, manifest["metadata"]["name"]] = (
                copy.deepcopy(manifest)
            )
        for index, pod in enumerate(COREDNS):
            server.objects["v1/pods", "kube-system", pod] = _coredns(pod, f"{self.name}-node-{index % self.nodes}")
            server[f"get /api/v1/namespaces/kube-system/pods/{pod}:9153/proxy/metrics"] << self._coredns_metrics
        server["get /version"] << VERSION
        server["get /readyz"] << b"ok"
        server["get /metrics"] << self.metrics
        reviews = kmock.resource("authentication.k8s.io/v1/selfsubjectreviews")
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        server[kmock.method.POST, reviews] << {**review, "status": {"userInfo": IDENTITY}}

    def stop(self) -> None:
        self.served.stop()

    @property
    def emulator(self) -> ApiServer:
        assert self.served.emulator is not None
        return self.served.emulator

    @property
    def url(self) -> str:
        return self.served.url

    # -- what the test reads ------------------------------------------------------------------------

    def live(self, plural: str, namespace: str | None = None) -> dict[str, dict[str, Any]]:
        """The live objects of a resource (all namespaces, or one), by name."""
        found = {}
        for key in list(self.emulator.objects.keys()):
            if key[0].plural != plural or (namespace is not None and key[1] != namespace):
                continue
            obj = self.emulator.objects[key]
            if not obj.deleted:
                found[key[2]] = dict(obj.raw)
        return found

    def node_labels(self) -> dict[str, dict[str, str]]:
        return {name: dict(n.get("metadata", {}).get("labels") or {}) for name, n in self.live("nodes").items()}

    def agent_pods(self) -> dict[str, dict[str, Any]]:
        return {n: p for n, p in self.live("pods").items() if not n.startswith("coredns")}

    # -- as time passes ------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """`seconds` pass: the agent pods cost what they cost, then the DaemonSet controller acts."""
        running = len(self.agent_pods())
        self.execution += running * self.load.flow_cost * seconds
        self.dispatched += running * 2 * seconds
        self.requests += (self.load.baseline * self.load.seats * 50 + running * 2) * seconds
        self.reconcile()
        self.running_peak = max(self.running_peak, len(self.agent_pods()))

    def reconcile(self) -> None:
        """The DaemonSet controller, once over every DaemonSet and node."""
        nodes = [NodeInfo.from_manifest(n) for n in self.live("nodes").values()]
        wanted: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, daemonset in self.live("daemonsets").items():
            placement = Placement.of_template(daemonset["spec"]["template"].get("spec", {}), daemonset=True)
            for admitted in placement.reach(nodes):
                wanted[f"{name}-{admitted.name}"] = (admitted.name, daemonset)
        for pod_name, (node_name, owner) in wanted.items():
            namespace = owner["metadata"]["namespace"]
            current = self.live("pods", namespace).get(pod_name)
            generation = str(owner["metadata"]["generation"])
            on_delete = owner["spec"].get("updateStrategy", {}).get("type") == "OnDelete"
            if current is not None and (
                on_delete or current["metadata"]["labels"]["pod-template-generation"] == generation
            ):
                continue
            self.emulator.objects["v1/pods", namespace, pod_name] = _agent_pod(pod_name, node_name, owner)
        for pod_name, pod in self.agent_pods().items():
            if pod_name not in wanted:
                self.emulator.objects[_PODS, pod["metadata"]["namespace"], pod_name].delete()

    # -- what the API server shows -------------------------------------------------------------------

    def metrics(self) -> bytes:
        load = self.load
        running = len(self.agent_pods())
        executing = load.baseline * load.seats + running * (load.flow_cost + load.hidden_cost)
        objects = load.objects + len(self.live("pods"))
        lines = [
            "# TYPE apiserver_flowcontrol_nominal_limit_seats gauge",
            f'apiserver_flowcontrol_nominal_limit_seats{{priority_level="global-default"}} {load.seats}',
            "# TYPE apiserver_flowcontrol_current_executing_seats gauge",
            f'apiserver_flowcontrol_current_executing_seats{{priority_level="global-default"}} {executing}',
            "# TYPE apiserver_request_total counter",
            f'apiserver_request_total{{code="200",resource="pods",verb="LIST"}} {self.requests}',
            "# TYPE apiserver_request_duration_seconds histogram",
            f'apiserver_request_duration_seconds_bucket{{le="0.05"}} {self.requests}',
            f'apiserver_request_duration_seconds_bucket{{le="+Inf"}} {self.requests}',
            f"apiserver_request_duration_seconds_sum {self.requests * 0.01}",
            f"apiserver_request_duration_seconds_count {self.requests}",
            "# TYPE apiserver_storage_objects gauge",
            f'apiserver_storage_objects{{resource="pods"}} {objects}',
        ]
        for schema in self.live("flowschemas"):
            if schema.startswith("guardrail-workload-"):  # the agent's own flow, once guardrail made it
                labels = f'flow_schema="{schema}",priority_level="{schema}"'
                lines += [
                    "# TYPE apiserver_flowcontrol_dispatched_requests_total counter",
                    f"apiserver_flowcontrol_dispatched_requests_total{{{labels}}} {self.dispatched}",
                    "# TYPE apiserver_flowcontrol_request_execution_seconds histogram",
                    f'apiserver_flowcontrol_request_execution_seconds_bucket{{{labels},le="+Inf"}} {self.dispatched}',
                    f"apiserver_flowcontrol_request_execution_seconds_sum{{{labels}}} {self.execution}",
                    f"apiserver_flowcontrol_request_execution_seconds_count{{{labels}}} {self.dispatched}",
                ]
        return ("\n".join(lines) + "\n").encode()

    def _coredns_metrics(self) -> bytes:
        answers = self.requests / 100
        return f'coredns_dns_responses_total{{rcode="NOERROR",server="dns://:53",zone="."}} {answers}\n'.encode()


class FleetClock:
    """The Clock port for a test: sleeping advances the clock and every cluster (nothing waits)."""

    def __init__(self, clusters: list[EmulatedCluster], start: datetime = T0) -> None:
        self.clusters = clusters
        self.moment = start
        self.on_sleep: list[Callable[[FleetClock], None]] = []  # run after each sleep (another terminal...)

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        for cluster in self.clusters:
            cluster.advance(seconds)
        for hook in list(self.on_sleep):
            hook(self)


def kubeconfig(path: Path, clusters: list[EmulatedCluster]) -> Path:
    """One kubeconfig with a context per cluster, named `ctx-NAME`."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c.name, "cluster": {"server": c.url}} for c in clusters],
        "users": [{"name": "oncall", "user": {"token": "test-token"}}],
        "contexts": [{"name": f"ctx-{c.name}", "context": {"cluster": c.name, "user": "oncall"}} for c in clusters],
        "current-context": f"ctx-{clusters[0].name}",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def emulated(*clusters: EmulatedCluster) -> Iterator[list[EmulatedCluster]]:
    """The clusters started, and stopped whatever happens."""
    started: list[EmulatedCluster] = []
    try:
        for cluster in clusters:
            cluster.start()
            started.append(cluster)
        yield started
    finally:
        for cluster in reversed(started):  # each server hooks the resolver: unhooked in reverse order
            cluster.stop()


def rollout_files(tmp_path: Path, clusters: list[EmulatedCluster], agent: dict[str, Any]) -> tuple[Path, Path]:
    """The agent's manifests (a template among them), a kubeconfig of the clusters and a fleet file."""
    manifests = tmp_path / "agent"
    manifests.mkdir()
    (manifests / "10-account.yaml.j2").write_text(OTHERS)
    (manifests / "20-daemonset.yaml").write_text(yaml.safe_dump(agent))
    kubeconfig(tmp_path / "kubeconfig", clusters)
    fleet_file = tmp_path / "fleet.yaml"
    entries = [
        {"name": c.name, "context": f"ctx-{c.name}", "dns_cache_ttl": "3m", "values": {"environment": c.name}}
        for c in clusters
    ]
    fleet_file.write_text(yaml.safe_dump({"kubeconfig": "kubeconfig", "clusters": entries, "rollout": ROLLOUT}))
    return manifests, fleet_file


def _node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def _ready(namespace: str, name: str, node: str, labels: dict[str, str], owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner]},
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "main", "restartCount": 0}],
        },
    }


def _coredns(name: str, node: str) -> dict[str, Any]:
    owner = {"kind": "ReplicaSet", "name": "coredns", "controller": True}
    return _ready("kube-system", name, node, {"k8s-app": "kube-dns"}, owner)


def _agent_pod(name: str, node: str, daemonset: dict[str, Any]) -> dict[str, Any]:
    template_labels = dict(daemonset["spec"]["template"].get("metadata", {}).get("labels") or {})
    labels = {**template_labels, "pod-template-generation": str(daemonset["metadata"]["generation"])}
    owner = {"kind": "DaemonSet", "name": daemonset["metadata"]["name"], "controller": True}
    return _ready(daemonset["metadata"]["namespace"], name, node, labels, owner)
