"""Selecting resources by type, address glob and tags: shared by protection, locks and criticality."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any

from guardrail.core.change import ResourceChange
from guardrail.core.values import mask_at
from guardrail.core.verdict import Enforcement, Finding

# Providers call them tags (AWS, Azure) or labels (GCP, Kubernetes); a selector matches either.
TAG_ATTRIBUTES = ("tags", "tags_all", "labels")


class Match(Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # would depend on a value known only after apply


@dataclass(frozen=True)
class Selector:
    """Resources matching every given criterion; an empty criterion does not constrain."""

    types: frozenset[str] = frozenset()
    addresses: tuple[str, ...] = ()  # globs on the address (or the address before a move)
    tags: Mapping[str, str] = field(default_factory=dict)

    def match(self, change: ResourceChange) -> Match:
        if self.types and change.type not in self.types:
            return Match.NO
        if self.addresses and not any(
            fnmatchcase(address, pattern) for address in change.addresses for pattern in self.addresses
        ):
            return Match.NO
        if not self.tags:
            return Match.YES
        return tags_match(change, self.tags)


def tags_match(change: ResourceChange, wanted: Mapping[str, str]) -> Match:
    """YES when the tags before or after the change carry every wanted key=value.

    A delete has only `before`; a create only `after`. When `after` tags are unknown and `before` does not
    match, the answer is UNKNOWN: the caller must not treat it as "no".
    """
    if _has_tags(change.before, wanted):
        return Match.YES
    if _has_tags(change.after, wanted):
        return Match.YES
    if change.after is not None and any(mask_at(change.after_unknown, (attr,)) for attr in TAG_ATTRIBUTES):
        return Match.UNKNOWN
    if change.after is not None and any(
        mask_at(change.after_unknown, (attr, key)) for attr in TAG_ATTRIBUTES for key in wanted
    ):
        return Match.UNKNOWN
    return Match.NO


def _has_tags(values: Any, wanted: Mapping[str, str]) -> bool:
    if not isinstance(values, dict):
        return False
    for attr in TAG_ATTRIBUTES:
        tags = values.get(attr)
        if isinstance(tags, dict) and all(k in tags and str(tags[k]) == v for k, v in wanted.items()):
            return True
    return False


def unknown_tags_finding(rule: str, change: ResourceChange, what: str) -> Finding:
    """A change whose match depends on tags known only after apply: `what` it may be ("protected",
    "locked by ..."). Soft and marked unknown: doubt asks a person, it never passes silently."""
    return Finding(
        rule,
        Enforcement.SOFT,
        change.address,
        f"{change.action.value} of a resource that may be {what}: its tags are known only after apply",
        unknown=True,
    )
