"""The Kubernetes gate: manifests in, a fail-closed verdict out, settled with the store like a plan.

Offline (no cluster given) every object is a create, or a delete with `delete`, on one cluster named
`offline` whose version is `target_version` and whose nodes come from `nodes` (`kubectl get nodes -o json`).
With live clusters (`readers`, one per kubeconfig context) the cluster adapter's LiveDiff says what each
cluster is and what each object changes on it. Ready ClusterViews (`views`) stand for clusters already
observed: their objects are judged as offline creates (or deletes), with what the views know of each cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from guardrail.adapters.manifests.kustomize import kustomize_build
from guardrail.adapters.manifests.nodes import read_nodes
from guardrail.adapters.manifests.reading import STDIN, read_manifests
from guardrail.config import Settings
from guardrail.core.blast.impact import BlastRadius
from guardrail.core.change import ChangeSet
from guardrail.core.errors import BadInputError
from guardrail.core.fingerprint import fingerprint
from guardrail.core.kube.blast import kube_blast_radius
from guardrail.core.kube.change import OFFLINE_CLUSTER, ClusterView, KubeChangeSet
from guardrail.core.kube.cluster import ClusterReader
from guardrail.core.kube.derive import derived_changeset, fingerprint_sections
from guardrail.core.kube.offline import offline_changes
from guardrail.core.kube.render import RenderedObject, render_objects
from guardrail.core.kube.report import kube_report
from guardrail.core.kube.secret_data import secret_literals
from guardrail.core.policy import evaluate, evaluate_kube
from guardrail.core.ports import PolicyEngine, PolicyRun
from guardrail.core.report import CheckReport
from guardrail.core.secrets import scrubber_for
from guardrail.core.verdict import Finding, Verdict
from guardrail.services.kube_rules import change_rules, kube_rules, reach_analysis
from guardrail.services.review import settle
from guardrail.services.rules import blast_radius_rule
from guardrail.services.store import actor as current_actor
from guardrail.services.store import opened_for_review
from guardrail.services.wiring import live_diff, policy_engine

if TYPE_CHECKING:
    from guardrail.adapters.store_helper import StoreHelper

_ENCODER = msgspec.json.Encoder(order="sorted")


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
    readers: Sequence[ClusterReader] = ()  # live clusters
    views: Sequence[ClusterView] = ()  # clusters already observed
    stdin: Callable[[], bytes] = field(default=_stdin, repr=False)

    @property
    def source(self) -> str:
        """How reports name the input: the paths as given, `-` as standard input."""
        return ", ".join("standard input" if p == STDIN else p for p in self.paths)


def kube_check(request: KubeCheckRequest) -> CheckReport:
    """Read the manifests, evaluate the built-in rules and custom policies, and decide.

    Raises BadInputError (bad manifests, config, policy, options), ClusterError (a live cluster refused or
    did not answer); never returns an "allow" that a failed step would have denied.
    """
    _check_options(request)
    engine = _engine(request)  # a broken policy fails before any work
    documents = read_manifests(
        request.paths, recursive=request.recursive, stdin=request.stdin, kustomize=kustomize_build
    )
    objects = render_objects(documents, default_namespace=request.settings.kubernetes.default_namespace)
    run = _submit(engine, objects) if engine is not None else None
    changes = _changes(request, objects)
    sections = fingerprint_sections(objects, changes)
    identity = fingerprint((name, _ENCODER.encode(data)) for name, data in sections)
    derived = derived_changeset(changes, source=request.source, fingerprint=identity)
    findings = evaluate(derived, change_rules(request.settings))
    findings.extend(evaluate_kube(changes, kube_rules(request.settings)))
    reach = reach_analysis(request.settings, changes)
    findings.extend(reach.findings)
    blast = _blast(request.settings, changes, derived, findings)
    if run is not None:
        findings.extend(_policy_findings(run, changes, derived))
    return CheckReport(derived, Verdict.of(findings), blast=blast, kube=kube_report(changes, reach.reaches))


def kube_review(
    request: KubeCheckRequest, store: str | None = None, *, helper: StoreHelper | None = None
) -> CheckReport:
    """Check, then settle with the store chosen by `store` exactly as a plan's review: active locks, approvals,
    break-glass passes, and a `check` event in the audit log. Raises what kube_check raises, and StoreError."""
    report = kube_check(request)
    literals = report.changeset.sensitive_literals
    with opened_for_review(store, request.settings, literals, helper) as opened:
        return settle(opened, report, request.settings, current_actor(), datetime.now(UTC)).report


def _check_options(request: KubeCheckRequest) -> None:
    live = bool(request.readers)
    if request.prune and not live:
        raise BadInputError("--prune deletes live objects absent from PATH: it needs a live cluster (--context)")
    if request.nodes is not None and (live or request.views):
        raise BadInputError("--nodes gives an offline cluster's nodes; a live cluster's nodes are read from it")
    if request.readers and request.views:
        raise BadInputError("give live clusters or observed cluster views, not both")


def _changes(request: KubeCheckRequest, objects: Sequence[RenderedObject]) -> KubeChangeSet:
    if request.readers:
        differ = live_diff()
        parts = []
        for reader in request.readers:
            view = differ.observe(reader, request.target_version)
            parts.append(differ.changes(reader, view, objects, delete=request.delete, prune=request.prune))
        literals = secret_literals(obj.manifest for obj in objects).union(*(part.sensitive_literals for part in parts))
        return KubeChangeSet(
            tuple(c for part in parts for c in part.changes),
            tuple(v for part in parts for v in part.clusters),
            literals,
        )
    views = list(request.views)
    if request.target_version is not None:
        views = [replace(view, version=request.target_version) for view in views]
    if not views:
        nodes = read_nodes(request.nodes) if request.nodes is not None else None
        views = [ClusterView(OFFLINE_CLUSTER, version=request.target_version, nodes=nodes)]
    names = [view.name for view in views]
    if len(set(names)) != len(names):
        raise BadInputError(f"clusters {', '.join(names)}: a cluster is named twice")
    return offline_changes(objects, views, delete=request.delete)


def _blast(
    settings: Settings, changes: KubeChangeSet, derived: ChangeSet, findings: list[Finding]
) -> BlastRadius | None:
    rule = blast_radius_rule(settings)
    if rule is None:
        return None
    blast = kube_blast_radius(changes, derived, rule.settings.critical)
    findings.extend(rule.findings(blast))
    return blast


def _engine(request: KubeCheckRequest) -> PolicyEngine | None:
    paths = [*request.settings.policy_paths(), *request.policies]
    if not paths:
        return None
    return policy_engine(paths, tuple(request.settings.namespaces), False)


def _submit(engine: PolicyEngine, objects: Sequence[RenderedObject]) -> PolicyRun:
    # Each object as the input wrote it, one input per object (conftest's multi-document YAML), named by
    # its address without cluster: _policy_findings puts it on each cluster's change.
    return engine.submit_each([(obj.ref.address, _ENCODER.encode(obj.written)) for obj in objects])


def _policy_findings(run: PolicyRun, changes: KubeChangeSet, derived: ChangeSet) -> list[Finding]:
    scrub = scrubber_for(changes.sensitive_literals)
    on_clusters: dict[str, list[str]] = {}
    for change, resource in zip(changes.changes, derived.changes, strict=True):
        on_clusters.setdefault(change.ref.address, []).append(resource.address)
    findings = []
    for found in run.findings():
        message = scrub(found.message)  # a policy may quote the object, Secret values included
        for address in on_clusters.get(found.address or "", [found.address]):
            findings.append(replace(found, address=address, message=message))
    return findings
