"""The changes a rollout makes to a cluster, through the cluster port: prepare (containment, every
reached node held, the objects installed, the rollback's dry-run), widen (release a batch of held nodes,
and in an update replace their pods) and roll back.

Holding costs two label patches per node over the whole rollout (hold, then release), one request each,
made by guardrail's own identity, which containment has put at the exempt level: about 10,000 requests
for a 5,000-node cluster, spread over hours of steps but for the hold, which precedes the first step.
In exchange nothing is left on the nodes after 100%, and a node that joins later gets its pod.

Every change is idempotent, so a resumed run finishes an interrupted one without doing anything twice:
holding labels only nodes not held yet, widening releases only as many nodes as the step still lacks,
rolling back deletes only what is still there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.cluster import Cluster, NodeInfo
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.scheduling import Placement
from guardrail.core.rollout.manifests import (
    is_daemonset,
    node_label,
    restorable,
    with_hold_affinity,
    with_on_delete,
)
from guardrail.core.rollout.plan import Step
from guardrail.core.rollout.policy import HOLD, RolloutPolicy
from guardrail.core.rollout.state import Mode
from guardrail.services.rollout_contain import FIELD_MANAGER, contain


@dataclass(frozen=True)
class ClusterTarget:
    """What a rollout puts on one cluster: its rendered manifests, one of them the DaemonSet."""

    cluster: Cluster
    manifests: tuple[Mapping[str, Any], ...]
    daemonset: Mapping[str, Any]
    label: str  # `hold` on a node keeps the new pods off it (see guardrail.core.rollout.policy)

    @classmethod
    def of(cls, cluster: Cluster, manifests: Sequence[Mapping[str, Any]], policy: RolloutPolicy) -> ClusterTarget:
        daemonsets = [m for m in manifests if is_daemonset(m)]
        if len(daemonsets) != 1:
            raise BadInputError(f"cluster {cluster.name}: the manifests hold {len(daemonsets)} DaemonSets, not one")
        return cls(cluster, tuple(manifests), daemonsets[0], node_label(policy.rollout_label, daemonsets[0]))

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef.of(self.daemonset)

    @property
    def api_version(self) -> str:
        return str(self.daemonset["apiVersion"])

    def reach(self, nodes: Sequence[NodeInfo]) -> list[NodeInfo]:
        """The nodes the DaemonSet as written would run on."""
        pod_spec = self.daemonset.get("spec", {}).get("template", {}).get("spec", {})
        return Placement.of_template(pod_spec, daemonset=True).reach(nodes)

    def held(self, node: NodeInfo) -> bool:
        """Whether guardrail still holds the new pods off `node`."""
        return node.labels.get(self.label) == HOLD


def capture(target: ClusterTarget) -> dict[str, Any]:
    """Each object's state before the rollout, by address: its restorable manifest, or None when the
    rollout creates it. Kept in the run's state before anything changes: the rollback restores it."""
    before: dict[str, Any] = {}
    for manifest in target.manifests:
        ref = ObjectRef.of(manifest)
        live = target.cluster.get(ref, str(manifest["apiVersion"]))
        before[ref.address] = restorable(live) if live is not None else None
    return before


def prepare(target: ClusterTarget, mode: Mode, policy: RolloutPolicy, before: Mapping[str, Any]) -> str:
    """Containment (verified on the live APF objects), every reached node held, the objects (the DaemonSet
    with no reach yet), then the rollback's dry-run; returns what was verified. Raises ClusterError when
    the cluster refuses any of it or the rollback path is not protected (the rollout must not start there)."""
    cluster = target.cluster
    verified = contain(cluster, target.daemonset, target.manifests, before, shares=policy.workload_concurrency_shares)
    for node in target.reach(cluster.nodes()):
        if not target.held(node):
            cluster.label_node(node.name, {target.label: HOLD})
    for manifest in target.manifests:
        cluster.apply(_forward(target, manifest, mode), field_manager=FIELD_MANAGER)
    _rollback(target, before, dry_run=True)
    return f"{verified}; rollback dry-run accepted for {len(target.manifests)} objects"


def widen(target: ClusterTarget, step: Step, mode: Mode) -> int:
    """Release held nodes (Ready ones first, then by name) until `step.nodes` reached nodes run the new
    pods; in UPDATE mode also delete the old pods on released nodes, so OnDelete replaces them. Returns the
    nodes released now."""
    cluster = target.cluster
    reach = target.reach(cluster.nodes())
    held = [n for n in reach if target.held(n)]
    running = len(reach) - len(held)
    batch = sorted(held, key=lambda n: (not n.ready, n.name))[: max(step.nodes - running, 0)]
    for node in batch:
        cluster.label_node(node.name, {target.label: None})
    if mode is Mode.UPDATE:
        released = {n.name for n in reach if not target.held(n)} | {n.name for n in batch}
        _replace_pods(target, released)
    return len(batch)


def roll_back(target: ClusterTarget, before: Mapping[str, Any]) -> None:
    """Put every object back as it was (delete what guardrail created), then take the labels off."""
    _rollback(target, before, dry_run=False)
    cluster = target.cluster
    for node in cluster.nodes(label_selector=target.label):
        cluster.label_node(node.name, {target.label: None})


def _forward(target: ClusterTarget, manifest: Mapping[str, Any], mode: Mode) -> Mapping[str, Any]:
    if manifest is not target.daemonset:
        return manifest
    if mode is Mode.NEW:
        return with_hold_affinity(manifest, target.label)
    return with_on_delete(manifest)


def _rollback(target: ClusterTarget, before: Mapping[str, Any], *, dry_run: bool) -> None:
    # The DaemonSet first: its pods are what loads the API server.
    ordered = sorted(target.manifests, key=lambda m: m is not target.daemonset)
    cluster = target.cluster
    for manifest in ordered:
        ref = ObjectRef.of(manifest)
        previous = before.get(ref.address)
        if previous is None:
            gone = not cluster.delete(ref, str(manifest["apiVersion"]), dry_run=dry_run)
            if gone and dry_run:
                raise ClusterError(cluster.name, f"rollback dry-run: {ref.address} is not there to delete")
        else:
            cluster.apply(previous, field_manager=FIELD_MANAGER, dry_run=dry_run, force=True)


def _replace_pods(target: ClusterTarget, nodes: set[str]) -> None:
    cluster = target.cluster
    live = cluster.get(target.ref, target.api_version) or {}
    generation = str(live.get("metadata", {}).get("generation", ""))
    for pod in cluster.pods(namespace=target.ref.namespace, label_selector=pod_selector(target.daemonset)):
        if pod.node in nodes and pod.labels.get("pod-template-generation") != generation:
            cluster.delete_pod(pod.namespace, pod.name)


def _match_labels(daemonset: Mapping[str, Any]) -> dict[str, str]:
    labels = daemonset.get("spec", {}).get("selector", {}).get("matchLabels", {})
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def pod_selector(daemonset: Mapping[str, Any]) -> str | None:
    """The label selector of the DaemonSet's pods (its matchLabels), or None."""
    return ",".join(f"{k}={v}" for k, v in _match_labels(daemonset).items()) or None
