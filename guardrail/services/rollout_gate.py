"""The gate a real rollout passes before anything changes: the objects judged on every cluster of the
fleet as the Kubernetes gate judges them, then settled with the store like a plan (active locks deny,
approvals of the fingerprint let a soft finding through, a break-glass pass lets a denied one through
once and is spent).

This is the seam to the Kubernetes gate service (`kube check`): `gate_rollout` is the one function the
rollout calls. Until that service is available here it runs the core Kubernetes rules (removed and
deprecated APIs, node reach, control-plane cost) over a KubeChangeSet read from the live clusters
(services/kube_live.py) and derives the ChangeSet that fingerprints, locks and approvals read; then it
becomes a call of that service over the same clusters and manifests.

The reach rule's advice for a DaemonSet that reaches many nodes at once is to roll it out with the fleet
canary: for the DaemonSet this rollout takes batch by batch, that finding is satisfied, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from guardrail.config import Settings
from guardrail.core.audit import canonical_json
from guardrail.core.change import ACTION_ORDER, ChangeSet, ResourceChange
from guardrail.core.fingerprint import fingerprint
from guardrail.core.kube.change import KubeChange, KubeChangeSet, KubeRule
from guardrail.core.kube.control_plane_cost import ControlPlaneCostRule
from guardrail.core.kube.deprecated_apis import DeprecatedApiRule
from guardrail.core.kube.derive import KUBE_FORMAT
from guardrail.core.kube.reach import NodeReachRule
from guardrail.core.kube.render import ManifestDocument, render_objects
from guardrail.core.kube.rule_catalog import NODE_REACH
from guardrail.core.kube.secret_data import secret_literals
from guardrail.core.report import CheckReport
from guardrail.core.store_ports import Store
from guardrail.core.verdict import Enforcement, Finding, Verdict
from guardrail.services.approvals import use_break_glass
from guardrail.services.kube_live import read_cluster
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
    cluster does not serve), ClusterError (a cluster that does not answer), StoreError."""
    changes: list[KubeChange] = []
    views = []
    literals: set[str] = set()
    for name, target in targets.items():
        documents = [ManifestDocument(manifest, name, index) for index, manifest in enumerate(target.manifests)]
        objects = render_objects(documents, default_namespace=target.cluster.default_namespace)
        reading = read_cluster(target.cluster, objects)
        changes.extend(reading.changes)
        views.append(reading.view)
        literals |= reading.sensitive_literals
        literals |= secret_literals(target.manifests)
    kube = KubeChangeSet(tuple(changes), tuple(views), frozenset(literals))
    rolled_out = {target.ref.address for target in targets.values()}
    findings = [f for rule in _rules() for f in rule.evaluate(kube) if not _satisfied(f, rolled_out)]
    changeset = ChangeSet(
        source=source,
        fingerprint=_fingerprint(kube, targets),
        format_version=KUBE_FORMAT,
        changes=_resource_changes(kube.changes),
        sensitive_literals=kube.sensitive_literals,
    )
    reviewed = settle(store, CheckReport(changeset, Verdict.of(findings)), settings, actor, now, applying=True)
    grant = reviewed.gate.settlement.break_glass
    if grant is not None:
        use_break_glass(store, grant, actor, now)
    return Gated(reviewed)


def _rules() -> Sequence[KubeRule]:
    return (DeprecatedApiRule(), NodeReachRule(), ControlPlaneCostRule())


def _satisfied(finding: Finding, rolled_out: set[str]) -> bool:
    """The reach rule asking for the fleet canary, about the DaemonSet this rollout takes batch by batch."""
    return finding.rule == NODE_REACH and finding.enforcement is Enforcement.SOFT and finding.address in rolled_out


def _fingerprint(kube: KubeChangeSet, targets: Mapping[str, ClusterTarget]) -> str:
    """The clusters (names, versions), each object's change on each, and every rendered object in full:
    another cluster, version, action or object is another rollout to approve."""
    clusters = sorted([view.name, view.version] for view in kube.clusters)
    actions = sorted([c.cluster, c.ref.address, c.action.value, c.api_version] for c in kube.changes)
    objects = sorted([name, canonical_json(list(t.manifests))] for name, t in targets.items())
    return fingerprint(
        (section, canonical_json(data).encode())
        for section, data in (("kube-clusters", clusters), ("kube-changes", actions), ("kube-objects", objects))
    )


def _resource_changes(changes: Sequence[KubeChange]) -> tuple[ResourceChange, ...]:
    """One ResourceChange per object, its weightiest action over the clusters (deletions first): the
    findings, locks and approvals name objects by their address, the same on every cluster."""
    by_address: dict[str, KubeChange] = {}
    for change in changes:
        held = by_address.get(change.ref.address)
        if held is None or ACTION_ORDER.index(change.action) < ACTION_ORDER.index(held.action):
            by_address[change.ref.address] = change
    return tuple(
        ResourceChange(
            address=address,
            type=change.ref.type,
            name=change.ref.name,
            action=change.action,
            actions=(change.action.value,),
            provider_name="kubernetes",
            before=change.before,
            after=change.after,
            after_unknown={},
        )
        for address, change in by_address.items()
    )
