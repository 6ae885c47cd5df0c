"""How reversible each change of a plan is: whether applying the configuration from before it brings
everything back as it was.

- reversible: a create (rolling back deletes it), an in-place update of settable attributes (rolling back
  sets them again), the delete or replace of something that holds no data (re-created from code).
- lossy: the delete or replace of something that holds data (STATEFUL_TYPES and `stateful.extra_types`):
  it comes back empty, unless a snapshot or backup taken on delete is named.
- irreversible: what no re-apply undoes: a managed Kubernetes minor upgrade, a name that stays reserved
  after delete, a one-way setting (one_way.py), or anything guardrail.yaml's `rollback.irreversible` marks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.matching import Match, Selector
from guardrail.core.rollback.one_way import ONE_WAY_UPDATES, RESERVED_ON_DELETE, OneWayUpdate, final_copy
from guardrail.core.rules.k8s_upgrade import VERSIONED, parse_version
from guardrail.core.rules.stateful import STATEFUL_TYPES
from guardrail.core.sensitive_reading import read_attribute
from guardrail.core.values import Unknown, format_path


class Reversibility(StrEnum):
    """How far applying the earlier configuration again undoes a change."""

    REVERSIBLE = "reversible"
    LOSSY = "lossy"
    IRREVERSIBLE = "irreversible"


# Weightiest first: the order reports list classes and counts in.
REVERSIBILITY_ORDER: tuple[Reversibility, ...] = (
    Reversibility.IRREVERSIBLE,
    Reversibility.LOSSY,
    Reversibility.REVERSIBLE,
)
_WEIGHT = {level: position for position, level in enumerate(REVERSIBILITY_ORDER)}
# The version and one-way tables by resource type: most changes are of types neither names.
_VERSIONED_BY_TYPE: dict[str, list[tuple[tuple[str | int, ...], str]]] = {}
for _type, _path, _what in VERSIONED:
    _VERSIONED_BY_TYPE.setdefault(_type, []).append((_path, _what))
_ONE_WAY_BY_TYPE: dict[str, list[OneWayUpdate]] = {}
for _one_way in ONE_WAY_UPDATES:
    _ONE_WAY_BY_TYPE.setdefault(_one_way.type, []).append(_one_way)
# What a reason says of a value Terraform marks sensitive and leaves out of the plan.
_NOT_HELD = "a sensitive value the plan does not hold"
# Nothing to undo: reading a data source or leaving an object as it is.
_NOT_CHANGES = frozenset({Action.NO_OP, Action.READ})


@dataclass(frozen=True)
class IrreversibleMark:
    """One `rollback.irreversible` entry of guardrail.yaml: what it selects, for which actions, and why."""

    selector: Selector
    actions: frozenset[Action] = frozenset({Action.DELETE, Action.REPLACE, Action.UPDATE, Action.FORGET})
    reason: str = ""


@dataclass(frozen=True)
class ReversibilityPolicy:
    """What classification needs besides the plan: more stateful types, and the configuration's marks."""

    extra_stateful: Mapping[str, str] = field(default_factory=dict)
    marks: tuple[IrreversibleMark, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeReversibility:
    """One change's class and the reason for it. `unknown`: the class depends on values known only after
    apply (tags a mark selects on), and was taken as the weightier one."""

    address: str
    action: Action
    reversibility: Reversibility
    reason: str
    deposed: str | None = None
    unknown: bool = False


@dataclass(frozen=True)
class RollbackAssessment:
    """Every change's reversibility, weightiest first, then by address."""

    changes: tuple[ChangeReversibility, ...] = ()
    # (address, deposed key) -> entry: renderers ask once per change of plans of thousands.
    _index: dict[tuple[str, str | None], ChangeReversibility] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._index.update(((entry.address, entry.deposed), entry) for entry in self.changes)

    def counts(self) -> dict[str, int]:
        """Changes per class, every class present, weightiest first."""
        tally = Counter(entry.reversibility for entry in self.changes)
        return {level.value: tally.get(level, 0) for level in REVERSIBILITY_ORDER}

    def counts_line(self) -> str:
        """`1 irreversible, 2 lossy, 5 reversible`."""
        return ", ".join(f"{count} {level}" for level, count in self.counts().items())

    def not_reversible(self) -> tuple[ChangeReversibility, ...]:
        """The lossy and irreversible changes, weightiest first: what a reviewer must read."""
        return tuple(e for e in self.changes if e.reversibility is not Reversibility.REVERSIBLE)

    def of(self, address: str, deposed: str | None = None) -> ChangeReversibility | None:
        """The entry of the change at `address` (and deposed key), or None (a no-op, a read, not in the plan)."""
        return self._index.get((address, deposed))


def assess(changeset: ChangeSet, policy: ReversibilityPolicy | None = None) -> RollbackAssessment:
    """The reversibility of every managed change of the plan but no-ops and reads."""
    chosen = policy or ReversibilityPolicy()
    stateful = {**STATEFUL_TYPES, **chosen.extra_stateful}
    entries = [
        classify(change, stateful, chosen.marks)
        for change in changeset.changes
        if change.mode == "managed" and change.action not in _NOT_CHANGES
    ]
    entries.sort(key=lambda e: (_WEIGHT[e.reversibility], e.address, e.deposed or ""))
    return RollbackAssessment(tuple(entries))


def classify(
    change: ResourceChange, stateful: Mapping[str, str], marks: Iterable[IrreversibleMark] = ()
) -> ChangeReversibility:
    """One change's class: the configuration's marks first (they only ever make a change weightier), then
    what the change itself is."""
    own = _intrinsic(change, stateful)
    if own.reversibility is Reversibility.IRREVERSIBLE:
        return own
    for mark in marks:
        if change.action not in mark.actions:
            continue
        matched = mark.selector.match(change)
        if matched is Match.NO:
            continue
        why = mark.reason or "marked irreversible in guardrail.yaml (rollback.irreversible)"
        if matched is Match.UNKNOWN:
            why = f"may be marked irreversible ({why}): its tags are known only after apply"
        return ChangeReversibility(
            change.address, change.action, Reversibility.IRREVERSIBLE, why, change.deposed, matched is Match.UNKNOWN
        )
    return own


def _intrinsic(change: ResourceChange, stateful: Mapping[str, str]) -> ChangeReversibility:
    action = change.action
    if action is Action.CREATE:
        level, reason, unknown = Reversibility.REVERSIBLE, "a create: rolling back deletes it", False
    elif action is Action.FORGET:
        level, reason, unknown = (
            Reversibility.REVERSIBLE,
            "forgotten, not destroyed: the object stays; rolling back needs an import block to adopt it again",
            False,
        )
    elif action is Action.UPDATE:
        level, reason, unknown = _update(change)
    else:
        level, reason = _removal(change, stateful)
        unknown = False
    return ChangeReversibility(change.address, action, level, reason, change.deposed, unknown)


def _removal(change: ResourceChange, stateful: Mapping[str, str]) -> tuple[Reversibility, str]:
    """A delete or replace: what is lost with the object decides."""
    verb = "deleted" if change.action is Action.DELETE else "replaced"
    reserved = RESERVED_ON_DELETE.get(change.type)
    if reserved is not None:
        return Reversibility.IRREVERSIBLE, f"{verb}: {reserved}"
    kind = stateful.get(change.type)
    if kind is None:
        return Reversibility.REVERSIBLE, f"{verb}, holds no data: re-created from its configuration"
    copy = final_copy(change.type, change.before)
    if copy is not None:
        return Reversibility.REVERSIBLE, f"{verb} {kind}, restorable from the final snapshot ({copy})"
    return Reversibility.LOSSY, f"{verb} {kind}: it comes back empty (no final snapshot or backup is named)"


def _update(change: ResourceChange) -> tuple[Reversibility, str, bool]:
    # Values set from a sensitive variable are judged as they are and shown as the placeholder (see
    # core/sensitive_reading.py); one the plan does not hold is a doubt, taken as the weightier class.
    for path, what in _VERSIONED_BY_TYPE.get(change.type, ()):
        version = read_attribute(change, path)
        if isinstance(version.after, Unknown) or version.unreadable:
            if version.before is None and not version.unreadable:
                continue  # set for the first time, from a value known only after apply: nothing to go back to
            hidden = "a value known only after apply" if isinstance(version.after, Unknown) else _NOT_HELD
            why = f"{what} version may change to {hidden}: it may be a one-way upgrade"
            return Reversibility.IRREVERSIBLE, why, True
        old, new = parse_version(version.before), parse_version(version.after)
        if old is not None and new is not None and new[:2] > old[:2]:
            upgrade = f"{version.shown_before} -> {version.shown_after}"
            why = f"{what} upgrade {upgrade}: managed Kubernetes cannot be downgraded"
            return Reversibility.IRREVERSIBLE, why, False
    for one_way in _ONE_WAY_BY_TYPE.get(change.type, ()):
        setting = read_attribute(change, one_way.path)
        where = format_path(one_way.path)
        if isinstance(setting.after, Unknown):
            why = f"{where} changes to a value known only after apply: {one_way.reason}"
            return Reversibility.IRREVERSIBLE, why, True
        if setting.unreadable:
            return Reversibility.IRREVERSIBLE, f"{where} may change to {_NOT_HELD}: {one_way.reason}", True
        if one_way.applies(setting.before, setting.after):
            change_words = f"{where} {setting.shown_before} -> {setting.shown_after}"
            return Reversibility.IRREVERSIBLE, f"{change_words}: {one_way.reason}", False
    return Reversibility.REVERSIBLE, "an in-place update: rolling back sets the earlier values again", False
