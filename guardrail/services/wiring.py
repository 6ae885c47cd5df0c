"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, only the
markdown output loads jinja2, and only a command that reaches a cluster loads the kubernetes client
(about 0.4 s), which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.config.nodes import seconds
from guardrail.config.pool_file import PoolFile
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import LiveDiff
from guardrail.core.kube.cluster import Cluster, ClusterReader
from guardrail.core.locks import parse_duration
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner
from guardrail.core.rollout.readings import ApiServerSample
from guardrail.core.rollout.rehearsal import RehearsalFleet, RehearsalStore

if TYPE_CHECKING:
    from guardrail.config import Settings
    from guardrail.config.fleet import FleetFile
    from guardrail.core.runs import RunsStore

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


def run_store(settings: Settings, store_url: str | None) -> RunsStore:
    """Runs of real node cycles and rollouts, with the locks, approvals and audit log beside them, in the
    configured store: `store_url` (--store), else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else the
    SQLite file under .guardrail/. Opened (created and migrated on first use) now; the caller closes it.
    Raises StoreError (exit 3) when it cannot be opened."""
    from guardrail.services.store import open_configured_store

    return open_configured_store(store_url, settings)


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


def node_replacer(cluster: Cluster, replace_command: str | None, *, timeout: float) -> NodeReplacer:
    """How a real cycle replaces machines: `replace_command`, a jinja2 template run without a shell through
    guardrail.adapters.process (bounded by `timeout` seconds), else deleting the Node so that the managed
    pool re-creates it. Raises BadInputError when the template does not parse."""
    from guardrail.adapters.node_replacers import CommandReplacer, DeleteNodeReplacer

    if replace_command is None:
        return DeleteNodeReplacer(cluster)
    return CommandReplacer(replace_command, timeout=timeout)


# Said by every option that needs a live cluster until the cluster adapter is installed.
LIVE_CLUSTERS_MISSING = (
    "live clusters need the Kubernetes cluster adapter (the official kubernetes client), which this "
    "installation does not have; check offline (without --context, --kubeconfig and --prune), "
    "with --target-version and --nodes for what the cluster would be"
)


def cluster_readers(contexts: Sequence[str], kubeconfig: Path | None) -> list[ClusterReader]:
    """A reader per kubeconfig context (the current context when none is named), kubeconfig read as kubectl
    reads it (`kubeconfig`, else $KUBECONFIG, else ~/.kube/config). Raises BadInputError for a kubeconfig or
    context that does not exist, ClusterUnreachableError for a cluster that does not answer."""
    raise BadInputError(LIVE_CLUSTERS_MISSING)


def live_diff() -> LiveDiff:
    """What compares rendered objects with a live cluster (server-side dry-run apply, client-side when the
    server cannot). Raises BadInputError when no cluster adapter is installed."""
    raise BadInputError(LIVE_CLUSTERS_MISSING)


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
