"""`guardrail nodes plan`: a real pool's cycle as it would run now, and nothing changed.

The same plan as `nodes cycle` makes (strata in order, canaries, budgets, the capacity floor), the batches
the engine's admission would make from the headroom, the pre-flight (with what earlier cycles left in the
audit log when there is a store to read), the locks that would refuse the cycle, and the fingerprint
approvals are bound to. Reading only: the cluster is listed, the store (when it exists) is read, neither
is written to.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime

from guardrail.config import Settings
from guardrail.core.change import ChangeSet
from guardrail.core.clock import Clock, SystemClock
from guardrail.core.kube.cluster import Cluster
from guardrail.core.nodes.batches import BatchPlan, plan_batches
from guardrail.core.nodes.gate import cycle_changeset, cycle_findings
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.policy import evaluate
from guardrail.core.runs import StoreWithRuns
from guardrail.core.store_ports import LockStore
from guardrail.core.verdict import Decision, Finding, Verdict
from guardrail.services import wiring
from guardrail.services.locks import locks_rule
from guardrail.services.nodes_act import Hands
from guardrail.services.nodes_cycle import CyclePlan, plan_on
from guardrail.services.store import store_present

DELETE_NODE = "delete-node"


@dataclass(frozen=True)
class PoolTarget:
    """Which pool of which cluster, and how its machines are replaced, as the command line says."""

    pool: str
    context: str | None = None
    kubeconfig: str | None = None
    replace_command: str | None = None

    @property
    def replacement(self) -> str:
        """How machines are replaced, as the fingerprint covers it: `command: TEMPLATE` or `delete-node`."""
        return DELETE_NODE if self.replace_command is None else f"command: {self.replace_command}"


@dataclass(frozen=True)
class PoolPlan:
    """A planned cycle and everything a person checks before it starts."""

    cluster: str
    cycle: CyclePlan
    batches: BatchPlan
    changeset: ChangeSet  # every planned Node replaced; its fingerprint is what approvals are bound to
    replacement: str
    replace_preview: tuple[tuple[str, str], ...]  # (canary, what replacing it does)
    findings: tuple[Finding, ...]  # approval asked by the settings, and the pre-flight's
    lock_findings: tuple[Finding, ...] = ()  # locks that would refuse it (read from the store)
    store: str | None = None  # the store the history and the locks were read from; None: none was there

    @property
    def fingerprint(self) -> str:
        return self.changeset.fingerprint

    @property
    def verdict(self) -> Verdict:
        """What the gate of `nodes cycle` would say now, before any approval is counted."""
        return Verdict.of([*self.findings, *self.lock_findings])

    @property
    def exit_code(self) -> int:
        """1 when a lock would refuse the cycle; 2 when there is anything a person should see first (a
        pre-flight finding, an approval to give); 0 when the pre-flight is clean."""
        if self.verdict.decision is Decision.DENY:
            return 1
        return 2 if self.verdict.findings else 0


def plan_pool(target: PoolTarget, settings: Settings, store_url: str | None, *, clock: Clock | None = None) -> PoolPlan:
    """Plan the cycle of `target` on its cluster; nothing changes. Raises BadInputError (a pool matching no
    node, a bad selector, a kubeconfig or context that is missing, a replace command that does not parse or
    render for a node of the pool), ClusterUnreachableError, ClusterError, StoreError."""
    cluster = wiring.cluster(target.context, target.kubeconfig)
    with ExitStack() as stack:
        store = wiring.run_store(settings, store_url) if store_present(store_url, settings) else None
        if store is not None:
            stack.callback(store.close)
        return review_pool(target, settings, cluster, clock or SystemClock(), store)


def review_pool(
    target: PoolTarget, settings: Settings, cluster: Cluster, clock: Clock, store: StoreWithRuns | None
) -> PoolPlan:
    """The plan of `target` on `cluster`, with the history and the locks read from `store` when there is
    one. Shared by `nodes plan` and `nodes cycle`, so that both show the same plan and fingerprint."""
    cycle_settings = settings.nodes.to_cycle_settings()
    replacer = replacer_for(cluster, target, settings)
    plan = plan_on(Hands(cluster, replacer, clock), PoolSelector.parse(target.pool), cycle_settings, store)
    batches = plan_batches(plan.state, plan.nodes)
    # Every node's replacement is rendered now: a template that fails for one node fails before the cycle.
    by_name = {node.name: node for node in plan.nodes}
    described = {name: replacer.describe(node) for name, node in by_name.items()}
    canaries = [stratum.nodes[0] for stratum in plan.state.strata]
    changeset = cycle_changeset(cluster.name, plan.state, plan.nodes, target.replacement)
    findings = cycle_findings(plan.preflight, approval_required=settings.nodes.approve_before_cycle)
    lock_findings = _lock_findings(store, changeset, clock.now()) if store is not None else ()
    return PoolPlan(
        cluster=cluster.name,
        cycle=plan,
        batches=batches,
        changeset=changeset,
        replacement=target.replacement,
        replace_preview=tuple((name, described[name]) for name in canaries),
        findings=tuple(findings),
        lock_findings=lock_findings,
        store=store.description if store is not None else None,
    )


def replacer_for(cluster: Cluster, target: PoolTarget, settings: Settings) -> NodeReplacer:
    """The replacer of `target`, a command bounded by the longest replace budget of any stratum. Raises
    BadInputError."""
    timeout = settings.nodes.to_cycle_settings().longest_replace()
    return wiring.node_replacer(cluster, target.replace_command, timeout=timeout)


def _lock_findings(locks: LockStore, changeset: ChangeSet, now: datetime) -> tuple[Finding, ...]:
    return tuple(evaluate(changeset, [locks_rule(locks, now)]))
