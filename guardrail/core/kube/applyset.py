"""ApplySets (kubectl's pruning specification, KEP-3659): which live objects belong to a set of manifests.

An object is a member of a set when it carries the label `applyset.kubernetes.io/part-of=<id>`; the id is
derived from the set's parent object (`applyset-<base64url(sha256(name.namespace.kind.group))>-v1`), which
carries `applyset.kubernetes.io/id=<id>` and may list the set's kinds and extra namespaces as hints. With
`--prune`, a live member that is no longer among the manifests becomes a delete. Pure: the service lists
the live objects, this module decides which of them are members and which are gone from the input.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.errors import BadInputError
from guardrail.core.kube.objects import ObjectRef, split_api_version

PART_OF_LABEL = "applyset.kubernetes.io/part-of"
ID_LABEL = "applyset.kubernetes.io/id"
# Parent hints: `Deployment.apps,Namespace,Secret` and `ns1,ns2` (comma-separated, sorted).
CONTAINS_GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
ADDITIONAL_NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"
# The built-in kinds the specification allows as parents (custom resources may be too, when their CRD
# says so; guardrail does not look for those).
PARENT_KINDS: tuple[tuple[str, str], ...] = (("v1", "Secret"), ("v1", "ConfigMap"))


def applyset_id(*, name: str, namespace: str | None, kind: str, group: str) -> str:
    """The id of the set whose parent is this object (cluster-scoped parents have an empty namespace)."""
    digest = hashlib.sha256(f"{name}.{namespace or ''}.{kind}.{group}".encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}-v1"


def part_of(manifest: Mapping[str, Any]) -> str | None:
    """The set an object says it belongs to, or None."""
    labels = _metadata(manifest).get("labels")
    value = labels.get(PART_OF_LABEL) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) and value else None


def declared_applyset(inputs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The one set the input objects (source, manifest) declare with their part-of label.

    Raises BadInputError when none declares one (there is nothing to prune against) or when two objects
    name different sets (one run prunes one set), naming the sources.
    """
    seen: dict[str, str] = {}
    for source, manifest in inputs:
        found = part_of(manifest)
        if found is not None:
            seen.setdefault(found, source)
    if not seen:
        raise BadInputError(f"--prune: no object carries the {PART_OF_LABEL} label, so no set can be pruned")
    if len(seen) > 1:
        listed = ", ".join(f"{set_id} ({source})" for set_id, source in sorted(seen.items()))
        raise BadInputError(f"--prune: the objects belong to different sets: {listed}")
    return next(iter(seen))


def is_parent_of(parent: Mapping[str, Any], set_id: str) -> bool:
    """Whether `parent` is the set's parent: it carries the id label, and the id is the one its name,
    namespace, kind and group produce (the specification's guard against a borrowed id)."""
    labels = _metadata(parent).get("labels")
    if not isinstance(labels, Mapping) or labels.get(ID_LABEL) != set_id:
        return False
    try:
        ref = ObjectRef.of(parent)
    except BadInputError:
        return False
    return applyset_id(name=ref.name, namespace=ref.namespace, kind=ref.kind, group=ref.group) == set_id


@dataclass(frozen=True)
class ApplySetScope:
    """Where a set's members may be: its kinds, as (group, kind), and its namespaces."""

    set_id: str
    group_kinds: frozenset[tuple[str, str]]
    namespaces: frozenset[str]


def scope_of(
    set_id: str, manifests: Iterable[Mapping[str, Any]], parent: Mapping[str, Any] | None = None
) -> ApplySetScope:
    """The kinds and namespaces to search for members: those of the input objects, widened by the live
    parent's hints (a kind that left the input entirely is still searched for, as kubectl does)."""
    kinds: set[tuple[str, str]] = set()
    namespaces: set[str] = set()
    for manifest in manifests:
        kind = manifest.get("kind")
        if isinstance(kind, str):
            kinds.add((split_api_version(str(manifest.get("apiVersion", "")))[0], kind))
        namespace = _metadata(manifest).get("namespace")
        if isinstance(namespace, str) and namespace:
            namespaces.add(namespace)
    if parent is not None:
        kinds |= parse_group_kinds(_annotation(parent, CONTAINS_GROUP_KINDS_ANNOTATION))
        namespaces |= {ns.strip() for ns in _annotation(parent, ADDITIONAL_NAMESPACES_ANNOTATION).split(",")}
        parent_namespace = _metadata(parent).get("namespace")
        if isinstance(parent_namespace, str):
            namespaces.add(parent_namespace)
    namespaces.discard("")
    return ApplySetScope(set_id, frozenset(kinds), frozenset(namespaces))


def parse_group_kinds(text: str) -> frozenset[tuple[str, str]]:
    """`Deployment.apps,Namespace` -> {("apps", "Deployment"), ("", "Namespace")}."""
    found: set[tuple[str, str]] = set()
    for item in text.split(","):
        kind, _, group = item.strip().partition(".")
        if kind:
            found.add((group, kind))
    return frozenset(found)


def pruned(live: Iterable[Mapping[str, Any]], set_id: str, keep: Iterable[ObjectRef]) -> list[Mapping[str, Any]]:
    """The live members of the set that are not among `keep` (the input's objects): what --prune deletes.

    Only objects that carry the set's label count, whatever the listing returned.
    """
    kept = set(keep)
    return [obj for obj in live if part_of(obj) == set_id and ObjectRef.of(obj) not in kept]


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _annotation(obj: Mapping[str, Any], key: str) -> str:
    annotations = _metadata(obj).get("annotations")
    value = annotations.get(key) if isinstance(annotations, Mapping) else None
    return value if isinstance(value, str) else ""
