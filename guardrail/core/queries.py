"""The filters an operator types: `action:delete type:aws_db_* finding:hard orders` for changes,
`actor:alice kind:approval since:2h` for audit events. Pure: parse once, match many.

Unknown keys and values are refused with a message saying what is allowed, so a typo never reads as
"nothing matched".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from guardrail.core.audit import EventFilter, EventKind, parse_iso
from guardrail.core.change import ACTION_ORDER, Action, ChangeSet, ResourceChange
from guardrail.core.errors import BadInputError
from guardrail.core.locks import parse_duration
from guardrail.core.verdict import Enforcement, Finding

ANY_FINDING = "any"
_WILDCARDS = frozenset("*?[")


def _words(text: str) -> list[str]:
    # Split on spaces only: quotes are part of addresses (`aws_s3_bucket.x["logs"]`), not of the syntax.
    return text.split()


def _pattern_matches(pattern: str, value: str) -> bool:
    """A glob when the pattern has wildcards, else a case-insensitive substring."""
    if _WILDCARDS.intersection(pattern):
        return fnmatchcase(value, pattern)
    return pattern.lower() in value.lower()


@dataclass(frozen=True)
class ChangeQuery:
    """Which changes to list. Words of one kind are alternatives (OR); kinds combine (AND)."""

    words: tuple[str, ...] = ()  # every word must appear in the address (or the address before a move)
    actions: frozenset[Action] = frozenset()
    types: tuple[str, ...] = ()
    findings: frozenset[str] = frozenset()  # enforcement levels, or "any"

    def matches(self, change: ResourceChange, findings: Sequence[Finding]) -> bool:
        if self.actions and change.action not in self.actions:
            return False
        if self.types and not any(_pattern_matches(t, change.type) for t in self.types):
            return False
        if self.findings and not _has_finding(self.findings, findings):
            return False
        return all(any(_pattern_matches(word, a) for a in change.addresses) for word in self.words)


def _has_finding(wanted: frozenset[str], findings: Sequence[Finding]) -> bool:
    if ANY_FINDING in wanted:
        return bool(findings)
    return any(f.enforcement.value in wanted for f in findings)


_ACTION_NAMES = {a.value: a for a in Action} | {"noop": Action.NO_OP}
_LEVELS = {e.value for e in Enforcement} | {ANY_FINDING}
CHANGE_FILTER_HELP = "text, action:delete, type:aws_db_*, finding:hard|soft|advisory|any"


def parse_change_query(text: str) -> ChangeQuery:
    """The query in `text`. Raises BadInputError for an unknown key, action or enforcement level."""
    words: list[str] = []
    actions: set[Action] = set()
    types: list[str] = []
    levels: set[str] = set()
    for word in _words(text):
        key, sep, value = word.partition(":")
        if not sep or not value or not key.isalpha():  # `["a:b"]` in an address is text, not a filter
            words.append(word)
        elif key not in ("action", "type", "finding"):
            raise BadInputError(f"unknown filter {key}: (use {CHANGE_FILTER_HELP})")
        elif key == "action":
            for name in value.lower().split(","):
                if name not in _ACTION_NAMES:
                    raise BadInputError(f"action:{name}: expected one of {', '.join(a.value for a in ACTION_ORDER)}")
                actions.add(_ACTION_NAMES[name])
        elif key == "type":
            types.extend(v for v in value.split(",") if v)
        else:
            for name in value.lower().split(","):
                if name not in _LEVELS:
                    raise BadInputError(f"finding:{name}: expected hard, soft, advisory or any")
                levels.add(name)
    return ChangeQuery(tuple(words), frozenset(actions), tuple(types), frozenset(levels))


# -- the review list -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change as the list shows it: with its findings, the weightiest first."""

    change: ResourceChange
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Enforcement | None:
        return self.findings[0].enforcement if self.findings else None


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """The listed changes of one action, and how many the plan has in all."""

    action: Action
    rows: tuple[ChangeRow, ...]
    total: int


def index_findings(findings: Iterable[Finding]) -> dict[str, tuple[Finding, ...]]:
    """Findings (already hard first) by the address they are about; plan-wide ones are left out."""
    index: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.address is not None:
            index.setdefault(finding.address, []).append(finding)
    return {address: tuple(found) for address, found in index.items()}


def findings_for(change: ResourceChange, index: Mapping[str, tuple[Finding, ...]]) -> tuple[Finding, ...]:
    """Findings on the change, under its address or (across a `moved` block) its former one."""
    if change.moved_from is None:
        return index.get(change.address, ())
    return (*index.get(change.address, ()), *index.get(change.moved_from, ()))


def review_rows(changeset: ChangeSet, findings: Iterable[Finding]) -> list[tuple[Action, list[ChangeRow]]]:
    """Every change with its findings, grouped by action (deletions first), each group by address."""
    index = index_findings(findings)
    return [(action, [ChangeRow(c, findings_for(c, index)) for c in group]) for action, group in changeset.by_action()]


def filter_groups(groups: Sequence[tuple[Action, Sequence[ChangeRow]]], query: ChangeQuery) -> list[ChangeGroup]:
    """The groups with only the rows `query` matches; groups left empty are dropped."""
    result: list[ChangeGroup] = []
    for action, rows in groups:
        kept = tuple(row for row in rows if query.matches(row.change, row.findings))
        if kept:
            result.append(ChangeGroup(action, kept, len(rows)))
    return result


# -- the audit browser -----------------------------------------------------------------------------------

EVENT_FILTER_HELP = "actor:alice kind:approval address:module.db.* since:2h|2025-01-31"
EVENT_KINDS = tuple(kind.value for kind in EventKind)  # in the order the enum declares them
_HEAD_DIGITS = 64  # a sha256, as `audit verify` prints the head


def event_kind(kind: str, given_as: str) -> str:
    """`kind` when it is a kind of audit event; else BadInputError naming `given_as` and the kinds."""
    if kind not in EVENT_KINDS:
        raise BadInputError(f"{given_as}: expected one of {', '.join(sorted(EVENT_KINDS))}")
    return kind


def parse_head_hash(text: str, given_as: str) -> str:
    """A head hash as `audit verify` prints it (64 hexadecimal digits, optionally `sha256:` first, any
    case), in the form the chain stores. Raises BadInputError naming `given_as` for anything else."""
    digits = text.strip().lower().removeprefix("sha256:")
    if len(digits) != _HEAD_DIGITS or any(c not in "0123456789abcdef" for c in digits):
        raise BadInputError(
            f"{given_as}: expected a head hash of {_HEAD_DIGITS} hexadecimal digits, as audit verify prints it"
        )
    return digits


def parse_event_query(text: str, now: datetime) -> EventFilter:
    """The EventFilter `text` asks for; `since:` takes a duration back from `now` or an ISO date/time.

    Raises BadInputError for a word without a known key, an unknown kind or an unreadable time.
    """
    fields: dict[str, str] = {}
    for word in _words(text):
        key, sep, value = word.partition(":")
        if not sep or key not in ("actor", "kind", "address", "since") or not value:
            raise BadInputError(f"{word!r}: expected {EVENT_FILTER_HELP}")
        fields[key] = value
    kind = fields.get("kind")
    if kind is not None:
        event_kind(kind, f"kind:{kind}")
    since = _since(fields["since"], now) if "since" in fields else None
    return EventFilter(since=since, actor=fields.get("actor"), kind=kind, address=fields.get("address"))


def parse_since(text: str, now: datetime) -> datetime:
    """`since` as an age before `now` (2h, 7d) or an ISO date or time. Raises ValueError for neither."""
    try:
        return now - parse_duration(text)
    except BadInputError:
        pass
    return parse_iso(text.strip())  # ValueError when it is not one either


def _since(text: str, now: datetime) -> datetime:
    try:
        return parse_since(text, now)
    except ValueError:
        raise BadInputError(f"since:{text}: expected a duration (2h, 1d) or a date (2025-01-31)") from None
