"""The Kubernetes gate: manifests in, a fail-closed verdict out, settled with the store like a plan.

Offline (no context given) every object is a create, or a delete with `delete`, on one cluster named `offline`
whose version is `target_version` and whose nodes come from `nodes` (`kubectl get nodes -o json`). With
kubeconfig contexts (`contexts`, or the current context of `kubeconfig`) each cluster is read (kube_live):
what it is, and what each object changes on it, server-side where the API server allows. Ready
ClusterViews (`views`) stand for clusters already observed: their objects are judged as offline creates (or
deletes), with what the views know of each cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.config import Settings
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import OFFLINE_CLUSTER, ClusterView, KubeChangeSet
from guardrail.core.kube.cluster import Cluster
from guardrail.core.kube.offline import offline_changes
from guardrail.core.kube.render import STDIN, RenderedObject, render_objects
from guardrail.core.report import CheckReport
from guardrail.services.kube_gate import judged, policies_of, submit
from guardrail.services.review import settle
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_for_review
from guardrail.services.wiring import connected_clusters, manifest_documents, node_inventory

if TYPE_CHECKING:
    from guardrail.core.store_ports import StoreOpener
    from guardrail.services.kube_live import LiveReading


def _stdin() -> bytes:
    return sys.stdin.buffer.read()


@dataclass(frozen=True)
class KubeCheckRequest:
    """What to check, against which clusters, with which rules."""

    paths: Sequence[str]
    settings: Settings
    policies: Sequence[Path] = ()  # on top of the config's `policies:`
    delete: bool = False  # judge the objects as deletions (kubectl delete -f)
    prune: bool = False  # also delete live objects of this set absent from the paths (needs live clusters)
    recursive: bool = False  # read directories' subdirectories too (kubectl -R)
    target_version: str | None = None  # the Kubernetes version the change will meet, e.g. 1.33
    nodes: Path | None = None  # offline node inventory
    contexts: Sequence[str] = ()  # kubeconfig contexts of the target clusters
    kubeconfig: Path | None = None  # the kubeconfig (kubectl's rules without it); alone: its current context
    views: Sequence[ClusterView] = ()  # clusters already observed
    stdin: Callable[[], bytes] = field(default=_stdin, repr=False)

    @property
    def source(self) -> str:
        """How reports name the input: the paths as given, `-` as standard input."""
        return ", ".join("standard input" if p == STDIN else p for p in self.paths)

    @property
    def live(self) -> bool:
        """Whether live clusters are read: a context, or a kubeconfig (its current context), was given."""
        return bool(self.contexts) or self.kubeconfig is not None


@dataclass(frozen=True)
class KubeJudgement:
    """A checked change: its report, the change set it judged, the objects as rendered, and each live
    cluster's reading (what an apply sends, by cluster)."""

    report: CheckReport
    changes: KubeChangeSet
    objects: tuple[RenderedObject, ...]
    readings: tuple[LiveReading, ...] = ()


def kube_check(request: KubeCheckRequest) -> CheckReport:
    """Read the manifests (and the live clusters), evaluate the built-in rules and custom policies, and decide.

    Raises BadInputError (bad manifests, config, policy, options, a missing kubeconfig or context, a kind a
    cluster does not serve), ClusterError (a live cluster refused or did not answer); never returns an
    "allow" that a failed step would have denied.
    """
    _check_options(request, live=request.live)
    with clusters_of(request) as clusters:
        return judge(request, clusters).report


def kube_review(
    request: KubeCheckRequest, store: str | None = None, *, helper: StoreOpener | None = None
) -> CheckReport:
    """Check, then settle with the store chosen by `store` exactly as a plan's review: active locks, approvals,
    break-glass passes, and a `check` event in the audit log. Raises what kube_check raises, and StoreError."""
    report = kube_check(request)
    literals = report.changeset.sensitive_literals
    with opened_for_review(store, request.settings, literals, helper) as opened:
        return settle(opened, report, request.settings, current_actor(), datetime.now(UTC)).report


@contextmanager
def clusters_of(request: KubeCheckRequest) -> Iterator[list[Cluster]]:
    """The request's live clusters, connected (none offline) and closed when the block ends. Raises
    BadInputError for a missing kubeconfig or context, before anything is read."""
    if not request.live:
        yield []
        return
    with connected_clusters(request.contexts, request.kubeconfig) as clusters:
        yield clusters


def judge(request: KubeCheckRequest, clusters: Sequence[Cluster]) -> KubeJudgement:
    """The gate on the request's manifests against `clusters` (offline when there are none)."""
    _check_options(request, live=bool(clusters))
    engine = policies_of(request.settings, request.policies)  # a broken policy fails before any work
    documents = manifest_documents(request.paths, recursive=request.recursive, stdin=request.stdin)
    objects = render_objects(documents, default_namespace=request.settings.kubernetes.default_namespace)
    run = submit(engine, objects) if engine is not None else None
    readings: list[LiveReading] = []
    if clusters:
        from guardrail.services.kube_live import read_clusters  # an offline check never reads a cluster

        changes, readings = read_clusters(
            clusters, objects, target_version=request.target_version, delete=request.delete, prune=request.prune
        )
    else:
        changes = _offline(request, objects)
    report = judged(request.settings, objects, changes, source=request.source, run=run)
    return KubeJudgement(report, changes, objects, tuple(readings))


def _check_options(request: KubeCheckRequest, *, live: bool) -> None:
    if request.prune and not live:
        raise BadInputError("--prune deletes live objects absent from PATH: it needs a live cluster (--context)")
    if request.nodes is not None and (live or request.views):
        raise BadInputError("--nodes gives an offline cluster's nodes; a live cluster's nodes are read from it")
    if live and request.views:
        raise BadInputError("give live clusters or observed cluster views, not both")


def _offline(request: KubeCheckRequest, objects: Sequence[RenderedObject]) -> KubeChangeSet:
    views = list(request.views)
    if request.target_version is not None:
        views = [replace(view, version=request.target_version) for view in views]
    if not views:
        nodes = node_inventory(request.nodes) if request.nodes is not None else None
        views = [ClusterView(OFFLINE_CLUSTER, version=request.target_version, nodes=nodes)]
    names = [view.name for view in views]
    if len(set(names)) != len(names):
        raise BadInputError(f"clusters {', '.join(names)}: a cluster is named twice")
    return offline_changes(objects, views, delete=request.delete)
