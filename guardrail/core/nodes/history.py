"""What earlier cycles of a pool say about its strata, read from the audit log they left.

The log is the record that outlives runs: every cycle's start names its subject and its strata, every
finished or failed phase names its stratum by index, and every end says how each stratum ended. From these
the pre-flight learns which strata passed a cycle before and how long their nodes took to boot, the
timeouts included.

Strata are matched by placement (instance type, region, zone), not by their full key: a cycle usually
brings nodes back with a new OS image or kernel, and the stratum is still the same machines in the same
place, where the outage this answers happened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.audit import AuditEvent, EventKind
from guardrail.core.nodes.report import StratumState
from guardrail.core.nodes.settings import Phase
from guardrail.core.nodes.strata import StratumKey

Placement = tuple[str, str, str]
_BOOT_PHASES = frozenset({Phase.REGISTER.value, Phase.READY.value})
# The events a pool's history is read from: a store hands over only these (RunStore.run_events).
HISTORY_KINDS = frozenset(
    {EventKind.NODE_CYCLE_START, EventKind.NODE_CYCLE_END, EventKind.NODE_PHASE, EventKind.NODE_FAILURE}
)


@dataclass(frozen=True, slots=True)
class StratumHistory:
    """A stratum in earlier cycles: how many it passed, how long its nodes took to boot (a boot that ran
    out of its budget counts with the time it was given), and how many of those ran out."""

    passed: int = 0
    boot_seconds: tuple[float, ...] = ()
    timed_out: int = 0


@dataclass(frozen=True, slots=True)
class PoolHistory:
    """Earlier cycles of one pool: how many were found, and what they say of each placement."""

    cycles: int = 0
    strata: Mapping[Placement, StratumHistory] = field(default_factory=dict)

    def of(self, key: StratumKey) -> StratumHistory:
        """The history of the stratum's placement (empty when no earlier cycle had it)."""
        return self.strata.get(key.placement, StratumHistory())


def pool_history(events: Iterable[AuditEvent], subject: str) -> PoolHistory:
    """The history of the cycles of `subject` (see services.nodes_cycle.cycle_subject) in `events`, read
    in seq order. Events of other subjects, and events too old to name their strata, are passed over."""
    placements: dict[str, list[Placement]] = {}  # run -> its strata's placements, by index
    booting: dict[tuple[str, str], float] = {}  # (run, node) -> seconds of its boot so far
    boots: dict[Placement, list[float]] = {}
    timed_out: Counter[Placement] = Counter()
    passed: Counter[Placement] = Counter()
    for event in events:
        kind = event.kind
        if kind not in HISTORY_KINDS:
            continue  # parsing every payload of a long log costs more than the rest together
        try:
            payload = event.payload
        except ValueError:
            continue  # a damaged event says nothing; `guardrail audit verify` names it
        if not isinstance(payload, dict):
            continue
        if kind == EventKind.NODE_CYCLE_START:
            if payload.get("subject") == subject:
                keys = _placements(payload.get("strata"))
                if keys is not None:
                    placements[str(payload.get("run"))] = keys
            continue
        run = payload.get("run")
        known = placements.get(run) if isinstance(run, str) else None
        if known is None:
            continue
        if kind == EventKind.NODE_CYCLE_END:
            for where, state in zip(known, payload.get("strata") or (), strict=False):
                if state == StratumState.COMPLETED.value:
                    passed[where] += 1
            continue
        if kind not in (EventKind.NODE_PHASE, EventKind.NODE_FAILURE) or payload.get("phase") not in _BOOT_PHASES:
            continue
        placement = _placement_of(known, payload.get("stratum_index"))
        if placement is None:
            continue
        node = (str(run), str(payload.get("node")))
        if kind == EventKind.NODE_FAILURE:
            # Measured from the end of the replace, as the boot budget is: the whole boot that ran out.
            if payload.get("budget") is not None:
                boots.setdefault(placement, []).append(_seconds(payload.get("measured")))
                timed_out[placement] += 1
            booting.pop(node, None)
            continue
        so_far = booting.pop(node, 0.0) + _seconds(payload.get("seconds"))
        if payload.get("phase") == Phase.READY.value:
            boots.setdefault(placement, []).append(so_far)
        else:
            booting[node] = so_far
    strata = {
        placement: StratumHistory(passed[placement], tuple(boots.get(placement, ())), timed_out[placement])
        for placement in set(passed) | set(boots)
    }
    return PoolHistory(len(placements), strata)


def _placements(strata: Any) -> list[Placement] | None:
    if not isinstance(strata, list):
        return None
    found: list[Placement] = []
    for entry in strata:
        key = entry.get("key") if isinstance(entry, Mapping) else None
        if not isinstance(key, Mapping):
            return None
        found.append((str(key.get("instance_type", "")), str(key.get("region", "")), str(key.get("zone", ""))))
    return found


def _placement_of(known: list[Placement], index: Any) -> Placement | None:
    if isinstance(index, int) and 0 <= index < len(known):
        return known[index]
    return None


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
