"""A node cycle before it starts, as the gate sees any change: a ChangeSet in which every Node of the pool
is replaced, and a fingerprint of exactly this plan.

Locks and approvals then work as for every other plan (services.review.settle): a lock on `--kind Node
--label agentpool=gpu`, on `--cluster prod-*` or on `node/aks-gpu-*` refuses the cycle; with
`nodes.approve_before_cycle` it waits for `guardrail approve FINGERPRINT` by someone else; a pre-flight
finding the cycle would halt on needs approval too. Any change to the pool (a node added or gone, another
stratum, other budgets, another replace command) is another fingerprint, which voids earlier approvals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from guardrail.core.audit import canonical_json
from guardrail.core.change import Action, ChangeSet, ReplaceOrder, ResourceChange
from guardrail.core.fingerprint import fingerprint
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.objects import ClusterObject, ObjectRef
from guardrail.core.nodes.preflight import PreflightFinding
from guardrail.core.nodes.state import CycleState
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

NODE_CYCLE_APPROVAL = register_rule(
    "node-cycle-approval", "A node-pool cycle that people approve before it starts (nodes.approve_before_cycle)."
)
NODE_PREFLIGHT = register_rule(
    "node-preflight", "A pre-flight finding of a node-pool cycle; one the cycle would halt on needs approval."
)
# The ChangeSet's format, where a Terraform plan has its format_version.
NODE_CYCLE_FORMAT = "node-cycle"


def cycle_fingerprint(cluster: str, state: CycleState, replacement: str) -> str:
    """What approvals of a cycle are bound to: the cluster and pool, every stratum with its nodes in order,
    GPUs and budgets, the capacity floor in GPUs, the settings the engine decides with, and how machines
    are replaced (`replacement`: the command template, or the deletion of the Node)."""
    sections: list[tuple[str, Any]] = [
        ("node-cycle-target", [cluster, state.pool]),
        ("node-cycle-strata", [plan.to_json() for plan in state.strata]),
        ("node-cycle-capacity", [state.total_gpus, state.minimum_gpus]),
        ("node-cycle-settings", state.settings.to_json()),
        ("node-cycle-replace", replacement),
    ]
    return fingerprint((name, canonical_json(value).encode()) for name, value in sections)


def cycle_changeset(cluster: str, state: CycleState, nodes: Iterable[NodeInfo], replacement: str) -> ChangeSet:
    """The cycle as a ChangeSet: a replace of every planned Node (labels before and after, for locks)."""
    planned = {name for plan in state.strata for name in plan.nodes}
    changes = tuple(_replaced(cluster, node) for node in sorted(nodes, key=lambda n: n.name) if node.name in planned)
    return ChangeSet(
        source=f"node cycle of {state.pool} on {cluster}",
        fingerprint=cycle_fingerprint(cluster, state, replacement),
        format_version=NODE_CYCLE_FORMAT,
        changes=changes,
    )


def cycle_findings(findings: Sequence[PreflightFinding], *, approval_required: bool) -> list[Finding]:
    """The gate's findings: approval when the settings ask for it, and every pre-flight finding (soft when
    the cycle would halt on it, advisory otherwise)."""
    gate: list[Finding] = []
    if approval_required:
        message = "nodes.approve_before_cycle: a node-pool cycle is approved by someone else before it starts"
        gate.append(Finding(NODE_CYCLE_APPROVAL, Enforcement.SOFT, None, message))
    for finding in findings:
        level = Enforcement.SOFT if finding.blocking else Enforcement.ADVISORY
        gate.append(Finding(NODE_PREFLIGHT, level, None, f"{finding.stratum}: {finding.check}: {finding.message}"))
    return gate


def _replaced(cluster: str, node: NodeInfo) -> ResourceChange:
    ref = ObjectRef("", "Node", None, node.name)
    manifest = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name, "labels": dict(node.labels)}}
    return ResourceChange(
        address=ref.address,
        type=ref.type,
        name=node.name,
        action=Action.REPLACE,
        actions=("delete", "create"),
        provider_name="kubernetes",
        replace_order=ReplaceOrder.DELETE_BEFORE_CREATE,  # the node is out of service before it is back
        before=manifest,
        after=manifest,
        after_unknown={},
        before_sensitive={},
        after_sensitive={},
        cluster_object=ClusterObject(cluster, ref),
    )
