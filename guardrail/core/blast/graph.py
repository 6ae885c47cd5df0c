"""The dependency graph of a plan's resource instances.

Edges come from the plan's `configuration` (every expression's `references`, `count`/`for_each`,
provisioners and `depends_on`, followed through module inputs and outputs) and from `prior_state`
(`depends_on` recorded at the last apply: the only edges left for a resource whose block was removed, and the
only trace of references made through `local` values, which the configuration section does not describe).

Edge direction: B depends on A when B's expressions reference A or B `depends_on` A, and the graph stores
"A -> B" so that the impact of changing A flows to B.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from guardrail.core.blast.address import config_address, module_prefix, parse_instance
from guardrail.core.blast.references import ModuleSummary, Rel, summarise
from guardrail.core.change import ResourceChange

Module = tuple[str, ...]  # a module path by call names, root = ()
Target = tuple[str, int]  # (resource block address, level: how many outer module instances both ends share)


@dataclass(frozen=True, slots=True)
class UnresolvedReference:
    """A reference the configuration section alone cannot follow; `where` is the block that holds it."""

    where: str
    reference: str
    reason: str


@dataclass(frozen=True)
class DependencyGraph:
    """Resource instances (by plan address) and, for each, the instances that depend on it.

    Instances are numbered in address order; `dependents[i]` lists the ids that depend on `addresses[i]`
    according to the configuration, `recorded[i]` those known only from the prior state's `depends_on`.
    Terraform records dependencies there transitively, so those edges are shortcuts: paths prefer the others.
    """

    addresses: tuple[str, ...]
    ids: Mapping[str, int]
    dependents: tuple[tuple[int, ...], ...]
    recorded: tuple[tuple[int, ...], ...] = ()
    # (module prefix, references relative to that module): materialised only when someone asks.
    unresolved_by_module: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = ()

    @cached_property
    def all_dependents(self) -> tuple[tuple[int, ...], ...]:
        """Configuration and recorded edges together."""
        if not self.recorded:
            return self.dependents
        return tuple((*a, *b) if b else a for a, b in zip(self.dependents, self.recorded, strict=True))

    @property
    def edge_count(self) -> int:
        return sum(len(targets) for targets in self.dependents) + sum(len(targets) for targets in self.recorded)

    @property
    def unresolved(self) -> tuple[UnresolvedReference, ...]:
        """References that could not be followed, e.g. through `local` values (see the module docstring)."""
        return tuple(
            UnresolvedReference(prefix + where, ref, reason)
            for prefix, items in self.unresolved_by_module
            for where, ref, reason in items
        )

    @property
    def unresolved_count(self) -> int:
        return sum(len(items) for _, items in self.unresolved_by_module)

    def dependents_of(self, address: str) -> tuple[str, ...]:
        """The instances that depend directly on `address` (empty when it is not in the graph)."""
        node = self.ids.get(address)
        if node is None:
            return ()
        both = sorted({*self.dependents[node], *(self.recorded[node] if self.recorded else ())})
        return tuple(self.addresses[i] for i in both)


def build_graph(
    configuration: Mapping[str, Any] | None,
    prior_state: Mapping[str, Any] | None,
    changes: Iterable[ResourceChange] = (),
) -> DependencyGraph:
    """Build the instance dependency graph of a plan.

    Nodes are the addresses in `changes` and in `prior_state`. A dependency between two resource blocks is
    expanded to their instances present in the plan: every instance of the dependent block depends on every
    instance of the other that lives in the same instance of the innermost module the reference passed
    through (inside `module.a[0]` a reference cannot reach `module.a[1]`). Within that limit the expansion
    over-approximates (`aws_x.y[0]` is taken to mean every `aws_x.y` instance, since Terraform lists both forms),
    which is the safe direction for an impact estimate. Malformed or unresolvable references never raise: they
    are recorded in `unresolved`.
    """
    state = list(_state_resources(_root(prior_state, "values")))
    addresses = sorted({c.address for c in changes} | {address for address, _ in state})
    ids = {address: i for i, address in enumerate(addresses)}
    nodes = _Nodes(addresses)
    resolver = _Resolver(configuration)
    dependents: list[set[int]] = [set() for _ in addresses]
    for block, targets in resolver.block_dependencies():
        dsts = nodes.instances.get(block)
        if dsts:
            for src_block, level in targets:
                _link(nodes, src_block, level, dsts, dependents)
    recorded: list[set[int]] = [set() for _ in addresses]
    for address, body in state:
        listed = body.get("depends_on")
        dst = [ids[address]]
        for dependency in listed if isinstance(listed, list) else ():
            if isinstance(dependency, str):
                src_block = config_address(dependency)
                _link(nodes, src_block, _shared_depth(nodes.names[dst[0]], src_block), dst, recorded)
    return DependencyGraph(
        addresses=tuple(addresses),
        ids=ids,
        dependents=_frozen(dependents),
        recorded=_frozen([extra - known for extra, known in zip(recorded, dependents, strict=True)]),
        unresolved_by_module=tuple(resolver.unresolved),
    )


def _frozen(adjacency: list[set[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(sorted(targets)) if len(targets) > 1 else tuple(targets) for targets in adjacency)


def _link(nodes: _Nodes, src_block: str, level: int, dsts: list[int], dependents: list[set[int]]) -> None:
    """Make every instance in `dsts` depend on the instances of `src_block` it can reach at `level`."""
    srcs = nodes.instances.get(src_block)
    if not srcs:
        return
    if level == 0:
        for src in srcs:
            dependents[src].update(dst for dst in dsts if dst != src)
        return
    prefixes = nodes.prefixes
    if len(srcs) == 1:  # the usual case, without building groups
        src = srcs[0]
        want = prefixes[src][level] if level < len(prefixes[src]) else -1
        for dst in dsts:
            if dst != src and (prefixes[dst][level] if level < len(prefixes[dst]) else -1) == want:
                dependents[src].add(dst)
        return
    groups = nodes.groups(src_block, level)
    for dst in dsts:
        for src in groups.get(prefixes[dst][level] if level < len(prefixes[dst]) else -1, ()):
            if src != dst:
                dependents[src].add(dst)


class _Nodes:
    """Per instance: its block, its module path, and an id per prefix of its module instance path."""

    def __init__(self, addresses: list[str]) -> None:
        self.instances: dict[str, list[int]] = {}
        self.names: list[tuple[str, ...]] = []
        self.prefixes: list[list[int]] = []  # prefixes[node][level]: equal ids <=> same outer module instances
        interned: dict[tuple[str, ...], list[int]] = {}
        prefix_ids: dict[tuple[str, ...], int] = {}
        for node, address in enumerate(addresses):
            block, modules, names = _split(address)
            self.instances.setdefault(block, []).append(node)
            self.names.append(names)
            known = interned.get(modules)
            if known is None:
                known = [prefix_ids.setdefault(modules[:level], len(prefix_ids)) for level in range(len(modules) + 1)]
                interned[modules] = known
            self.prefixes.append(known)
        self._groups: dict[Target, dict[int, list[int]]] = {}

    def groups(self, block: str, level: int) -> dict[int, list[int]]:
        """The instances of `block` grouped by the id of their module instance path cut at `level`."""
        found = self._groups.get((block, level))
        if found is None:
            found = {}
            for node in self.instances.get(block, ()):
                prefixes = self.prefixes[node]
                found.setdefault(prefixes[level] if level < len(prefixes) else -1, []).append(node)
            self._groups[(block, level)] = found
        return found


def _split(address: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(block address, module instances, module names) of an instance address."""
    parsed = parse_instance(address)
    if parsed is None:
        return address, (), ()
    return parsed.config, parsed.modules, parsed.module_names


def _shared_depth(names: tuple[str, ...], src_block: str) -> int:
    # State records blocks, not instances: assume the dependency stays inside the module instances both share.
    _, _, theirs = _split(src_block)
    depth = 0
    for mine, other in zip(names, theirs, strict=False):
        if mine != other:
            break
        depth += 1
    return depth


def _root(section: Mapping[str, Any] | None, key: str) -> Any:
    values = section.get(key) if isinstance(section, Mapping) else None
    return values.get("root_module") if isinstance(values, Mapping) else None


def _state_resources(module: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(address, body) of every resource in a state/values module tree, children included."""
    pending = [module]
    while pending:
        current = pending.pop()
        if not isinstance(current, Mapping):
            continue
        for body in current.get("resources") or ():
            if isinstance(body, Mapping) and isinstance(body.get("address"), str):
                yield body["address"], body
        children = current.get("child_modules")
        if isinstance(children, list):
            pending.extend(children)


class _Resolver:
    """Turns the relative module summaries into absolute block dependencies, memoised per module path."""

    def __init__(self, configuration: Mapping[str, Any] | None) -> None:
        self.unresolved: list[tuple[str, tuple[tuple[str, str, str], ...]]] = []
        self._summaries: dict[Module, ModuleSummary] = {}
        self._blocks: dict[Module, list[str]] = {}
        self._vars: dict[tuple[Module, str], frozenset[Target]] = {}
        self._outputs: dict[tuple[Module, str], frozenset[Target]] = {}
        self._inherited: dict[Module, frozenset[Target]] = {}
        self._contents: dict[Module, frozenset[str]] = {}
        shared = _SharedSummaries()
        root = configuration.get("root_module") if isinstance(configuration, Mapping) else None
        pending: list[tuple[Module, Any, str]] = [((), root, "")]
        while pending:
            path, body, source = pending.pop()
            summary = shared.get(body, source)
            self._summaries[path] = summary
            prefix = module_prefix(path)
            self._blocks[path] = [prefix + address for address, _ in summary.resources]
            if summary.unresolved:
                self.unresolved.append((prefix, tuple(summary.unresolved)))
            for name, call in summary.calls.items():
                pending.append(((*path, name), call.body, _source_of(body, name)))

    def block_dependencies(self) -> Iterator[tuple[str, frozenset[Target]]]:
        """Every resource block and the blocks it depends on, each with the level the dependency holds at."""
        for path, summary in self._summaries.items():
            inherited = self._inherited_by(path)
            for block, (_, rels) in zip(self._blocks[path], summary.resources, strict=True):
                targets = set(inherited)
                for rel in rels:
                    targets.update(self._absolute(path, rel))
                yield block, frozenset(targets)

    def _absolute(self, path: Module, rel: Rel) -> Iterable[Target]:
        depth = len(path)
        kind = rel[0]
        if kind == "r":
            return ((module_prefix(path) + rel[1], depth),)
        if kind == "v":
            found = self._variable(path, rel[1])
        elif kind == "o":
            found = self._output((*path, rel[1]), rel[2])
        elif kind == "O":
            child = (*path, rel[1])
            found = frozenset(t for name in self._summaries[child].outputs for t in self._output(child, name))
        else:
            return ((block, depth) for block in self._module_contents((*path, rel[1])))
        return ((block, min(level, depth)) for block, level in found)

    def _resolve_all(self, path: Module, rels: Iterable[Rel]) -> frozenset[Target]:
        return frozenset(t for rel in rels for t in self._absolute(path, rel))

    def _variable(self, path: Module, name: str) -> frozenset[Target]:
        """What input variable `name` of the module at `path` is set from, resolved in its caller."""
        key = (path, name)
        if key not in self._vars:
            self._vars[key] = frozenset()  # a cycle resolves to nothing rather than recursing forever
            if path:
                call = self._summaries[path[:-1]].calls[path[-1]]
                self._vars[key] = self._resolve_all(path[:-1], call.inputs.get(name, ()))
        return self._vars[key]

    def _output(self, path: Module, name: str) -> frozenset[Target]:
        key = (path, name)
        if key not in self._outputs:
            self._outputs[key] = frozenset()
            self._outputs[key] = self._resolve_all(path, self._summaries[path].outputs.get(name, ()))
        return self._outputs[key]

    def _module_contents(self, path: Module) -> frozenset[str]:
        """Every resource block in the module at `path` and its descendants (what `depends_on = [module.x]` means)."""
        if path not in self._contents:
            blocks = set(self._blocks[path])
            for name in self._summaries[path].calls:
                blocks |= self._module_contents((*path, name))
            self._contents[path] = frozenset(blocks)
        return self._contents[path]

    def _inherited_by(self, path: Module) -> frozenset[Target]:
        """Dependencies every resource in a module has through its call: `depends_on`, `count`, `for_each`."""
        if not path:
            return frozenset()
        if path not in self._inherited:
            call = self._summaries[path[:-1]].calls[path[-1]]
            self._inherited[path] = self._inherited_by(path[:-1]) | self._resolve_all(path[:-1], call.inherited)
        return self._inherited[path]


class _SharedSummaries:
    """One summary per distinct module body: calls of the same source with equal bodies share it."""

    def __init__(self) -> None:
        self._seen: dict[str, list[tuple[Any, ModuleSummary]]] = {}

    def get(self, body: Any, source: str) -> ModuleSummary:
        candidates = self._seen.setdefault(source, [])
        for known, summary in candidates:
            if known is body or known == body:
                return summary
        summary = summarise(body)
        candidates.append((body, summary))
        return summary


def _source_of(parent: Any, name: str) -> str:
    calls = parent.get("module_calls") if isinstance(parent, dict) else None
    call = calls.get(name) if isinstance(calls, dict) else None
    source = call.get("source") if isinstance(call, dict) else None
    return source if isinstance(source, str) else ""
