"""What a plan proposes: one ResourceChange per object, gathered in a ChangeSet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn, final

from guardrail.core.kube.objects import ClusterObject
from guardrail.core.values import redact


class Action(StrEnum):
    """The single action a resource change amounts to, whatever order Terraform listed it in."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    FORGET = "forget"
    READ = "read"
    NO_OP = "no-op"


# Reviewers read deletions first: the order every output groups changes in.
ACTION_ORDER: tuple[Action, ...] = (
    Action.DELETE,
    Action.REPLACE,
    Action.FORGET,
    Action.UPDATE,
    Action.CREATE,
    Action.READ,
    Action.NO_OP,
)
DESTRUCTIVE: frozenset[Action] = frozenset({Action.DELETE, Action.REPLACE, Action.FORGET})


class ReplaceOrder(StrEnum):
    """For a replace: whether the old object is gone before the new one exists (downtime)."""

    DELETE_BEFORE_CREATE = "delete-before-create"
    CREATE_BEFORE_DESTROY = "create-before-destroy"


class UnknownActionError(ValueError):
    """Terraform listed actions guardrail does not know: refusing beats guessing."""


_ACTIONS: dict[tuple[str, ...], tuple[Action, ReplaceOrder | None]] = {
    ("no-op",): (Action.NO_OP, None),
    ("create",): (Action.CREATE, None),
    ("read",): (Action.READ, None),
    ("update",): (Action.UPDATE, None),
    ("delete",): (Action.DELETE, None),
    ("delete", "create"): (Action.REPLACE, ReplaceOrder.DELETE_BEFORE_CREATE),
    ("create", "delete"): (Action.REPLACE, ReplaceOrder.CREATE_BEFORE_DESTROY),
    ("forget",): (Action.FORGET, None),
    ("create", "forget"): (Action.FORGET, None),
}


def classify_actions(actions: Sequence[str]) -> tuple[Action, ReplaceOrder | None]:
    """Fold Terraform's action list into one Action; raise UnknownActionError for any other list."""
    try:
        return _ACTIONS[tuple(actions)]
    except (KeyError, TypeError):
        raise UnknownActionError(f"unknown action list {list(actions)!r}") from None


@final
class Concealed:
    """A change's values as the plan holds them, the ones it marks sensitive included.

    Rules read them, through ResourceChange.unmasked_before and unmasked_after, to decide: a prod tag set
    from a sensitive variable must still protect. Nothing may show them, so this record gives nothing away
    by accident: repr and str say nothing, pickling is refused (no cache, pipe or child process receives
    them) and a copy is the same object. Only changes with a sensitive value have one.
    """

    __slots__ = ("_after", "_before")

    def __init__(self, before: Any, after: Any) -> None:
        self._before = before
        self._after = after

    @property
    def before(self) -> Any:
        return self._before

    @property
    def after(self) -> Any:
        return self._after

    def __repr__(self) -> str:
        return "Concealed(<sensitive values>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("sensitive plan values are never serialised")

    def __copy__(self) -> Concealed:
        return self

    def __deepcopy__(self, memo: object) -> Concealed:
        return self


def masked(before: Any, before_sensitive: Any, after: Any, after_sensitive: Any) -> tuple[Any, Any, Concealed | None]:
    """`before` and `after` with every leaf their sensitive masks mark replaced by a placeholder, and the
    values as they were, concealed, when any leaf was (None otherwise: then they are the same)."""
    shown_before, shown_after = redact(before, before_sensitive), redact(after, after_sensitive)
    if shown_before is before and shown_after is after:
        return before, after, None
    return shown_before, shown_after, Concealed(before, after)


@dataclass(frozen=True, slots=True)
class ResourceChange:
    """One object's proposed change.

    `before` and `after` are what anyone may see: the leaves that `before_sensitive` and `after_sensitive`
    mark are masked. Rules that must judge a sensitive value (a tag, a version) read `unmasked_before` and
    `unmasked_after`, and never put what they read there in a message.
    """

    address: str
    type: str
    name: str
    action: Action
    actions: tuple[str, ...]
    mode: str = "managed"
    module_address: str | None = None
    previous_address: str | None = None
    index: Any = None
    provider_name: str = ""
    deposed: str | None = None
    replace_order: ReplaceOrder | None = None
    action_reason: str | None = None
    replace_paths: tuple[tuple[str | int, ...], ...] = ()
    before: Any = None
    after: Any = None
    after_unknown: Any = None
    before_sensitive: Any = None
    after_sensitive: Any = None
    concealed: Concealed | None = field(default=None, repr=False, compare=False)

    @property
    def unmasked_before(self) -> Any:
        """`before` with its sensitive values: to decide on, never to show."""
        return self.before if self.concealed is None else self.concealed.before

    @property
    def unmasked_after(self) -> Any:
        """`after` with its sensitive values: to decide on, never to show."""
        return self.after if self.concealed is None else self.concealed.after

    # A Kubernetes object change: the cluster it goes to and the object (None for Terraform resources).
    cluster_object: ClusterObject | None = None

    @property
    def is_destructive(self) -> bool:
        return self.action in DESTRUCTIVE

    @property
    def moved_from(self) -> str | None:
        """The address before a `moved` block, when it differs from the current one."""
        return self.previous_address if self.previous_address and self.previous_address != self.address else None

    @property
    def addresses(self) -> tuple[str, ...]:
        """The address and, across a `moved` block, the address it had before."""
        return (self.address, self.moved_from) if self.moved_from else (self.address,)


@dataclass(frozen=True, slots=True)
class OutputChange:
    """A root module output's proposed change (its value is never kept: only whether it is sensitive)."""

    name: str
    action: Action
    sensitive: bool


@dataclass(frozen=True)
class ChangeSet:
    """Everything a plan proposes, as guardrail reasons about it."""

    source: str
    fingerprint: str
    format_version: str
    terraform_version: str | None = None
    changes: tuple[ResourceChange, ...] = ()
    output_changes: tuple[OutputChange, ...] = ()
    # Literal sensitive strings found anywhere in the plan; outputs are scrubbed of them as a last line
    # of defence for text that guardrail did not build itself (Rego messages).
    sensitive_literals: frozenset[str] = field(default=frozenset(), repr=False)
    # Parsed `configuration` and `prior_state` sections, for analyses that need the dependency graph.
    configuration: Mapping[str, Any] | None = field(default=None, repr=False)
    prior_state: Mapping[str, Any] | None = field(default=None, repr=False)
    # Changes made outside Terraform since the last apply, and the attributes the plan depends on.
    resource_drift: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    relevant_attributes: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    def summary(self) -> dict[str, int]:
        """Counts per action, every action present (zero when absent), in ACTION_ORDER."""
        counts = Counter(change.action for change in self.changes)
        return {action.value: counts.get(action, 0) for action in ACTION_ORDER}

    def by_action(self) -> list[tuple[Action, list[ResourceChange]]]:
        """The changes grouped by action, deletions first, each group sorted by address."""
        groups: dict[Action, list[ResourceChange]] = {}
        for change in self.changes:
            groups.setdefault(change.action, []).append(change)
        return [
            (action, sorted(groups[action], key=lambda c: c.address)) for action in ACTION_ORDER if action in groups
        ]

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.NO_OP, Action.READ) for c in self.changes)
