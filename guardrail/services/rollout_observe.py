"""One observation of a cluster, as a real operator would make it: /readyz, the API server's /metrics,
node status, the DaemonSet's pods, and CoreDNS's metrics through the API server's pod proxy.

A cluster that does not answer gives an `unreachable` reading (every gate fails), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.cluster import Cluster, NodeInfo
from guardrail.core.rollout.policy import HOLD
from guardrail.core.rollout.promql import PromqlGate, PromqlSource, PromqlValue, evaluate
from guardrail.core.rollout.readings import ApiServerSample, ClusterReading, DnsSample, WorkloadPods, unreachable
from guardrail.services.rollout_act import ClusterTarget, pod_selector

COREDNS_SELECTOR = "k8s-app=kube-dns"
COREDNS_NAMESPACE = "kube-system"
COREDNS_METRICS_PORT = 9153
_NAMED = 5  # nodes named in a message

ApiServerParser = Callable[[str], ApiServerSample]
DnsParser = Callable[[str], tuple[float, float]]


def observe(
    target: ClusterTarget,
    at: datetime,
    parse_apiserver: ApiServerParser,
    parse_dns: DnsParser,
    promql: tuple[PromqlSource | None, tuple[PromqlGate, ...]] = (None, ()),
) -> ClusterReading:
    """The cluster's reading at `at`, with the values of the PromQL gates from the cluster's Prometheus."""
    cluster = target.cluster
    try:
        api_ready = cluster.ready()
        text = cluster.metrics_text()
        sample = parse_apiserver(text) if text is not None else None
        nodes = cluster.nodes()
        not_ready: list[str] = []
        free: list[NodeInfo] = []  # not held: held nodes were reached when they were held
        label = target.label
        for node in nodes:  # one pass: a large cluster has thousands of nodes, observed every minute
            if node.conditions.get("Ready") != "True":
                not_ready.append(node.name)
            if node.labels.get(label) != HOLD:
                free.append(node)
        released = {node.name for node in target.reach(free)}
        workload = _workload(target, released)
        dns = _dns(cluster, parse_dns)
    except BadInputError as exc:
        return unreachable(cluster.name, at, f"unreadable metrics: {exc}")
    except ClusterError as exc:
        return unreachable(cluster.name, at, str(exc))
    source, gates = promql
    if source is not None:
        queried = evaluate(source, gates)
    else:
        queried = {gate.name: PromqlValue(error="no Prometheus URL for this cluster") for gate in gates}
    return ClusterReading(
        cluster=cluster.name,
        at=at,
        api_ready=api_ready,
        apiserver=sample,
        nodes=len(nodes),
        nodes_ready=len(nodes) - len(not_ready),
        not_ready_nodes=tuple(not_ready[:_NAMED]),
        workload=workload,
        dns=dns,
        promql=queried,
    )


def _workload(target: ClusterTarget, released: set[str]) -> WorkloadPods:
    """The DaemonSet's pods of its current generation, Ready, on the reached nodes no longer held."""
    cluster = target.cluster
    live = cluster.get(target.ref, target.api_version)
    generation = str((live or {}).get("metadata", {}).get("generation", ""))
    pods = cluster.pods(namespace=target.ref.namespace, label_selector=pod_selector(target.daemonset))
    current = [
        p for p in pods if p.node in released and p.labels.get("pod-template-generation", generation) == generation
    ]
    ready_on = {p.node for p in current if p.ready}
    missing = sorted(released - ready_on)
    return WorkloadPods(
        expected=len(released),
        ready=len(ready_on),
        restarts=sum(p.restarts for p in current),
        not_ready=tuple(missing[:_NAMED]),
    )


def _dns(cluster: Cluster, parse_dns: DnsParser) -> DnsSample | None:
    pods = cluster.pods(namespace=COREDNS_NAMESPACE, label_selector=COREDNS_SELECTOR)
    answers = failures = 0.0
    read = 0
    for pod in pods:
        try:
            text = cluster.pod_metrics_text(pod.namespace, pod.name, port=COREDNS_METRICS_PORT)
        except ClusterError:
            continue  # a pod the proxy cannot reach: its readiness already tells
        if text is not None:
            pod_answers, pod_failures = parse_dns(text)
            answers, failures, read = answers + pod_answers, failures + pod_failures, read + 1
    if not pods or not read:
        return None
    return DnsSample(len(pods), sum(p.ready for p in pods), answers, failures)
