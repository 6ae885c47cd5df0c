"""The rollout engine's vocabulary: its saved state, the events it is told and the actions it names.

The state is plain data that turns into JSON and back (RunRecord.state), so a killed process resumes
from the store. Actions that change a cluster are recorded in `pending` before they run: a resumed run
finishes an interrupted action (they are idempotent) and never repeats a completed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrail.core.audit import iso_utc, parse_iso
from guardrail.core.rollout.gates import Baseline, GateResult
from guardrail.core.rollout.plan import ClusterPlan, Step
from guardrail.core.rollout.projection import CostPoint
from guardrail.core.rollout.readings import ClusterReading
from guardrail.core.runs import RunRequest


class Mode(StrEnum):
    NEW = "new"  # a new DaemonSet: required node affinity on the rollout label, nodes labelled batch by batch
    UPDATE = "update"  # an existing one: OnDelete, its pods replaced batch by batch


class Phase(StrEnum):
    BASELINE = "baseline"  # two readings of every cluster before anything changes
    PREPARE = "prepare"  # containment, the DaemonSet installed with no reach, the rollback dry-run
    ROLLING = "rolling"  # widen, soak, observe, measure, project
    AWAITING_APPROVAL = "awaiting-approval"  # widening past the canary waits for approvals; gates still judged
    ROLLING_BACK = "rolling-back"
    VERIFYING = "verifying"  # waiting for the gates to be back at their baseline after a rollback
    FINISHED = "finished"


class Outcome(StrEnum):
    COMPLETED = "completed"
    HALTED = "halted"  # the engine refused to go on (load gate, no baseline, no rollback path) and rolled back
    ROLLED_BACK = "rolled-back"  # a health gate failed, or a person aborted: rolled back


class ActionKind(StrEnum):
    OBSERVE = "observe"
    SOAK = "soak"  # let time pass until the next observation
    PREPARE = "prepare"
    LABEL_NODES = "label-nodes"
    REPLACE_PODS = "replace-pods"
    ROLL_BACK = "roll-back"
    PAUSE = "pause"
    DONE = "done"


CHANGES = frozenset({ActionKind.PREPARE, ActionKind.LABEL_NODES, ActionKind.REPLACE_PODS, ActionKind.ROLL_BACK})


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    cluster: str | None = None
    step: Step | None = None
    clusters: tuple[str, ...] = ()  # OBSERVE: which clusters
    seconds: float = 0.0  # SOAK: how long

    @property
    def changes_cluster(self) -> bool:
        return self.kind in CHANGES

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "cluster": self.cluster,
            "step": self.step.to_json() if self.step else None,
            "clusters": list(self.clusters),
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        step = Step.from_json(data["step"]) if data.get("step") else None
        return cls(ActionKind(data["kind"]), data.get("cluster"), step, tuple(data["clusters"]), float(data["seconds"]))


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has passed (after a soak, at the start, on resume)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Observed:
    at: datetime
    readings: tuple[ClusterReading, ...]


@dataclass(frozen=True, slots=True)
class Acted:
    """A change action ran: `ok`, or what went wrong."""

    at: datetime
    action: Action
    ok: bool = True
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Requested:
    """A person asked the run to pause or abort (from another terminal)."""

    at: datetime
    request: RunRequest
    actor: str = ""


@dataclass(frozen=True, slots=True)
class Approved:
    """Enough people approved the widening the rollout waits for."""

    at: datetime
    approvers: tuple[str, ...]


Event = Tick | Observed | Acted | Requested | Approved


@dataclass(frozen=True, slots=True)
class Note:
    """Something to put in the store and the audit log: a `step`, `measurement` or `decision`."""

    kind: str
    payload: Mapping[str, Any]


@dataclass
class RolloutState:
    """Where a rollout is. Mutable inside `advance` only, which works on its own copy."""

    workload: str  # the DaemonSet's address
    flow_schema: str  # the workload's FlowSchema, whose metrics measure its cost
    mode: Mode
    plan: tuple[ClusterPlan, ...]
    phase: Phase = Phase.BASELINE
    position: tuple[int, int] = (0, -1)  # (cluster index, index of its last completed step)
    next_observation_at: datetime | None = None
    step_started_at: datetime | None = None
    soak_until: datetime | None = None
    restarts_at_step_start: int = 0
    measure_from: ClusterReading | None = None
    first_readings: dict[str, ClusterReading] = field(default_factory=dict)
    baselines: dict[str, Baseline] = field(default_factory=dict)
    previous: dict[str, ClusterReading] = field(default_factory=dict)
    points: list[CostPoint] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # clusters guardrail changed, in plan order
    prepared: list[str] = field(default_factory=list)
    rollback_pending: list[str] = field(default_factory=list)
    rollback_attempts: int = 0
    rollback_failures: list[str] = field(default_factory=list)
    verify_started_at: datetime | None = None
    verified: dict[str, int] = field(default_factory=dict)  # consecutive readings back at baseline
    pending: Action | None = None
    outcome: Outcome | None = None
    reason: str = ""
    stopped_at: dict[str, Any] | None = None  # cluster and step where it halted or failed
    rollback: str | None = None  # "verified", or why not
    aborted: bool = False
    awaiting: dict[str, Any] | None = None  # the widening that waits for approvals (cluster, step, nodes)
    approved_by: list[str] = field(default_factory=list)  # who approved widening past the canary
    gates: dict[str, tuple[GateResult, ...]] = field(default_factory=dict)  # each cluster's latest judgement

    def copy(self) -> RolloutState:
        """A copy whose containers can change without touching this one (their items are immutable)."""
        return replace(
            self,
            first_readings=dict(self.first_readings),
            baselines=dict(self.baselines),
            previous=dict(self.previous),
            points=list(self.points),
            touched=list(self.touched),
            prepared=list(self.prepared),
            rollback_pending=list(self.rollback_pending),
            rollback_failures=list(self.rollback_failures),
            verified=dict(self.verified),
            stopped_at=dict(self.stopped_at) if self.stopped_at is not None else None,
            awaiting=dict(self.awaiting) if self.awaiting is not None else None,
            approved_by=list(self.approved_by),
            gates=dict(self.gates),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "flow_schema": self.flow_schema,
            "mode": self.mode.value,
            "plan": [c.to_json() for c in self.plan],
            "phase": self.phase.value,
            "position": list(self.position),
            "next_observation_at": _time(self.next_observation_at),
            "step_started_at": _time(self.step_started_at),
            "soak_until": _time(self.soak_until),
            "restarts_at_step_start": self.restarts_at_step_start,
            "measure_from": self.measure_from.to_json() if self.measure_from else None,
            "first_readings": {k: v.to_json() for k, v in self.first_readings.items()},
            "baselines": {k: v.to_json() for k, v in self.baselines.items()},
            "previous": {k: v.to_json() for k, v in self.previous.items()},
            "points": [p.to_json() for p in self.points],
            "touched": list(self.touched),
            "prepared": list(self.prepared),
            "rollback_pending": list(self.rollback_pending),
            "rollback_attempts": self.rollback_attempts,
            "rollback_failures": list(self.rollback_failures),
            "verify_started_at": _time(self.verify_started_at),
            "verified": dict(self.verified),
            "pending": self.pending.to_json() if self.pending else None,
            "outcome": self.outcome.value if self.outcome else None,
            "reason": self.reason,
            "stopped_at": self.stopped_at,
            "rollback": self.rollback,
            "aborted": self.aborted,
            "awaiting": self.awaiting,
            "approved_by": list(self.approved_by),
            "gates": {name: [r.to_json() for r in results] for name, results in self.gates.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RolloutState:
        """The state saved by `to_json`. Raises KeyError/ValueError on anything else."""
        position = data["position"]
        return cls(
            workload=str(data["workload"]),
            flow_schema=str(data["flow_schema"]),
            mode=Mode(data["mode"]),
            plan=tuple(ClusterPlan.from_json(c) for c in data["plan"]),
            phase=Phase(data["phase"]),
            position=(int(position[0]), int(position[1])),
            next_observation_at=_parse(data["next_observation_at"]),
            step_started_at=_parse(data["step_started_at"]),
            soak_until=_parse(data["soak_until"]),
            restarts_at_step_start=int(data["restarts_at_step_start"]),
            measure_from=ClusterReading.from_json(data["measure_from"]) if data["measure_from"] else None,
            first_readings={k: ClusterReading.from_json(v) for k, v in data["first_readings"].items()},
            baselines={k: Baseline.from_json(v) for k, v in data["baselines"].items()},
            previous={k: ClusterReading.from_json(v) for k, v in data["previous"].items()},
            points=[CostPoint.from_json(p) for p in data["points"]],
            touched=list(data["touched"]),
            prepared=list(data["prepared"]),
            rollback_pending=list(data["rollback_pending"]),
            rollback_attempts=int(data["rollback_attempts"]),
            rollback_failures=list(data["rollback_failures"]),
            verify_started_at=_parse(data["verify_started_at"]),
            verified={k: int(v) for k, v in data["verified"].items()},
            pending=Action.from_json(data["pending"]) if data["pending"] else None,
            outcome=Outcome(data["outcome"]) if data["outcome"] else None,
            reason=str(data["reason"]),
            stopped_at=data["stopped_at"],
            rollback=data["rollback"],
            aborted=bool(data["aborted"]),
            awaiting=dict(data["awaiting"]) if data.get("awaiting") else None,
            approved_by=list(data.get("approved_by", [])),
            gates={k: tuple(GateResult.from_json(r) for r in v) for k, v in data.get("gates", {}).items()},
        )


def _time(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None
