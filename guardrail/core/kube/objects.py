"""Kubernetes objects and their addresses: kubectl's `TYPE.GROUP/NAME`, with the namespace between.

`daemonset.apps/kube-system/telemetry-agent`, `namespace/payments`,
`clusterrole.rbac.authorization.k8s.io/reader`. The core group has no suffix; a namespaced object has
three parts, a cluster-scoped one two. This module is the one place that spells and parses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guardrail.core.errors import BadInputError

# kubectl's client-side apply keeps the whole applied manifest here, apiVersion and a Secret's values
# included; `kubectl patch` and server-side apply leave it out of date or never write it.
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


def field_at(manifest: Any, *keys: str) -> Any:
    """The value at `keys` in a manifest (`field_at(pod, "spec", "nodeName")`), None where a step is
    missing or not a mapping: manifests are user input, any field may be absent or of the wrong shape."""
    value = manifest
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def mapping_at(manifest: Any, *keys: str) -> Mapping[str, Any]:
    """The mapping at `keys` in a manifest, empty where it is missing or not a mapping."""
    value = field_at(manifest, *keys)
    return value if isinstance(value, Mapping) else {}


def split_api_version(api_version: str) -> tuple[str, str]:
    """(group, version): `apps/v1` -> ("apps", "v1"), `v1` -> ("", "v1")."""
    group, sep, version = api_version.rpartition("/")
    return (group, version) if sep else ("", api_version)


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """Which object: its kind in an API group, and its namespace (None when cluster-scoped) and name.

    The version is not part of an object's identity: `apps/v1` and `extensions/v1beta1` DaemonSets of
    the same name are one object served twice, so refs compare on group, kind, namespace and name.
    """

    group: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ObjectRef:
        """The ref of a manifest (apiVersion, kind, metadata.name and .namespace as written).

        Raises BadInputError when apiVersion, kind or metadata.name is missing or not a string.
        """
        api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
        metadata = manifest.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        missing = [
            field
            for field, value in (("apiVersion", api_version), ("kind", kind), ("metadata.name", name))
            if not isinstance(value, str) or not value
        ]
        if missing:
            raise BadInputError(f"object without {', '.join(missing)}")
        if namespace is not None and not isinstance(namespace, str):
            raise BadInputError(f"{kind} {name}: metadata.namespace is not a string")
        group, _ = split_api_version(str(api_version))
        return cls(group, str(kind), namespace or None, str(name))

    @property
    def type(self) -> str:
        """kubectl's resource type: the lowercase kind, with the group after a dot unless it is core."""
        kind = self.kind.lower()
        return f"{kind}.{self.group}" if self.group else kind

    @property
    def address(self) -> str:
        """`TYPE.GROUP/NAMESPACE/NAME`, or `TYPE.GROUP/NAME` for a cluster-scoped object."""
        if self.namespace:
            return f"{self.type}/{self.namespace}/{self.name}"
        return f"{self.type}/{self.name}"

    def in_namespace(self, namespace: str | None) -> ObjectRef:
        """The same object placed in `namespace` (kubectl's default namespace for objects that omit it)."""
        return ObjectRef(self.group, self.kind, namespace or None, self.name)

    def __str__(self) -> str:
        return self.address


def parse_address(text: str) -> tuple[str, str | None, str]:
    """(type, namespace or None, name) of an address. Raises BadInputError naming the text otherwise.

    The type keeps kubectl's spelling (`daemonset.apps`): the kind's case is not recoverable from it, so
    callers match types by `ObjectRef.type`, never by rebuilding a ref.
    """
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadInputError(
            f"address {text!r}: expected TYPE[.GROUP]/[NAMESPACE/]NAME, e.g. daemonset.apps/kube-system/agent"
        )
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class ClusterObject:
    """A Kubernetes object on one target cluster: what the Kubernetes criteria of `protect:`, `critical:` and
    locks (kinds, namespaces, names, labels, clusters) match a change against.

    `scope_known` is False for a kind that neither Kubernetes nor a CustomResourceDefinition of the input
    declares: whether it lives in a namespace is then unknown, and so is a namespace criterion's answer.
    `changed_paths` are the fields an update changes against the live object (`data.level`).
    """

    cluster: str
    ref: ObjectRef
    scope_known: bool = True
    changed_paths: tuple[str, ...] = ()
