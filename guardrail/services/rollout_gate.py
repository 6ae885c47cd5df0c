"""The gate a real rollout passes before anything changes: the objects judged on every cluster of the
fleet by the Kubernetes gate itself (services/kube_gate.py: the built-in rules, `protect:`, locks' selectors,
the blast radius, the config's custom policies, one fingerprint), then settled with the store like a plan
(active locks deny, approvals of the fingerprint let a soft finding through, a break-glass pass lets a
denied one through once and is spent).

Each cluster gets its own rendering of the manifests (the fleet's per-cluster values), so the objects judged
are every cluster's rendering, each named by its cluster. The reach rule's advice for a DaemonSet that
reaches many nodes at once is to roll it out with the fleet canary: for the DaemonSet this rollout takes
batch by batch, that advice is followed, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from guardrail.config import Settings
from guardrail.core.kube.derive import object_address, qualified
from guardrail.core.kube.render import ManifestDocument, RenderedObject, render_objects
from guardrail.core.kube.rule_catalog import NODE_REACH
from guardrail.core.report import CheckReport
from guardrail.core.store_ports import Store
from guardrail.core.verdict import Enforcement, Finding, Verdict
from guardrail.services.approvals import use_break_glass
from guardrail.services.kube_gate import judged, policies_of, submit
from guardrail.services.kube_live import change_set, read_cluster
from guardrail.services.review import Reviewed, settle
from guardrail.services.rollout_act import ClusterTarget


@dataclass(frozen=True)
class Gated:
    """The gate's report (settled verdict, notes) and whether the rollout may go ahead."""

    reviewed: Reviewed

    @property
    def report(self) -> CheckReport:
        return self.reviewed.report


def gate_rollout(
    targets: Mapping[str, ClusterTarget], *, source: str, store: Store, settings: Settings, actor: str, now: datetime
) -> Gated:
    """Judge the rollout's objects on every cluster and settle the verdict with the store (the check is
    recorded; a break-glass pass that lets it through is spent). Raises BadInputError (an object the
    cluster does not serve), PolicyError (a custom policy that does not load or evaluate), ClusterError (a
    cluster that does not answer), StoreError."""
    engine = policies_of(settings, ())  # a broken policy fails before any cluster is read
    objects: list[RenderedObject] = []
    readings = []
    for name, target in targets.items():
        documents = [ManifestDocument(manifest, name, index) for index, manifest in enumerate(target.manifests)]
        rendered = render_objects(documents, default_namespace=target.cluster.default_namespace)
        readings.append(read_cluster(target.cluster, rendered))
        objects.extend(rendered)
    changes = change_set(readings, objects)
    run = submit(engine, objects) if engine is not None else None
    report = judged(settings, objects, changes, source=source, run=run)
    with_cluster = qualified(changes)
    rolled_out = {object_address(name, target.ref, with_cluster=with_cluster) for name, target in targets.items()}
    followed = [f for f in report.verdict.findings if not _canary_advice(f, rolled_out)]
    report = replace(report, verdict=Verdict.of(followed))
    reviewed = settle(store, report, settings, actor, now, applying=True)
    grant = reviewed.gate.settlement.break_glass
    if grant is not None:
        use_break_glass(store, grant, actor, now)
    return Gated(reviewed)


def _canary_advice(finding: Finding, rolled_out: set[str]) -> bool:
    """The reach rule asking for the fleet canary, about the DaemonSet this rollout takes batch by batch."""
    return finding.rule == NODE_REACH and finding.enforcement is Enforcement.SOFT and finding.address in rolled_out
