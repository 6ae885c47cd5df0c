"""Selecting resources by type, address glob and tags: shared by protection, locks and criticality."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any

from guardrail.core.change import ResourceChange
from guardrail.core.tags import TagLocation, TagShape, tag_locations
from guardrail.core.values import SENSITIVE_PLACEHOLDER, mask_at, mask_within
from guardrail.core.verdict import Enforcement, Finding


class Match(Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # would depend on a value known only after apply
    HIDDEN = "hidden"  # would depend on a value the plan marks sensitive and does not hold

    @property
    def undecided(self) -> bool:
        """UNKNOWN or HIDDEN: a rule cannot say no, a person must look."""
        return self in (Match.UNKNOWN, Match.HIDDEN)


@dataclass(frozen=True)
class Selector:
    """Resources matching every given criterion; an empty criterion does not constrain.

    The Kubernetes criteria (kinds, namespaces, names, labels, clusters) match only Kubernetes object
    changes: a Terraform resource never matches a selector that gives one.
    """

    types: frozenset[str] = frozenset()
    addresses: tuple[str, ...] = ()  # globs on the address (or the address before a move)
    tags: Mapping[str, str] = field(default_factory=dict)
    kube: KubeCriteria | None = None

    def match(self, change: ResourceChange) -> Match:
        if self.types and change.type not in self.types:
            return Match.NO
        if self.addresses and not any(
            fnmatchcase(address, pattern) for address in _addresses(change) for pattern in self.addresses
        ):
            return Match.NO
        kube = Match.YES if self.kube is None else self.kube.match(change)
        if kube is Match.NO or not self.tags:
            return kube
        tagged = tags_match(change, self.tags)
        return Match.UNKNOWN if tagged is Match.YES and kube is Match.UNKNOWN else tagged


@dataclass(frozen=True)
class KubeCriteria:
    """What selects Kubernetes objects: kinds (`Deployment`, any case, any API group), namespace globs, name
    globs, labels (metadata.labels before or after the change) and cluster-name globs. A namespace glob also
    selects the Namespace object of that name, whose deletion takes everything in it."""

    kinds: frozenset[str] = frozenset()  # lowercase
    namespaces: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    clusters: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        kinds: Iterable[str] = (),
        namespaces: Iterable[str] = (),
        names: Iterable[str] = (),
        labels: Mapping[str, str] | None = None,
        clusters: Iterable[str] = (),
    ) -> KubeCriteria | None:
        """The criteria, or None when none is given (a selector without Kubernetes criteria)."""
        criteria = cls(
            frozenset(k.lower() for k in kinds), tuple(namespaces), tuple(names), dict(labels or {}), tuple(clusters)
        )
        return criteria if criteria.given else None

    @property
    def given(self) -> bool:
        return bool(self.kinds or self.namespaces or self.names or self.labels or self.clusters)

    def match(self, change: ResourceChange) -> Match:
        """YES or NO; UNKNOWN when only a namespace criterion decides and the kind's scope is unknown."""
        target = change.cluster_object
        if target is None:
            return Match.NO
        ref = target.ref
        if self.kinds and ref.kind.lower() not in self.kinds:
            return Match.NO
        if self.clusters and not any(fnmatchcase(target.cluster, p) for p in self.clusters):
            return Match.NO
        if self.names and not any(fnmatchcase(ref.name, p) for p in self.names):
            return Match.NO
        if self.labels and not (_has_labels(change.before, self.labels) or _has_labels(change.after, self.labels)):
            return Match.NO
        if not self.namespaces:
            return Match.YES
        if ref.namespace is not None:
            return Match.YES if any(fnmatchcase(ref.namespace, p) for p in self.namespaces) else Match.NO
        if ref.group == "" and ref.kind == "Namespace":
            return Match.YES if any(fnmatchcase(ref.name, p) for p in self.namespaces) else Match.NO
        return Match.NO if target.scope_known else Match.UNKNOWN


def _addresses(change: ResourceChange) -> tuple[str, ...]:
    # A Kubernetes object's address without its cluster prefix matches too: `namespace/payments` is meant
    # on every cluster (the `clusters` criterion narrows it).
    target = change.cluster_object
    if target is None or target.ref.address in change.addresses:
        return change.addresses
    return (*change.addresses, target.ref.address)


def _has_labels(manifest: Any, wanted: Mapping[str, str]) -> bool:
    metadata = manifest.get("metadata") if isinstance(manifest, Mapping) else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return isinstance(labels, Mapping) and all(k in labels and str(labels[k]) == v for k, v in wanted.items())


def tags_match(change: ResourceChange, wanted: Mapping[str, str]) -> Match:
    """YES when the tags before or after the change carry every wanted key=value at one of the places its
    type keeps tags (TAG_LOCATIONS).

    A delete has only `before`; a create only `after`. Sensitive values are judged as they are (never
    shown). When neither side matches but one could, the answer is UNKNOWN (a value known only after
    apply) or HIDDEN (a sensitive value the plan leaves out): the caller must not treat it as "no".
    """
    locations = tag_locations(change.type)
    before = _side(change.unmasked_before, change.before_sensitive, None, wanted, locations)
    if before is Match.YES or change.after is None:
        return before
    after = _side(change.unmasked_after, change.after_sensitive, change.after_unknown, wanted, locations)
    if after is Match.YES or after.undecided:
        return after
    return before


def _side(
    values: Any, sensitive: Any, unknown: Any, wanted: Mapping[str, str], locations: tuple[TagLocation, ...]
) -> Match:
    if values is None:
        return Match.NO
    result = Match.NO
    for location in locations:
        found = _at(location, values, sensitive, unknown, wanted)
        if found is Match.YES:
            return found
        if result is Match.NO:
            result = found
    return result


def _at(location: TagLocation, values: Any, sensitive: Any, unknown: Any, wanted: Mapping[str, str]) -> Match:
    """Whether the tags at one location carry every wanted pair."""
    if mask_at(unknown, location.path):
        return Match.UNKNOWN
    entries = location.entries(values)
    if entries is None:
        return Match.HIDDEN if mask_within(sensitive, location.path) else Match.NO
    tags = {key: (value, path) for key, value, path in entries}
    result = Match.YES
    for key, expected in wanted.items():
        if key not in tags:
            # A map's keys are known with the map; a list of tag blocks may hide a key in an unknown block.
            could_appear = (
                mask_at(unknown, (*location.path, key))
                if location.shape is TagShape.MAP
                else mask_within(unknown, location.path)
            )
            if not could_appear:
                return Match.NO
            result = Match.UNKNOWN if result is Match.YES else result
            continue
        value, path = tags[key]
        if mask_at(unknown, path):
            found = Match.UNKNOWN
        elif (value is None or value == SENSITIVE_PLACEHOLDER) and mask_at(sensitive, path):
            found = Match.HIDDEN
        elif str(value) == expected:
            continue
        else:
            return Match.NO
        result = found if result is Match.YES else result
    return result


_UNDECIDED_WORDS = {
    Match.UNKNOWN: "its tags are known only after apply",
    Match.HIDDEN: "its tags are sensitive and the plan does not hold them",
}


def unknown_tags_finding(rule: str, change: ResourceChange, what: str, matched: Match = Match.UNKNOWN) -> Finding:
    """A change whose match depends on tags nobody can read yet (or, for a Kubernetes object of a kind
    nobody declared, on its unknown namespace): `what` it may be ("protected", "locked by ..."), `matched`
    why (UNKNOWN or HIDDEN). Soft and marked unknown: doubt asks a person, it never passes silently."""
    why = _UNDECIDED_WORDS[matched]
    if change.cluster_object is not None and not change.cluster_object.scope_known:
        why = "its kind is declared by no CustomResourceDefinition of the input, so its namespace is unknown"
    return Finding(
        rule,
        Enforcement.SOFT,
        change.address,
        f"{change.action.value} of a resource that may be {what}: {why}",
        unknown=True,
    )
