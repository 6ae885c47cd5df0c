"""The one place that picks an adapter for each port (core/ports.py, core/store_ports.py).

Services ask here and never import guardrail.adapters themselves (an import-linter contract holds it).
Adapters are imported when first asked for, and this module imports nothing else at run time: checking a
JSON plan never loads python-terraform, only the markdown output loads jinja2, only a command that reaches
a cluster loads the kubernetes client (about 0.4 s), and `guardrail check` can start the store helper
before anything heavy is imported.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    from guardrail.adapters.kubernetes.cluster import KubernetesCluster
    from guardrail.config import Settings
    from guardrail.config.fleet import RehearsalFile
    from guardrail.config.pool_file import PoolFile
    from guardrail.core.clock import Clock
    from guardrail.core.kube.cluster import Cluster, NodeInfo
    from guardrail.core.kube.deprecated_apis import RequestedDeprecatedApi
    from guardrail.core.kube.render import ManifestDocument
    from guardrail.core.nodes.ports import NodeReplacer
    from guardrail.core.ports import PlanIntake, PolicyEngine, Renderer, TerraformRunner, Workspaces
    from guardrail.core.rollout.promql import PromqlSource
    from guardrail.core.rollout.readings import ApiServerSample
    from guardrail.core.rollout.rehearsal import RehearsalFleet, RehearsalStore
    from guardrail.core.runs import StoreWithRuns
    from guardrail.core.secrets import Scrubber
    from guardrail.core.source_control import SourceControl
    from guardrail.core.store_ports import SignatureVerifier, StoreOpener

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


def plan_intake(binary: str | None) -> PlanIntake:
    """Plan JSON, binary plans and directories; terraform (see terraform_runner) only when one needs it."""
    from guardrail.adapters.terraform.intake import TerraformPlanIntake

    return TerraformPlanIntake(lambda: terraform_runner(binary))


def workspaces() -> Workspaces:
    """Terraform configuration directories: their workspace, their rollback points."""
    from guardrail.adapters.terraform.workspace import TerraformWorkspaces

    return TerraformWorkspaces()


def policy_engine(
    paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool, *, timeout: float | None = None
) -> PolicyEngine:
    """Rego policies, conftest-compatible, each evaluation stopped after `timeout` seconds (None: no
    limit). Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces, timeout=timeout)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)


def open_store(url: str, *, cwd: Path, scrub: Scrubber | None = None, create: bool = False) -> StoreWithRuns:
    """The store at `url` (SQLite or PostgreSQL), migrated to this version, created first when `create`.
    Raises StoreMissingError when it does not exist (and not `create`), StoreError."""
    from guardrail.adapters.store import open_store as open_sql_store

    return open_sql_store(url, cwd=cwd, scrub=scrub, create=create)


def initialise_store(url: str, *, cwd: Path) -> tuple[str, bool]:
    """Create the store at `url` or bring it to this version's schema: its description, and whether it was
    created now. Raises StoreError."""
    from guardrail.adapters.store import initialise_store as initialise_sql_store

    return initialise_sql_store(url, cwd=cwd)


def start_store_helper() -> StoreOpener | None:
    """Begin importing the store adapter in a forked helper while the caller reads its configuration and
    the plan (see adapters/store_helper.py); None where forking is unsafe: the store then opens in-process."""
    from guardrail.adapters.store_helper import StoreHelper

    return StoreHelper.start()


def signature_verifier(allowed_signers: Path, namespace: str) -> SignatureVerifier:
    """OpenSSH signatures (`ssh-keygen -Y verify`) made in `namespace` by a key of `allowed_signers`."""
    from guardrail.adapters.signatures import SshSignatureVerifier

    return SshSignatureVerifier(allowed_signers, namespace)


def current_actor() -> str:
    """Who is acting: $GUARDRAIL_ACTOR, else git user.email, else the OS user."""
    from guardrail.adapters.identity import current_actor as actor

    return actor()


def hostname() -> str:
    """This host's name, as apply locks record it."""
    from guardrail.adapters.identity import hostname as name

    return name()


def process_alive(pid: int) -> bool:
    """Whether a process with that id runs on this host."""
    from guardrail.adapters.identity import process_alive as alive

    return alive(pid)


def manifest_documents(paths: Sequence[str], *, recursive: bool, stdin: Callable[[], bytes]) -> list[ManifestDocument]:
    """Every object of the manifest paths (files, directories, kustomizations rendered with kubectl, `-` for
    `stdin`), in order. Raises BadInputError naming the file and document of bad input."""
    from guardrail.adapters.manifests.kustomize import kustomize_build
    from guardrail.adapters.manifests.reading import read_manifests

    return read_manifests(paths, recursive=recursive, stdin=stdin, kustomize=kustomize_build)


def node_inventory(path: Path) -> tuple[NodeInfo, ...]:
    """The nodes of `kubectl get nodes -o json` output. Raises BadInputError naming the file."""
    from guardrail.adapters.manifests.nodes import read_nodes

    return read_nodes(path)


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
    with _connected([(context, kubeconfig, name) for name, context, kubeconfig in contexts], timeout) as opened:
        yield {connected.name: connected for connected in opened}


@contextmanager
def connected_clusters(contexts: Sequence[str], kubeconfig: Path | None) -> Iterator[list[Cluster]]:
    """A cluster per kubeconfig context (the kubeconfig's current context when none is named), closed when the
    block ends. Raises BadInputError naming the context and the files for a kubeconfig or context that does
    not exist, and for a context named twice, before any API server is asked anything."""
    from guardrail.core.errors import BadInputError

    repeated = sorted({context for context in contexts if list(contexts).count(context) > 1})
    if repeated:
        raise BadInputError(f"--context {repeated[0]} is given twice")
    targets: list[str | None] = [*contexts] or [None]
    config = str(kubeconfig) if kubeconfig else None
    with _connected([(context, config, None) for context in targets], KUBE_REQUEST_TIMEOUT) as opened:
        yield list(opened)


@contextmanager
def _connected(
    targets: Sequence[tuple[str | None, str | None, str | None]], timeout: float
) -> Iterator[list[KubernetesCluster]]:
    # (context, kubeconfig, name) each; every cluster opened is closed, also when a later one fails to open.
    from guardrail.adapters.kubernetes import connect

    opened: list[KubernetesCluster] = []
    try:
        for context, kubeconfig, name in targets:
            opened.append(connect(context, kubeconfig, timeout=timeout, name=name))
        yield opened
    finally:
        for connected in opened:
            connected.close()


def requested_deprecated_apis(metrics_text: str, *, cluster: str) -> list[RequestedDeprecatedApi]:
    """The deprecated APIs that clients requested of `cluster`, read from its API server's /metrics text.
    Raises ClusterError naming the cluster when that text is not Prometheus text format."""
    from guardrail.adapters.kubernetes.metrics import requested_deprecated_apis as requested

    return requested(metrics_text, cluster=cluster)


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
    from guardrail.adapters.memory_runs import MemoryRunStore

    return MemoryRunStore(clock)


def run_store(settings: Settings, store_url: str | None) -> StoreWithRuns:
    """The runs of real rollouts, the approvals their steps wait for and the audit log, in the configured
    store: `store_url` (--store), else $GUARDRAIL_STORE, else `store:` of guardrail.yaml, else the SQLite
    file under .guardrail/. Opened (and migrated) now; the caller closes it. Raises StoreError (exit 3)."""
    from guardrail.services.store import open_configured_store

    return open_configured_store(store_url, settings)


def simulated_fleet(fleet: RehearsalFile, *, refuse: frozenset[str] = frozenset()) -> RehearsalFleet:
    """The deterministic simulator of a fleet file's clusters, workload and cost."""
    from guardrail.core.locks import parse_duration
    from guardrail.simulation.fleet import SimulatedFleet
    from guardrail.simulation.spec import CallSpec, ClusterSpec, CostSpec, FleetSpec

    spec = FleetSpec(
        clusters=tuple(
            ClusterSpec(c.name, c.nodes, c.pods_per_node, c.seats, c.baseline, fleet.dns_cache_ttl_seconds(c))
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


@dataclass(frozen=True)
class SimulatedPool:
    """A simulated node pool: its cluster, the clock that advances it, and how its machines are replaced."""

    cluster: Cluster
    clock: Clock
    replacer: NodeReplacer


def pool_simulator(pool: PoolFile) -> SimulatedPool:
    """The pool file's pool, simulated (guardrail.simulation): the rehearsal's cluster and clock."""
    from guardrail.adapters.node_replacers import DeleteNodeReplacer
    from guardrail.config.nodes import seconds
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


def source_control() -> SourceControl:
    """git, through GitPython (imported only once a repository is found: see adapters/git.py)."""
    from guardrail.adapters.git import GitSourceControl

    return GitSourceControl()


def apply_lock_name(directory: Path) -> str | None:
    """The apply lock's name of a configuration directory (its absolute path and Terraform workspace), or
    None when `directory` holds no Terraform configuration."""
    from guardrail.core.errors import BadInputError

    directories = workspaces()
    try:
        directories.require_configuration(directory)
    except BadInputError:
        return None
    return directories.apply_lock_name(directory)
