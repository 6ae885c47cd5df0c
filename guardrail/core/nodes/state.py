"""A cycle's state: the plan (strata, their nodes and budgets, the capacity floor) and each picked node's
progress. Plain JSON both ways (RunRecord.state), so a killed process resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from guardrail.core.nodes.picked import PickedNodes
from guardrail.core.nodes.records import Failure, NodeProgress, Outcome
from guardrail.core.nodes.settings import Budgets, CycleSettings
from guardrail.core.nodes.strata import StratumKey

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class StratumPlan:
    """A stratum as planned: its nodes in order (the first is the canary), the GPUs each had, its budgets."""

    key: StratumKey
    nodes: tuple[str, ...]
    gpus: int  # allocatable GPUs per node: what a replacement must show again
    budgets: Budgets

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.to_json(),
            "nodes": list(self.nodes),
            "gpus": self.gpus,
            "budgets": self.budgets.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StratumPlan:
        return cls(
            StratumKey.from_json(data["key"]),
            tuple(str(n) for n in data["nodes"]),
            int(data["gpus"]),
            Budgets.from_json(data["budgets"]),
        )


class _LazyJson(Mapping[str, Any]):
    """A state's plain JSON, built when first read: the memory store of a rehearsal keeps a state at every
    step and reads back only the last; a database store reads it at once (dict(state))."""

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._data: dict[str, Any] = {}

    def _plain(self) -> dict[str, Any]:
        if self._build is not None:
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._plain()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._plain())

    def __len__(self) -> int:
        return len(self._plain())


@dataclass(frozen=True, slots=True)
class CycleState:
    """The whole cycle. `nodes` holds picked nodes only; `cursor[i]` counts stratum i's picked nodes."""

    pool: str
    settings: CycleSettings
    strata: tuple[StratumPlan, ...]
    total_gpus: int
    minimum_gpus: int
    started: float
    cursor: tuple[int, ...]
    nodes: PickedNodes = field(default_factory=PickedNodes)
    known: frozenset[str] = frozenset()  # every node name seen in the pool: another name is a newcomer
    halt: str | None = None  # why no node starts any more (the first failure, a capacity dead end)
    halt_failure: Failure | None = None
    paused: bool = False
    aborting: bool = False
    outcome: Outcome | None = None
    lowest_available: int = 0
    warned: frozenset[str] = frozenset()  # `stratum/phase` of the p95 warnings already given

    def __post_init__(self) -> None:
        if not isinstance(self.nodes, PickedNodes):  # a plain mapping (tests, a caller's own records)
            object.__setattr__(self, "nodes", PickedNodes(self.nodes.values()))

    def with_progress(self, changed: Iterable[NodeProgress]) -> CycleState:
        """The state with `changed` in place of the progress of the same names."""
        return replace(self, nodes=self.nodes.updated(changed))

    def to_json(self) -> Mapping[str, Any]:
        """Plain JSON (a mapping built when first read; dict() of it is a plain dict)."""
        return _LazyJson(self._plain_json)

    def _plain_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "pool": self.pool,
            "settings": self.settings.to_json(),
            "strata": [s.to_json() for s in self.strata],
            "total_gpus": self.total_gpus,
            "minimum_gpus": self.minimum_gpus,
            "started": self.started,
            "cursor": list(self.cursor),
            "nodes": [p.to_json() for p in self.nodes.values()],
            "known": sorted(self.known),
            "halt": self.halt,
            "halt_failure": None if self.halt_failure is None else self.halt_failure.to_json(),
            "paused": self.paused,
            "aborting": self.aborting,
            "outcome": None if self.outcome is None else self.outcome.value,
            "lowest_available": self.lowest_available,
            "warned": sorted(self.warned),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CycleState:
        """The state as saved. Raises ValueError for a state of another version or shape."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"node-cycle state version {data.get('version')!r}, expected {STATE_VERSION}")
        try:
            progress = [NodeProgress.from_json(p) for p in data["nodes"]]
            failure, outcome = data.get("halt_failure"), data.get("outcome")
            return cls(
                pool=str(data["pool"]),
                settings=CycleSettings.from_json(data["settings"]),
                strata=tuple(StratumPlan.from_json(s) for s in data["strata"]),
                total_gpus=int(data["total_gpus"]),
                minimum_gpus=int(data["minimum_gpus"]),
                started=float(data["started"]),
                cursor=tuple(int(c) for c in data["cursor"]),
                nodes=PickedNodes(progress),
                known=frozenset(str(n) for n in data["known"]),
                halt=None if data.get("halt") is None else str(data["halt"]),
                halt_failure=None if failure is None else Failure.from_json(failure),
                paused=bool(data["paused"]),
                aborting=bool(data["aborting"]),
                outcome=None if outcome is None else Outcome(outcome),
                lowest_available=int(data["lowest_available"]),
                warned=frozenset(str(w) for w in data["warned"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"node-cycle state is damaged: {exc!r}") from None
