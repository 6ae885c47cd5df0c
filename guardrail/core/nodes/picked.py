"""The picked nodes of a cycle, indexed as they change: a step then costs what the nodes in hand cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from guardrail.core.nodes.records import NodeProgress, NodeStatus

# A node counts as out of service for good once failed (left cordoned) or left mid-way by an abort.
_SETTLED_OUT = frozenset({NodeStatus.FAILED, NodeStatus.LEFT})


class PickedNodes(Mapping[str, NodeProgress]):
    """The picked nodes by name, with an index kept up to date as they change: those in hand, those out of
    service for good, and how many of each stratum are back. A step then costs what the nodes in hand
    cost, not what the pool does."""

    __slots__ = ("_active", "_all", "_done", "_settled_out")

    def __init__(self, progress: Iterable[NodeProgress] = ()) -> None:
        self._all: dict[str, NodeProgress] = {}
        self._active: dict[str, NodeProgress] = {}
        self._settled_out: dict[str, tuple[str, str]] = {}
        self._done: Counter[int] = Counter()
        for p in progress:
            self._put(p)

    def updated(self, changed: Iterable[NodeProgress]) -> PickedNodes:
        """A copy with `changed` in place of the progress of the same names."""
        copy = PickedNodes.__new__(PickedNodes)
        copy._all, copy._active = dict(self._all), dict(self._active)
        copy._settled_out, copy._done = dict(self._settled_out), Counter(self._done)
        for p in changed:
            copy._put(p)
        return copy

    def _put(self, p: NodeProgress) -> None:
        old = self._all.get(p.name)
        if old is not None:
            self._active.pop(old.name, None)
            self._settled_out.pop(old.name, None)
            if old.status is NodeStatus.DONE:
                self._done[old.stratum] -= 1
        self._all[p.name] = p
        if p.status is NodeStatus.ACTIVE:
            self._active[p.name] = p
        elif p.status in _SETTLED_OUT:
            self._settled_out[p.name] = (p.name, p.current)
        elif p.status is NodeStatus.DONE:
            self._done[p.stratum] += 1

    @property
    def in_hand(self) -> tuple[NodeProgress, ...]:
        """The nodes being cycled, in the order they were picked."""
        return tuple(self._active.values())

    def out_of_service(self) -> set[str]:
        """Names (planned and current) that the capacity counts as out: in hand, failed, left."""
        out: set[str] = set()
        for pair in self._settled_out.values():
            out.update(pair)
        for p in self._active.values():
            out.add(p.name)
            out.add(p.current)
        return out

    def passed(self, stratum: int) -> bool:
        """Whether a node of the stratum came back healthy (its canary passed)."""
        return self._done[stratum] > 0

    def __getitem__(self, name: str) -> NodeProgress:
        return self._all[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __repr__(self) -> str:
        return f"PickedNodes({list(self._all.values())!r})"
