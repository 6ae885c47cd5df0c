"""The impact of one destructive change as a tree, trimmed to stay readable on plans of thousands of resources.

Each branch is a shortest dependency path from the destructive change. Critical resources, and branches
that lead to them, come first and are never trimmed away; past the per-level and depth limits the rest is
summarised as "N more".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from guardrail.core.blast.impact import Impact, ImpactedResource
from guardrail.core.change import Action


@dataclass(frozen=True)
class TreeNode:
    """One resource in the tree; `hidden` counts the impacted resources trimmed from below it."""

    address: str
    action: Action | None  # what the plan does to it; None for a data source passed through
    critical: bool
    impacted: bool  # False for a data source that only carries the dependency
    below: int  # impacted resources anywhere under this node, shown or not
    critical_below: int
    children: tuple[TreeNode, ...] = ()
    hidden: int = 0


@dataclass(frozen=True)
class ImpactTree:
    """A destructive change and the tree of what depends on it."""

    impact: Impact
    root: TreeNode

    @property
    def summary(self) -> str:
        """One line: address, action, downtime or lower-risk note, counts."""
        impact = self.impact
        notes = [impact.action.value]
        if impact.downtime:
            notes.append("downtime")
        elif impact.lower_risk_replace:
            notes.append("create-before-destroy")
        if impact.critical:
            notes.append("critical")
        total, critical = len(impact.impacted), len(impact.critical_impacted)
        counts = f"{total} impacted" + (f", {critical} critical" if critical else "")
        line = f"{impact.address} ({', '.join(notes)}): {counts}"
        if impact.effect:  # Kubernetes: what the change does to what it reaches, and what is not known
            line += f"; {impact.effect}"
        if impact.unknown:
            line += f"; {impact.unknown}"
        return line


@dataclass
class _Draft:
    address: str
    children: dict[str, _Draft]


def build_tree(impact: Impact, max_children: int = 10, max_depth: int = 8) -> ImpactTree:
    """The impact tree of one destructive change, at most `max_children` per node and `max_depth` levels.

    Trimmed branches are counted in `hidden`; a critical resource is shown even past the limits.
    """
    root = _Draft(impact.address, {})
    for resource in impact.impacted:
        node = root
        for address in resource.path[1:]:
            child = node.children.get(address)
            if child is None:
                child = node.children[address] = _Draft(address, {})
            node = child
    info = {r.address: r for r in impact.impacted}
    counts: dict[str, tuple[int, int]] = {}
    _count(root, info, counts)
    frozen = _freeze(root, info, counts, (max_children, max_depth), 0)
    # The root is the destructive change itself, not one of the impacted resources.
    top = replace(frozen, action=impact.action, critical=impact.critical, impacted=False)
    return ImpactTree(impact, top)


_PAST = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced", "forget": "forgotten"}
Info = Mapping[str, ImpactedResource]


def _is_critical(info: Info, address: str) -> bool:
    resource = info.get(address)
    return resource is not None and resource.critical


def _count(draft: _Draft, info: Info, counts: dict[str, tuple[int, int]]) -> tuple[int, int]:
    below, critical = 0, 0
    for child in draft.children.values():
        child_below, child_critical = _count(child, info, counts)
        below += child_below + (child.address in info)
        critical += child_critical + _is_critical(info, child.address)
    counts[draft.address] = (below, critical)
    return below, critical


def _freeze(
    draft: _Draft,
    info: Info,
    counts: dict[str, tuple[int, int]],
    limits: tuple[int, int],
    depth: int,
) -> TreeNode:
    max_children, max_depth = limits
    resource = info.get(draft.address)

    def order(child: _Draft) -> tuple[bool, bool, int, str]:
        below, crit = counts[child.address]
        return (not _is_critical(info, child.address), crit == 0, -below, child.address)

    ordered = sorted(draft.children.values(), key=order)
    shown: list[TreeNode] = []
    hidden = 0
    for index, child in enumerate(ordered):
        child_critical = _is_critical(info, child.address) or counts[child.address][1] > 0
        if (index < max_children and depth < max_depth) or child_critical:
            shown.append(_freeze(child, info, counts, limits, depth + 1))
        else:
            hidden += counts[child.address][0] + (child.address in info)
    below, critical_below = counts[draft.address]
    return TreeNode(
        draft.address,
        resource.action if resource is not None else None,
        resource is not None and resource.critical,
        resource is not None,
        below,
        critical_below,
        tuple(shown),
        hidden,
    )


def tree_lines(tree: ImpactTree) -> list[str]:
    """The tree as indented text lines (the text report; markdown wraps them in a collapsible block)."""
    lines = [tree.summary]
    _lines(tree.root, "", lines)
    return lines


def _lines(node: TreeNode, indent: str, lines: list[str]) -> None:
    items: list[TreeNode | int] = [*node.children]
    if node.hidden:
        items.append(node.hidden)
    for position, item in enumerate(items):
        last = position == len(items) - 1
        branch, follow = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if isinstance(item, int):
            lines.append(f"{indent}{branch}… {item} more")
            continue
        lines.append(f"{indent}{branch}{_label(item)}")
        _lines(item, indent + follow, lines)


def _label(node: TreeNode) -> str:
    notes = ["CRITICAL", *node_notes(node)] if node.critical else node_notes(node)
    return node.address + (f"  [{'; '.join(notes)}]" if notes else "")


def node_notes(node: TreeNode) -> list[str]:
    """What a reviewer needs beside a node's address: whether the plan also changes it, or it is a data
    source carrying the dependency, and how much hangs below it."""
    notes = []
    if node.action is not None and node.action not in (Action.NO_OP, Action.READ):
        notes.append(f"also {_PAST.get(node.action.value, node.action.value)}")
    elif not node.impacted:
        notes.append("data source")
    if node.below:
        notes.append(f"{node.below} below" + (f", {node.critical_below} critical" if node.critical_below else ""))
    return notes
