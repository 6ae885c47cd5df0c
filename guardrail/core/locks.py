"""Resource locks (a freeze on what they match) and the workspace apply lock, as records and rules.

Pure: the store keeps them, the services decide when; nothing here reads a clock or a process table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from guardrail.core.change import Action, ResourceChange
from guardrail.core.errors import BadInputError, DeniedError
from guardrail.core.matching import KubeCriteria, Match, Selector

# A lock freezes changes; reading a data source or leaving a resource alone changes nothing.
UNLOCKED_ACTIONS = frozenset({Action.NO_OP, Action.READ})

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class LockTarget(StrEnum):
    """What a lock selects resources by."""

    ADDRESS = "address"  # a glob on the address, or on the address before a moved block
    TYPE = "type"
    TAG = "tag"  # key=value in tags, tags_all or labels, before or after the change
    KUBE = "kube"  # Kubernetes criteria: `kind=Namespace name=pay* namespace=... label=k=v cluster=prod-*`


@dataclass(frozen=True, slots=True)
class Lock:
    """A freeze on matching resources, from `created_at` until released or `expires_at`."""

    id: str
    target: LockTarget
    pattern: str
    owner: str
    reason: str
    created_at: datetime
    expires_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None

    def is_active(self, now: datetime) -> bool:
        """Not released and not expired at `now`."""
        if self.released_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def selector(self) -> Selector:
        if self.target is LockTarget.ADDRESS:
            return Selector(addresses=(self.pattern,))
        if self.target is LockTarget.TYPE:
            return Selector(types=frozenset({self.pattern}))
        if self.target is LockTarget.KUBE:
            return Selector(kube=parse_kube_pattern(self.pattern))
        key, value = parse_tag(self.pattern)
        return Selector(tags={key: value})

    def matches(self, change: ResourceChange) -> Match:
        """Whether the lock covers `change`: NO for actions that change nothing, UNKNOWN or HIDDEN when it
        turns on tags known only after apply or sensitive tags the plan does not hold."""
        if change.action in UNLOCKED_ACTIONS:
            return Match.NO
        return self.selector().match(change)

    def describe(self) -> str:
        """One line naming the lock, its owner and reason, for findings and listings."""
        until = f", until {self.expires_at.isoformat()}" if self.expires_at else ""
        return f"lock {self.id} on {self.target.value} {self.pattern!r} by {self.owner}{until}: {self.reason}"


def parse_tag(text: str) -> tuple[str, str]:
    """`key=value` as a pair. Raises BadInputError naming the text when it is not one."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise BadInputError(f"tag {text!r}: expected key=value")
    return key.strip(), value.strip()


_KUBE_KEYS = ("kind", "namespace", "name", "label", "cluster")


def kube_pattern(criteria: KubeCriteria) -> str:
    """The stored text of a Kubernetes lock: `key=value` words, in a fixed order, repeated keys meaning
    "any of these" (`kind=Deployment kind=StatefulSet namespace=payments`)."""
    words = [f"kind={k}" for k in sorted(criteria.kinds)]
    words += [f"namespace={n}" for n in criteria.namespaces]
    words += [f"name={n}" for n in criteria.names]
    words += [f"label={k}={v}" for k, v in sorted(criteria.labels.items())]
    words += [f"cluster={c}" for c in criteria.clusters]
    return " ".join(words)


def parse_kube_pattern(text: str) -> KubeCriteria:
    """The criteria of a stored Kubernetes lock pattern (see kube_pattern). Raises BadInputError naming the
    word it cannot read."""
    found: dict[str, list[str]] = {key: [] for key in _KUBE_KEYS}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep or key not in found or not value:
            raise BadInputError(f"Kubernetes lock {text!r}: {word!r} is not one of {', '.join(_KUBE_KEYS)}=VALUE")
        found[key].append(value)
    labels = dict(parse_tag(label) for label in found["label"])
    criteria = KubeCriteria.of(found["kind"], found["namespace"], found["name"], labels, found["cluster"])
    if criteria is None:
        raise BadInputError(f"Kubernetes lock {text!r}: no criterion")
    return criteria


# Ten years: longer is a typo, and far larger values overflow date arithmetic.
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `1d`, `1w` or combinations (`1h30m`). Raises BadInputError otherwise."""
    cleaned = text.strip().lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or _DURATION.sub("", cleaned).strip():
        raise BadInputError(f"duration {text!r}: expected a number and a unit (s, m, h, d, w), e.g. 2h")
    try:
        total = sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    except OverflowError:
        total = MAX_DURATION * 2
    if total <= timedelta():
        raise BadInputError(f"duration {text!r}: must be longer than zero")
    if total > MAX_DURATION:
        raise BadInputError(f"duration {text!r}: longer than {MAX_DURATION.days} days (leave it out for no limit)")
    return total


def new_lock(
    lock_id: str,
    owner: str,
    reason: str,
    now: datetime,
    *,
    address: str | None = None,
    type_: str | None = None,
    tag: str | None = None,
    expires_in: timedelta | None = None,
    kube: KubeCriteria | None = None,
) -> Lock:
    """A validated lock on exactly one of address glob, type, tag `k=v` or Kubernetes criteria (which may
    combine kinds, namespaces, names, labels and clusters: every one given must match).

    Raises BadInputError for none or several targets, an empty reason or a bad tag.
    """
    pattern_of_kube = kube_pattern(kube) if kube is not None else None
    given = [
        (t, v)
        for t, v in (
            (LockTarget.ADDRESS, address),
            (LockTarget.TYPE, type_),
            (LockTarget.TAG, tag),
            (LockTarget.KUBE, pattern_of_kube),
        )
        if v
    ]
    if len(given) != 1:
        raise BadInputError(
            "a lock needs exactly one of --address, --type or --tag, or Kubernetes criteria "
            "(--kind, --kube-namespace, --name, --label, --cluster)"
        )
    if not reason.strip():
        raise BadInputError("a lock needs a --reason")
    target, pattern = given[0]
    if target is LockTarget.TAG:
        key, value = parse_tag(pattern)
        pattern = f"{key}={value}"
    expires_at = now + expires_in if expires_in is not None else None
    return Lock(lock_id, target, pattern.strip(), owner, reason.strip(), now, expires_at)


# -- the workspace apply lock ------------------------------------------------------------------------


def workspace_lock_name(directory: str, workspace: str) -> str:
    """The name of a workspace's apply lock, also how the audit log names the workspace: the configuration's
    absolute path, `#`, the Terraform workspace (`/src/infra#default`)."""
    return f"{directory}#{workspace}"


def split_workspace_lock_name(name: str) -> tuple[str, str] | None:
    """(directory, workspace) of a workspace_lock_name, or None when `name` is not one."""
    directory, mark, workspace = name.rpartition("#")
    return (directory, workspace) if mark and directory and workspace else None


class ApplyLockHeldError(DeniedError):
    """Another apply holds the workspace (exit 1); carries the holder so callers can show or recover it."""

    def __init__(self, holder: ApplyLockHolder, stale_reason: str | None = None) -> None:
        self.holder = holder
        self.stale_reason = stale_reason
        message = f"workspace {holder.workspace!r} is locked by {holder.describe()}"
        if stale_reason:
            message += f"; the lock looks stale ({stale_reason}): recover it before applying"
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ApplyLockHolder:
    """Who holds a workspace's apply lock, with enough to tell whether the holder is still alive."""

    workspace: str
    token: str  # proves ownership on release: a recovered lock cannot be released by its old holder
    actor: str
    pid: int
    hostname: str
    acquired_at: datetime
    expires_at: datetime  # the lease: past it the lock is stale wherever the holder runs
    fingerprint: str | None = None

    def describe(self) -> str:
        return f"{self.actor} (pid {self.pid} on {self.hostname}, since {self.acquired_at.isoformat()})"


def stale_reason(
    holder: ApplyLockHolder, now: datetime, this_host: str, pid_alive: Callable[[int], bool]
) -> str | None:
    """Why the lock is stale, or None while its holder may still be working.

    Stale: the lease expired, or the holder ran on this host and its process is gone. A holder on
    another host is only judged by its lease: its process table cannot be seen from here.
    """
    if now >= holder.expires_at:
        return f"its lease expired at {holder.expires_at.isoformat()}"
    if holder.hostname == this_host and not pid_alive(holder.pid):
        return f"process {holder.pid} no longer runs on {this_host}"
    return None
