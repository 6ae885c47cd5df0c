"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, only the
markdown output loads jinja2, and only a command that reaches a cluster loads the kubernetes client
(about 0.4 s), which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.core.clock import Clock
from guardrail.core.kube.cluster import Cluster
from guardrail.core.locks import parse_duration
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner
from guardrail.core.rollout.promql import PromqlSource
from guardrail.core.rollout.readings import ApiServerSample
from guardrail.core.rollout.rehearsal import RehearsalFleet, RehearsalStore

if TYPE_CHECKING:
    from guardrail.config import Settings
    from guardrail.config.fleet import RehearsalFile
    from guardrail.core.runs import RolloutStore

# Seconds any one request to a Kubernetes API server may take (the adapter's own default).
KUBE_REQUEST_TIMEOUT = 10.0


def clock() -> Clock:
    """The clock real rollouts wait on: the wall clock (tests give theirs here)."""
    from guardrail.core.clock import SystemClock

    return SystemClock()


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


def cluster(
    context: str | None, kubeconfig: str | None, *, timeout: float = KUBE_REQUEST_TIMEOUT, name: str | None = None
) -> Cluster:
    """The Kubernetes cluster of a kubeconfig context (kubectl's rules: `kubeconfig`, else $KUBECONFIG,
    else ~/.kube/config; `context`, else the current one), every request bounded by `timeout` seconds,
    called `name` in readings and messages (a fleet's name for it; default the context's).

    Raises BadInputError naming the context and the files when the kubeconfig or the context is missing;
    the API server is not asked anything until the cluster is used."""
    from guardrail.adapters.kubernetes import connect

    return connect(context, kubeconfig, timeout=timeout, name=name)


@contextmanager
def clusters(
    contexts: Sequence[tuple[str, str, str | None]], *, timeout: float = KUBE_REQUEST_TIMEOUT
) -> Iterator[dict[str, Cluster]]:
    """The clusters of (name, context, kubeconfig) triples by name (see `cluster`), closed when the block
    ends. Raises BadInputError as `cluster` does, before any is used."""
    from guardrail.adapters.kubernetes import connect

    opened = {}
    try:
        for name, context, kubeconfig in contexts:
            opened[name] = connect(context, kubeconfig, timeout=timeout, name=name)
        yield dict(opened)
    finally:
        for connected in opened.values():
            connected.close()


def rollout_metrics_parsers() -> tuple[Callable[[str], ApiServerSample], Callable[[str], tuple[float, float]]]:
    """(the API server's /metrics -> ApiServerSample, a CoreDNS pod's /metrics -> (answers, failures)).
    Both raise BadInputError for text that is not Prometheus text format."""
    from guardrail.adapters.kubernetes.rollout_metrics import parse_apiserver_metrics, parse_coredns_answers

    return parse_apiserver_metrics, parse_coredns_answers


def prometheus(url: str, *, timeout: float) -> PromqlSource:
    """The PromQL gates' source: the Prometheus HTTP API at `url`, each query bounded by `timeout` seconds."""
    from guardrail.adapters.prometheus import PrometheusApi

    return PrometheusApi(url, timeout=timeout)


def render_manifests(paths: Sequence[Path], values: Mapping[str, Any], cluster: str) -> list[dict[str, Any]]:
    """The manifests of `paths` for `cluster`, jinja2 templates rendered with `values`. Raises
    BadInputError naming the file and cluster for an undefined value or a malformed file."""
    from guardrail.adapters.templating import render_manifests as render

    return render(paths, values, cluster=cluster)


def memory_run_store(clock: Clock) -> RehearsalStore:
    """Runs and their audit events in memory (a rehearsal's store), stamped with `clock`."""
    from guardrail.adapters.runs_memory import MemoryRunStore

    return MemoryRunStore(clock)


def run_store(settings: Settings, store_url: str | None) -> RolloutStore:
    """The runs of real rollouts, the approvals their steps wait for and the audit log, in the configured
    store: `store_url` (--store), else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else the SQLite
    file under .guardrail/. Opened (and migrated) now; the caller closes it. Raises StoreError (exit 3)."""
    from guardrail.services.store import open_configured_store

    return open_configured_store(store_url, settings)


def simulated_fleet(fleet: RehearsalFile, *, refuse: frozenset[str] = frozenset()) -> RehearsalFleet:
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
