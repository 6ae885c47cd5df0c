"""The impact of each destructive change: what depends on it, transitively, and by which shortest path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.blast.address import parse_instance
from guardrail.core.blast.graph import DependencyGraph, UnresolvedReference, build_graph
from guardrail.core.change import Action, ChangeSet, ReplaceOrder, ResourceChange, masked
from guardrail.core.matching import Match, Selector


@dataclass(frozen=True, slots=True)
class ImpactedResource:
    """A resource that depends, directly or not, on a destructive change."""

    address: str
    path: tuple[str, ...]  # shortest chain of dependencies, from the destructive change to this resource
    action: Action  # what this plan does to it (NO_OP when it is only in the prior state)
    critical: bool

    @property
    def changes(self) -> bool:
        """Whether the plan changes this resource itself."""
        return self.action not in (Action.NO_OP, Action.READ)

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass(frozen=True)
class Impact:
    """One destructive change (delete, replace or forget) and everything that depends on it."""

    address: str
    action: Action
    replace_order: ReplaceOrder | None
    critical: bool  # the changed resource itself matches a `critical:` selector
    impacted: tuple[ImpactedResource, ...]  # managed resources only, sorted by address
    deposed: str | None = None
    # Kubernetes: the target cluster; what the change does to what it reaches ("deletes everything in the
    # namespace"); how many pods restart or go (a DaemonSet: one per node it reaches); and what could not be
    # known (live objects, offline), which a reviewer must not read as "nothing".
    cluster: str | None = None
    effect: str | None = None
    pods: int | None = None
    unknown: str | None = None

    @property
    def downtime(self) -> bool:
        """A delete-then-create replace of something others depend on: they lose it until it is re-created."""
        return (
            self.action is Action.REPLACE
            and self.replace_order is ReplaceOrder.DELETE_BEFORE_CREATE
            and bool(self.impacted)
        )

    @property
    def lower_risk_replace(self) -> bool:
        """A create-before-destroy replace: dependents are moved to the new object before the old one goes."""
        return self.action is Action.REPLACE and self.replace_order is ReplaceOrder.CREATE_BEFORE_DESTROY

    @property
    def critical_impacted(self) -> tuple[ImpactedResource, ...]:
        return tuple(r for r in self.impacted if r.critical)

    @property
    def involves_critical(self) -> bool:
        return self.critical or any(r.critical for r in self.impacted)

    def as_record(self) -> dict[str, Any]:
        """The JSON shape: `{address, action, impacted: [address, ...], downtime}`."""
        return {
            "address": self.address,
            "action": self.action.value,
            "impacted": [r.address for r in self.impacted],
            "downtime": self.downtime,
        }


@dataclass(frozen=True)
class BlastRadius:
    """Every destructive change's impact, the ones involving critical resources first, then the widest."""

    impacts: tuple[Impact, ...]
    # Kubernetes impacts come from object references, not from a dependency graph: theirs is empty.
    graph: DependencyGraph = field(default_factory=lambda: DependencyGraph((), {}, ()), repr=False)

    @property
    def unresolved(self) -> tuple[UnresolvedReference, ...]:
        return self.graph.unresolved

    def as_records(self) -> list[dict[str, Any]]:
        """The json output's `blast_radius` list, one record per destructive change, in address order."""
        return [impact.as_record() for impact in sorted(self.impacts, key=lambda i: (i.address, i.deposed or ""))]


def analyse(
    changeset: ChangeSet, critical: Sequence[Selector] = (), graph: DependencyGraph | None = None
) -> BlastRadius:
    """Build the dependency graph (unless given) and compute the impact of every destructive change.

    A resource is critical when any selector matches it, or might match it (tags nobody can read yet):
    doubt raises the stakes rather than lowering them. Data sources are traversed but not listed as impacted.
    """
    if graph is None:
        graph = build_graph(changeset.configuration, changeset.prior_state, changeset.changes)
    known = known_resources(changeset)
    is_critical = _CriticalCache(critical, known)
    impacts = []
    for change in changeset.changes:
        if not change.is_destructive:
            continue
        reached = () if change.deposed else reach(graph, change.address)
        impacted = tuple(
            ImpactedResource(
                address=path[-1],
                path=path,
                action=_action_of(known.get(path[-1])),
                critical=is_critical(path[-1]),
            )
            for path in reached
            if _is_managed(path[-1], known)
        )
        impacts.append(
            Impact(
                address=change.address,
                action=change.action,
                replace_order=change.replace_order,
                critical=is_critical(change.address),
                impacted=tuple(sorted(impacted, key=lambda r: r.address)),
                deposed=change.deposed,
            )
        )
    impacts.sort(key=lambda i: (not i.involves_critical, -len(i.impacted), i.address, i.deposed or ""))
    return BlastRadius(tuple(impacts), graph)


def reach(graph: DependencyGraph, address: str) -> list[tuple[str, ...]]:
    """Breadth-first from `address` along dependents: a shortest path to every instance it reaches.

    Paths follow the configuration's edges where they can, and the prior state's recorded (transitive)
    dependencies only to reach what the configuration no longer links, so a path shows the chain rather than
    a shortcut. Paths start at `address` and end at the reached instance; `address` itself is not included.
    """
    start = graph.ids.get(address)
    if start is None:
        return []
    parent: dict[int, int] = {start: start}
    order: list[int] = []
    _breadth_first(graph.dependents, [start], parent, order)
    if graph.recorded:
        _breadth_first(graph.all_dependents, [start, *order], parent, order)
    names = graph.addresses
    paths: dict[int, tuple[str, ...]] = {start: (names[start],)}
    for node in order:  # breadth-first order: a parent's path is always built before its children's
        paths[node] = (*paths[parent[node]], names[node])
    return [paths[node] for node in order]


def _breadth_first(
    adjacency: Sequence[Sequence[int]], frontier: list[int], parent: dict[int, int], order: list[int]
) -> None:
    while frontier:
        following: list[int] = []
        for node in frontier:
            for nxt in adjacency[node]:
                if nxt not in parent:
                    parent[nxt] = node
                    following.append(nxt)
        order.extend(following)
        frontier = following


def known_resources(changeset: ChangeSet) -> dict[str, ResourceChange]:
    """Every resource by address: the plan's changes, then prior-state-only ones as no-op records."""
    known = {c.address: c for c in changeset.changes if c.deposed is None}
    for c in changeset.changes:
        known.setdefault(c.address, c)
    values = changeset.prior_state.get("values") if isinstance(changeset.prior_state, Mapping) else None
    pending = [values.get("root_module")] if isinstance(values, Mapping) else []
    while pending:
        module = pending.pop()
        if not isinstance(module, Mapping):
            continue
        for body in module.get("resources") or ():
            address = body.get("address") if isinstance(body, Mapping) else None
            if isinstance(address, str) and address not in known:
                known[address] = _state_record(address, body)
        children = module.get("child_modules")
        if isinstance(children, list):
            pending.extend(children)
    return known


def _state_record(address: str, body: Mapping[str, Any]) -> ResourceChange:
    # Prior state values are not redacted at intake: mask them here before anything can show them, and
    # keep them concealed for the selectors of `critical:` (a sensitive tag still makes a resource critical).
    values, sensitive = body.get("values"), body.get("sensitive_values")
    before, after, concealed = masked(values, sensitive, values, sensitive)
    return ResourceChange(
        address=address,
        type=_text(body.get("type")),
        name=_text(body.get("name")),
        action=Action.NO_OP,
        actions=("no-op",),
        mode=_text(body.get("mode")) or "managed",
        before=before,
        after=after,
        after_unknown={},
        before_sensitive=sensitive,
        after_sensitive=sensitive,
        concealed=concealed,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _action_of(change: ResourceChange | None) -> Action:
    return change.action if change is not None else Action.NO_OP


def _is_managed(address: str, known: Mapping[str, ResourceChange]) -> bool:
    change = known.get(address)
    if change is not None:
        return change.mode == "managed"
    parsed = parse_instance(address)
    return parsed is None or not parsed.is_data


class _CriticalCache:
    def __init__(self, selectors: Sequence[Selector], known: Mapping[str, ResourceChange]) -> None:
        self._selectors = tuple(selectors)
        self._known = known
        self._seen: dict[str, bool] = {}

    def __call__(self, address: str) -> bool:
        if not self._selectors:
            return False
        found = self._seen.get(address)
        if found is None:
            change = self._known.get(address)
            found = change is not None and any(s.match(change) is not Match.NO for s in self._selectors)
            self._seen[address] = found
        return found
