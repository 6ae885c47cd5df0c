"""From the documents of an input to the objects a change will apply, as kubectl would send them.

Every document must be a whole object (apiVersion, kind, metadata.name). A namespaced kind that omits its
namespace goes to the default one (`default` offline, as kubectl without a context namespace); a
cluster-scoped kind keeps none (the API server ignores one written on it). A kind nobody declared keeps what
it wrote, and its scope is marked unknown. Two documents for the same object are refused: which one would
win depends on the order kubectl happens to apply them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardrail.core.errors import BadInputError
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.scopes import Scopes

DEFAULT_NAMESPACE = "default"

# The manifest path that means standard input, as kubectl spells it.
STDIN = "-"


@dataclass(frozen=True, slots=True)
class ManifestDocument:
    """One object of the input as written, and where it was: a file (`-` for standard input, `DIR
    (kustomize)` for a rendered kustomization), the document's index in it (from 0) and, for the items of a
    `kind: List`, the item's position."""

    manifest: Mapping[str, Any]
    file: str
    index: int
    item: int | None = None

    @property
    def source(self) -> str:
        """`deploy.yaml#2`, or `roles.yaml#0.items[3]` for an item of a List."""
        return f"{self.file}#{self.index}" + (f".items[{self.item}]" if self.item is not None else "")

    @property
    def where(self) -> str:
        """The same in words, for an error message: `deploy.yaml: document 2`."""
        return f"{self.file}: document {self.index}" + (f", items[{self.item}]" if self.item is not None else "")


@dataclass(frozen=True, slots=True)
class RenderedObject:
    """One object as a change will apply it. `manifest` holds Secret values in clear: it feeds the
    fingerprint and the custom policies, never an output (KubeChange carries the masked copy)."""

    ref: ObjectRef
    api_version: str
    manifest: Mapping[str, Any]  # namespace defaulted, or dropped for a cluster-scoped kind
    written: Mapping[str, Any]  # as the input wrote it: what a conftest policy sees
    source: str
    scope_known: bool = True
    where: str = ""  # the source in words, for messages: `deploy.yaml: document 2`

    @property
    def named_namespace(self) -> bool:
        """Whether the input wrote a namespace: one that did not goes to the target context's namespace."""
        metadata = self.written.get("metadata")
        return isinstance(metadata, Mapping) and bool(metadata.get("namespace"))


def render_objects(
    documents: Sequence[ManifestDocument], *, default_namespace: str = DEFAULT_NAMESPACE
) -> tuple[RenderedObject, ...]:
    """The objects of `documents`, in input order, with scopes from the built-in table and the input's CRDs.

    Raises BadInputError naming the file and document of an incomplete object or of one given twice.
    """
    scopes = Scopes.with_crds(doc.manifest for doc in documents)
    rendered: list[RenderedObject] = []
    first_seen: dict[ObjectRef, ManifestDocument] = {}
    for doc in documents:
        try:
            ref = ObjectRef.of(doc.manifest)
        except BadInputError as exc:
            raise BadInputError(f"{doc.where}: {exc}") from None
        namespaced = scopes.namespaced(ref.group, ref.kind)
        manifest = doc.manifest
        if namespaced is True and ref.namespace is None:
            ref = ref.in_namespace(default_namespace)
            manifest = with_namespace(manifest, default_namespace)
        elif namespaced is False and ref.namespace is not None:
            ref = ref.in_namespace(None)
            manifest = with_namespace(manifest, None)
        earlier = first_seen.setdefault(ref, doc)
        if earlier is not doc:
            raise BadInputError(f"{doc.where}: {ref.address} is defined twice (also at {earlier.where})")
        api_version = str(doc.manifest["apiVersion"])
        known = namespaced is not None
        rendered.append(RenderedObject(ref, api_version, manifest, doc.manifest, doc.source, known, doc.where))
    return tuple(rendered)


def with_namespace(manifest: Mapping[str, Any], namespace: str | None) -> Mapping[str, Any]:
    """The manifest placed in `namespace` (None: in none, as a cluster-scoped object), the same object when
    it already is."""
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("namespace") == namespace:
        return manifest
    placed = {key: value for key, value in metadata.items() if key != "namespace"}
    if namespace is not None:
        placed["namespace"] = namespace
    return {**manifest, "metadata": placed}
