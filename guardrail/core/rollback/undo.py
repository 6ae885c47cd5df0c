"""What a rollback plan does to the forward apply it undoes: which of its changes it takes back, which it
cannot (lossy and irreversible ones, named with the reason), which it leaves, and what else it changes.

The forward apply is known from the audit log: its check event lists the addresses it changed and the
reversibility of those that are not simply reversible (see forward_changes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.change import Action, ChangeSet
from guardrail.core.rollback.reversibility import Reversibility, RollbackAssessment

_UNCHANGED = frozenset({Action.NO_OP, Action.READ})


@dataclass(frozen=True, slots=True)
class ForwardChange:
    """One change of the forward apply, as its check recorded it."""

    address: str
    reversibility: Reversibility = Reversibility.REVERSIBLE
    reason: str = ""


@dataclass(frozen=True)
class UndoReport:
    """The rollback plan set against the forward apply. `forward_known` False: no apply to compare with
    (an explicit --to without a recorded apply), so only `also_changes` is filled."""

    undone: tuple[str, ...] = ()
    cannot_undo: tuple[ForwardChange, ...] = ()
    untouched: tuple[str, ...] = ()
    also_changes: tuple[str, ...] = ()
    forward_known: bool = True


def check_record(assessment: RollbackAssessment | None) -> list[dict[str, str]]:
    """What a check event keeps of a plan's reversibility: every lossy or irreversible change with its
    reason (the reversible ones are the rest of its `addresses`)."""
    if assessment is None:
        return []
    return [
        {"address": e.address, "reversibility": e.reversibility.value, "reason": e.reason}
        for e in assessment.not_reversible()
    ]


def forward_changes(check_payload: Mapping[str, Any]) -> list[ForwardChange]:
    """The forward apply's changes from its check event's payload (`addresses` and `rollback`)."""
    weighty: dict[str, ForwardChange] = {}
    for entry in check_payload.get("rollback") or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("address"), str):
            continue
        try:
            level = Reversibility(str(entry.get("reversibility")))
        except ValueError:
            level = Reversibility.IRREVERSIBLE  # a class this version does not know: assume the worst
        weighty[entry["address"]] = ForwardChange(entry["address"], level, str(entry.get("reason") or ""))
    addresses = [a for a in check_payload.get("addresses") or () if isinstance(a, str)]
    return [weighty.get(address, ForwardChange(address)) for address in addresses]


def compare(forward: Sequence[ForwardChange] | None, rollback: ChangeSet) -> UndoReport:
    """Set the rollback plan's changes against the forward apply's."""
    touched = sorted({c.address for c in rollback.changes if c.action not in _UNCHANGED})
    if forward is None:
        return UndoReport(also_changes=tuple(touched), forward_known=False)
    forward_addresses = {change.address for change in forward}
    cannot = tuple(sorted((c for c in forward if c.reversibility is not Reversibility.REVERSIBLE), key=_key))
    lost = {c.address for c in cannot}
    return UndoReport(
        undone=tuple(sorted(a for a in forward_addresses if a in touched and a not in lost)),
        cannot_undo=cannot,
        untouched=tuple(sorted(a for a in forward_addresses if a not in touched and a not in lost)),
        also_changes=tuple(a for a in touched if a not in forward_addresses),
    )


def remaining_changes(changes: Iterable[Any]) -> list[str]:
    """Addresses a plan still changes (anything but no-op and read): what keeps a rollback unverified."""
    return sorted({c.address for c in changes if c.action not in _UNCHANGED})


def _key(change: ForwardChange) -> tuple[int, str]:
    return (0 if change.reversibility is Reversibility.IRREVERSIBLE else 1, change.address)
