"""One attribute of a change as rules judge it: its values as the plan holds them, the ones Terraform marks
sensitive included (a version or a one-way setting set from a sensitive variable must still be judged),
and what a message may show of them (the placeholder for a sensitive one).

Every rule that compares an attribute's before and after reads it here, so that none of them judges the
placeholder instead of the value, nor prints the value instead of the placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guardrail.core.change import ResourceChange
from guardrail.core.values import SENSITIVE_PLACEHOLDER, Path, Unknown, after_value, get_path, mask_at


@dataclass(frozen=True, slots=True)
class AttributeReading:
    """`before` and `after` (an Unknown when known only after apply) are to decide on and never to show:
    messages use `shown_before` and `shown_after`. `unreadable`: a side is marked sensitive but the plan
    does not hold its value, so there is nothing to judge it by (a doubt, never a "no")."""

    before: Any = field(repr=False)
    after: Any = field(repr=False)
    shown_before: Any
    shown_after: Any
    unreadable: bool


def read_attribute(change: ResourceChange, path: Path) -> AttributeReading:
    """The attribute at `path` of `change`, before and after, as rules judge and show it."""
    before = get_path(change.unmasked_before, path)
    after = after_value(change.unmasked_after, change.after_unknown, path)
    before_hidden, after_hidden = mask_at(change.before_sensitive, path), mask_at(change.after_sensitive, path)
    known_after = not isinstance(after, Unknown)
    return AttributeReading(
        before=before,
        after=after,
        shown_before=SENSITIVE_PLACEHOLDER if before_hidden else before,
        shown_after=SENSITIVE_PLACEHOLDER if after_hidden and known_after else after,
        unreadable=_unreadable(before, before_hidden) or (known_after and _unreadable(after, after_hidden)),
    )


def _unreadable(value: object, hidden: bool) -> bool:
    """A sensitive value the plan leaves out (or masked already): nothing to judge it by."""
    return hidden and (value is None or value == SENSITIVE_PLACEHOLDER)
