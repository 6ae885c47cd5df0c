"""What earlier cycles of a pool say about its strata, read back from the audit events they left."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from guardrail.core.audit import GENESIS_HASH, AuditEvent, EventDraft, EventKind, seal
from guardrail.core.nodes.history import PoolHistory, StratumHistory, pool_history
from guardrail.core.nodes.strata import StratumKey

SUBJECT = "node-pool/prod/agentpool=gpu"
EAST = StratumKey("ND96", "eastus", "eastus-1", "Ubuntu 22.04", "5.15", "A100")
WEST = StratumKey("ND96", "westus2", "westus2-1", "Ubuntu 22.04", "5.15", "A100")
T = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _log(*drafts: tuple[EventKind, dict[str, Any]]) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for kind, payload in drafts:
        previous = events[-1].hash if events else GENESIS_HASH
        events.append(seal(EventDraft("alice", kind.value, payload), len(events) + 1, T, previous))
    return events


def _start(
    run: str, subject: str = SUBJECT, keys: tuple[StratumKey, ...] = (EAST, WEST)
) -> tuple[EventKind, dict[str, Any]]:
    strata = [{"stratum": key.describe(), "key": key.to_json(), "nodes": 2, "gpus": 8} for key in keys]
    return EventKind.NODE_CYCLE_START, {"run": run, "subject": subject, "pool": "agentpool=gpu", "strata": strata}


def _phase(run: str, node: str, phase: str, seconds: float, index: int) -> tuple[EventKind, dict[str, Any]]:
    payload = {"run": run, "node": node, "phase": phase, "seconds": seconds, "stratum_index": index}
    return EventKind.NODE_PHASE, payload


def test_history_counts_passed_strata_and_every_boot_the_timeouts_included() -> None:
    events = _log(
        _start("r1"),
        _phase("r1", "a0", "drain", 120.0, 0),  # not a boot
        _phase("r1", "a0", "register", 300.0, 0),
        _phase("r1", "a0", "ready", 20.0, 0),
        _phase("r1", "b0", "register", 700.0, 1),
        (
            EventKind.NODE_FAILURE,
            {"run": "r1", "node": "b0", "phase": "ready", "measured": 905.0, "budget": 900.0, "stratum_index": 1},
        ),
        (EventKind.NODE_CYCLE_END, {"run": "r1", "outcome": "halted", "strata": ["completed", "failed"]}),
        _start("r2", subject="node-pool/staging/agentpool=gpu"),  # another cluster's pool
        _phase("r2", "a0", "register", 9999.0, 0),
        (EventKind.NODE_CYCLE_END, {"run": "r2", "outcome": "completed", "strata": ["completed", "completed"]}),
        _start("r3"),
        _phase("r3", "a1", "register", 280.0, 0),
        _phase("r3", "a1", "ready", 30.0, 0),
        (EventKind.NODE_CYCLE_END, {"run": "r3", "outcome": "completed", "strata": ["completed", "completed"]}),
    )
    history = pool_history(events, SUBJECT)
    assert history.cycles == 2
    assert history.of(EAST) == StratumHistory(passed=2, boot_seconds=(320.0, 310.0), timed_out=0)
    assert history.of(WEST) == StratumHistory(passed=1, boot_seconds=(905.0,), timed_out=1)


def test_a_stratum_is_known_by_its_placement_whatever_image_it_came_back_with() -> None:
    events = _log(
        _start("r1", keys=(EAST,)),
        (EventKind.NODE_CYCLE_END, {"run": "r1", "outcome": "completed", "strata": ["completed"]}),
    )
    upgraded = StratumKey("ND96", "eastus", "eastus-1", "Ubuntu 24.04", "6.8", "A100")
    assert pool_history(events, SUBJECT).of(upgraded).passed == 1


def test_events_too_old_to_name_their_strata_say_nothing() -> None:
    old_start = (EventKind.NODE_CYCLE_START, {"run": "r0", "pool": "agentpool=gpu", "strata": [{"stratum": "x"}]})
    events = _log(
        old_start,
        (EventKind.NODE_CYCLE_END, {"run": "r0", "outcome": "completed", "failed": []}),
        (
            EventKind.NODE_CYCLE_START,
            {"run": "r1", "subject": SUBJECT, "strata": [{"stratum": "x"}]},  # no keys: unreadable
        ),
        _phase("r1", "a0", "ready", 30.0, 0),
        (EventKind.CHECK, {"run": "r1"}),
    )
    assert pool_history(events, SUBJECT) == PoolHistory()
