"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, only the
markdown output loads jinja2, and only a command that reaches a cluster loads the kubernetes client
(about 0.4 s), which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.config.nodes import seconds
from guardrail.config.pool_file import PoolFile
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import Cluster
from guardrail.core.locks import parse_duration
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner
from guardrail.core.rollout.readings import ApiServerSample
from guardrail.core.rollout.rehearsal import RehearsalFleet, RehearsalStore

if TYPE_CHECKING:
    from guardrail.adapters.kubernetes.cluster import KubernetesCluster
    from guardrail.config.fleet import FleetFile

# Seconds any one request to a Kubernetes API server may take (the adapter's own default).
KUBE_REQUEST_TIMEOUT = 10.0


def terraform_runner(binary: str | None) -> TerraformRunner:
    """The terraform CLI (or OpenTofu): `binary`, else $GUARDRAIL_TERRAFORM, else `terraform`."""
    from guardrail.adapters.terraform.run import TerraformCli

    return TerraformCli(binary)


def policy_engine(paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool) -> PolicyEngine:
    """Rego policies, conftest-compatible. Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)


def cluster(context: str | None, kubeconfig: str | None, *, timeout: float = KUBE_REQUEST_TIMEOUT) -> Cluster:
    """The Kubernetes cluster of a kubeconfig context (kubectl's rules: `kubeconfig`, else $KUBECONFIG,
    else ~/.kube/config; `context`, else the current one), every request bounded by `timeout` seconds.

    Raises BadInputError naming the context and the files when the kubeconfig or the context is missing;
    the API server is not asked anything until the cluster is used."""
    from guardrail.adapters.kubernetes import connect

    return connect(context, kubeconfig, timeout=timeout)


@contextmanager
def connected_clusters(contexts: Sequence[str], kubeconfig: Path | None) -> Iterator[list[Cluster]]:
    """A cluster per kubeconfig context (the kubeconfig's current context when none is named), closed when the
    block ends. Raises BadInputError naming the context and the files for a kubeconfig or context that does
    not exist, and for a context named twice, before any API server is asked anything."""
    from guardrail.adapters.kubernetes import connect

    repeated = sorted({context for context in contexts if list(contexts).count(context) > 1})
    if repeated:
        raise BadInputError(f"--context {repeated[0]} is given twice")
    targets: list[str | None] = [*contexts] or [None]
    opened: list[KubernetesCluster] = []
    try:
        for context in targets:
            opened.append(connect(context, str(kubeconfig) if kubeconfig else None, timeout=KUBE_REQUEST_TIMEOUT))
        yield list(opened)
    finally:
        for connected in opened:
            connected.close()


def rollout_metrics_parsers() -> tuple[Callable[[str], ApiServerSample], Callable[[str], tuple[float, float]]]:
    """(the API server's /metrics -> ApiServerSample, a CoreDNS pod's /metrics -> (answers, failures)).
    Both raise BadInputError for text that is not Prometheus text format."""
    from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers

    return parse_apiserver_metrics, parse_coredns_answers


def render_manifests(paths: Sequence[Path], values: Mapping[str, Any], cluster: str) -> list[dict[str, Any]]:
    """The manifests of `paths` for `cluster`, jinja2 templates rendered with `values`. Raises
    BadInputError naming the file and cluster for an undefined value or a malformed file."""
    from guardrail.adapters.templating import render_manifests as render

    return render(paths, values, cluster=cluster)


def memory_run_store(clock: Clock) -> RehearsalStore:
    """Runs and their audit events in memory (a rehearsal's store), stamped with `clock`."""
    from guardrail.adapters.memory_runs import MemoryRunStore

    return MemoryRunStore(clock)


def simulated_fleet(fleet: FleetFile, *, refuse: frozenset[str] = frozenset()) -> RehearsalFleet:
    """The deterministic simulator of a fleet file's clusters, workload and cost."""
    from guardrail.simulation.fleet import SimulatedFleet
    from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec, FleetSpec

    spec = FleetSpec(
        clusters=tuple(
            ClusterSpec(
                c.name, c.nodes, c.pods_per_node, c.seats, c.baseline, parse_duration(c.dns_cache_ttl).total_seconds()
            )
            for c in fleet.clusters
        ),
        calls=tuple(
            CallSpec(call.verb, call.resource, call.scope, parse_duration(call.every).total_seconds())
            for call in fleet.workload.calls
        ),
        cost=CostSpec(fleet.cost.request_ms, fleet.cost.per_object_ms),
        seed=fleet.seed,
    )
    return SimulatedFleet(spec, refuse=refuse)


@dataclass(frozen=True)
class SimulatedPool:
    """A simulated node pool: its cluster, the clock that advances it, and how its machines are replaced."""

    cluster: Cluster
    clock: Clock
    replacer: NodeReplacer


def pool_simulator(pool: PoolFile) -> SimulatedPool:
    """The pool file's pool, simulated (guardrail.simulation): the rehearsal's cluster and clock."""
    from guardrail.adapters.node_replacers import DeleteNodeReplacer
    from guardrail.simulation.pool_sim import PoolSimulator, ReimageReplacer
    from guardrail.simulation.pool_spec import GroupSpec, PoolSpec, ReplaceMode, WorkloadSpec

    groups = tuple(
        GroupSpec(
            count=g.count,
            instance_type=g.instance_type,
            zone=g.zone,
            gpus=g.gpus,
            boot=seconds(g.boot),
            gpu_diag=seconds(g.gpu_diag) if g.gpu_diag is not None else 0.0,
            visible_gpus=g.visible_gpus,
            region=g.region,
            xid=g.xid,
            kubelet=g.kubelet,
            os_image=g.os_image,
            kernel=g.kernel,
            driver=g.driver,
            gpu_product=g.gpu_product,
        )
        for g in pool.groups
    )
    workloads = tuple(
        WorkloadSpec(w.name, w.replicas, w.namespace, w.gpus, w.min_available, w.max_unavailable, seconds(w.start))
        for w in pool.workloads
    )
    mode = ReplaceMode(pool.replace)
    spec = PoolSpec(pool.pool, seconds(pool.boot_timeout), groups, pool.seed, pool.jitter, mode, workloads)
    simulator = PoolSimulator(spec)
    replacer = ReimageReplacer(simulator) if mode is ReplaceMode.REIMAGE else DeleteNodeReplacer(simulator)
    return SimulatedPool(simulator, simulator.clock, replacer)
