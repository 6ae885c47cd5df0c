"""The blast-radius part of the human reports (text and markdown): a headline and one trimmed tree per
destructive change that reaches something, criticals and the widest first.

A plan that deletes thousands of resources must stay readable: changes that reach nothing are only counted,
and past `max_trees` the rest are counted too (the json output lists every one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardrail.adapters.render.common import neutralise
from guardrail.core.blast.impact import BlastRadius, Impact
from guardrail.core.blast.tree import build_tree, tree_lines
from guardrail.core.change import DESTRUCTIVE

MAX_TREES = 10
MAX_CHILDREN = 8  # per level of a drawn tree, critical branches first; the rest is "N more"


@dataclass(frozen=True)
class ImpactView:
    """One destructive change as shown: its summary line and the tree under it, text made safe."""

    summary: str
    lines: tuple[str, ...]
    critical: bool
    downtime: bool


@dataclass(frozen=True)
class BlastSection:
    headline: str
    trees: tuple[ImpactView, ...]
    isolated: int  # destructive changes nothing else depends on: counted, not drawn
    not_shown: int  # trees beyond the limit


def blast_section(
    blast: BlastRadius | None, text: Callable[[str], str], *, max_trees: int = MAX_TREES
) -> BlastSection | None:
    """The section for `blast`, every string passed through `text` (made writable; addresses are never
    scrubbed) and made inert; None when the plan has no destructive change or the analysis is off."""
    if blast is None or not blast.impacts:
        return None
    worth_a_tree = [i for i in blast.impacts if i.impacted or i.involves_critical or i.pods or i.unknown]
    views = tuple(_view(impact, text) for impact in worth_a_tree[:max_trees])
    return BlastSection(
        headline=_headline(blast.impacts),
        trees=views,
        isolated=len(blast.impacts) - len(worth_a_tree),
        not_shown=max(len(worth_a_tree) - max_trees, 0),
    )


def _view(impact: Impact, text: Callable[[str], str]) -> ImpactView:
    summary, *lines = tree_lines(build_tree(impact, max_children=MAX_CHILDREN))
    safe = [neutralise(text(line)) for line in lines]
    return ImpactView(neutralise(text(summary)), tuple(safe), impact.involves_critical, impact.downtime)


def _headline(impacts: tuple[Impact, ...]) -> str:
    reaching = [i for i in impacts if i.impacted]
    impacted = {r.address for i in impacts for r in i.impacted}
    critical = {r.address for i in impacts for r in i.critical_impacted}
    downtime = sum(1 for i in impacts if i.downtime)
    destructive = sum(1 for i in impacts if i.action in DESTRUCTIVE)
    # Kubernetes also reports changes that reach others without destroying anything (a ConfigMap update).
    others = len(impacts) - destructive
    parts = [
        f"{destructive:,} destructive change{_s(destructive)}",
        *([f"{others:,} other change{_s(others)} with an impact"] if others else []),
        f"{len(reaching):,} with dependents",
        f"{len(impacted):,} resource{_s(len(impacted))} impacted"
        + (f" ({len(critical):,} critical)" if critical else ""),
    ]
    if downtime:
        parts.append(f"{downtime:,} cause{'' if downtime != 1 else 's'} downtime")
    return ", ".join(parts)


def _s(count: int) -> str:
    return "" if count == 1 else "s"
