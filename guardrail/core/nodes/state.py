"""A cycle's state: the plan (strata, their nodes and budgets, the capacity floor) and each picked node's
progress. Plain JSON both ways (RunRecord.state), so a killed process resumes where it stopped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from guardrail.core.nodes.settings import Budgets, CycleSettings, Phase, budget_name
from guardrail.core.nodes.strata import StratumKey

STATE_VERSION = 1


class NodeStatus(StrEnum):
    ACTIVE = "active"  # being cycled
    DONE = "done"  # back, healthy, uncordoned
    FAILED = "failed"  # missed a budget or failed validation: left cordoned, the cycle halts
    RELEASED = "released"  # picked, then handed back uncordoned before its replace (the cycle stopped)
    LEFT = "left"  # past its replace when the cycle was aborted: left as it was for a person
    SKIPPED = "skipped"  # gone from the pool before its turn


class Outcome(StrEnum):
    COMPLETED = "completed"
    HALTED = "halted"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a node does not count as back: which phase, how long it took, against which budget."""

    node: str
    stratum: int
    phase: Phase
    measured: float
    budget: float | None  # None when the phase failed outright (a pod failed) rather than ran out of time
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "stratum": self.stratum,
            "phase": self.phase.value,
            "measured": self.measured,
            "budget": self.budget,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failure:
        budget = data.get("budget")
        return cls(
            str(data["node"]),
            int(data["stratum"]),
            Phase(data["phase"]),
            float(data["measured"]),
            None if budget is None else float(budget),
            str(data["message"]),
        )

    def describe(self, stratum_label: str) -> str:
        """`stratum X: node N failed in phase P after 15m0s (boot budget 15m0s): message`."""
        budget = f", {budget_name(self.phase)} {format_seconds(self.budget)}" if self.budget is not None else ""
        return (
            f"stratum {stratum_label}: node {self.node} failed in phase {self.phase.value} after "
            f"{format_seconds(self.measured)}{budget}: {self.message}"
        )


@dataclass(frozen=True)  # not slots: its JSON form is cached (a cycle saves its state at every step)
class NodeProgress:
    """One picked node. Times are seconds since the epoch (UTC)."""

    name: str  # the node as planned
    stratum: int
    gpus: int  # the GPUs it served when picked (0 when it was not serving): what the floor counted
    started: float
    phase_started: float
    status: NodeStatus = NodeStatus.ACTIVE
    phase: Phase = Phase.CORDON
    current: str = ""  # the node standing for it now: the replacement once registered
    boot_id: str = ""  # before the replace: the same name with another boot id has re-registered
    replace_issued: bool = False
    replaced_at: float | None = None
    seen_down: bool = False  # gone or not Ready since the replace (same-name nodes without boot ids)
    validation_pod: str | None = None
    ending: NodeStatus = NodeStatus.DONE  # what the uncordon phase ends in (done, or released)
    durations: Mapping[str, float] = field(default_factory=dict)  # phase value -> seconds
    failure: Failure | None = None

    @property
    def in_flight(self) -> bool:
        return self.status is NodeStatus.ACTIVE

    @property
    def past_replace(self) -> bool:
        """Whether its machine may already have been replaced: it can no longer simply be handed back."""
        return self.replace_issued or self.phase not in (Phase.CORDON, Phase.DRAIN, Phase.REPLACE)

    def to_json(self) -> Mapping[str, Any]:
        """Plain JSON, computed once per progress (it never changes): do not modify it."""
        return self._json

    @cached_property
    def _json(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "stratum": self.stratum,
            "gpus": self.gpus,
            "started": self.started,
            "phase_started": self.phase_started,
            "status": self.status.value,
            "phase": self.phase.value,
            "current": self.current,
            "boot_id": self.boot_id,
            "replace_issued": self.replace_issued,
            "replaced_at": self.replaced_at,
            "seen_down": self.seen_down,
            "validation_pod": self.validation_pod,
            "ending": self.ending.value,
            "durations": dict(self.durations),
            "failure": None if self.failure is None else self.failure.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeProgress:
        failure, replaced_at, pod = data.get("failure"), data.get("replaced_at"), data.get("validation_pod")
        return cls(
            name=str(data["name"]),
            stratum=int(data["stratum"]),
            gpus=int(data["gpus"]),
            started=float(data["started"]),
            phase_started=float(data["phase_started"]),
            status=NodeStatus(data["status"]),
            phase=Phase(data["phase"]),
            current=str(data["current"]),
            boot_id=str(data["boot_id"]),
            replace_issued=bool(data["replace_issued"]),
            replaced_at=None if replaced_at is None else float(replaced_at),
            seen_down=bool(data["seen_down"]),
            validation_pod=None if pod is None else str(pod),
            ending=NodeStatus(data["ending"]),
            durations={str(k): float(v) for k, v in data["durations"].items()},
            failure=None if failure is None else Failure.from_json(failure),
        )


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

    def pending(self, stratum: int) -> tuple[str, ...]:
        """The stratum's nodes not picked yet, in order."""
        return self.strata[stratum].nodes[self.cursor[stratum] :]

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


def format_seconds(seconds: float) -> str:
    """`15m0s`, `1h2m3s`, `42s`: whole seconds, the way budgets are written."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
