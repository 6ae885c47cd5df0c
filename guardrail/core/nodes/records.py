"""A picked node's record: where it is in its cycle, how long each phase took, and why it failed if it
did. Plain JSON both ways, inside the cycle's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from guardrail.core.nodes.settings import Phase, budget_name


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
