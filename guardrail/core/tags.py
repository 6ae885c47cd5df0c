"""Where resources keep their tags and labels, provider by provider: the one table that selectors by tag read.

A selector's `tags: {env: prod}` means "carries env=prod", whatever the provider calls the attribute and
however deep it sits. Each location names its path in the resource's values and, when only one provider
puts tags there, the resource types it applies to (a GKE-only path must not make an AWS change undecided).
Kubernetes objects in manifests add `("metadata", "labels")` as one more row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from guardrail.core.values import Path, get_path


class TagShape(Enum):
    """How the tags at a location are written."""

    MAP = "map"  # {"env": "prod"}
    KEY_VALUE_BLOCKS = "key-value blocks"  # [{"key": "env", "value": "prod", ...}]


@dataclass(frozen=True, slots=True)
class TagLocation:
    """One place tags or labels live: a path in a resource's values, for the resource types it applies to."""

    path: tuple[str | int, ...]
    type_prefixes: tuple[str, ...] = ()  # empty: every resource type
    shape: TagShape = TagShape.MAP
    note: str = ""  # which providers and resources keep their tags here

    def applies_to(self, resource_type: str) -> bool:
        return not self.type_prefixes or resource_type.startswith(self.type_prefixes)

    def entries(self, values: Any) -> Iterator[tuple[str, Any, Path]] | None:
        """Each tag here as (key, value, path of the value); None when `values` holds nothing at the path."""
        found = get_path(values, self.path)
        if self.shape is TagShape.MAP:
            if not isinstance(found, dict):
                return None
            return ((str(key), value, (*self.path, key)) for key, value in found.items())
        if not isinstance(found, list):
            return None
        return (
            (str(block["key"]), block.get("value"), (*self.path, index, "value"))
            for index, block in enumerate(found)
            if isinstance(block, dict) and block.get("key") is not None
        )


TAG_LOCATIONS: tuple[TagLocation, ...] = (
    TagLocation(("tags",), note="AWS, Azure, Alibaba Cloud and most other providers"),
    TagLocation(("tags_all",), note="AWS: the resource's tags merged with the provider's default_tags"),
    TagLocation(("labels",), note="Google Cloud, Hetzner; the Kubernetes labels of EKS node groups"),
    TagLocation(
        ("effective_labels",), ("google_",), note="Google provider 5+: every label on the resource, default_labels too"
    ),
    TagLocation(
        ("terraform_labels",), ("google_",), note="Google provider 5+: labels and the provider's default_labels"
    ),
    TagLocation(("resource_labels",), ("google_",), note="GKE clusters: the GCE labels of the cluster"),
    TagLocation(("node_config", 0, "resource_labels"), ("google_",), note="GKE node pools: labels of the node VMs"),
    TagLocation(("metadata", 0, "labels"), ("kubernetes_",), note="Kubernetes provider: metadata is a list block"),
    TagLocation(("manifest", "metadata", "labels"), ("kubernetes_manifest",), note="Kubernetes provider manifests"),
    TagLocation(
        ("tag",),
        ("aws_autoscaling_group",),
        TagShape.KEY_VALUE_BLOCKS,
        note="AWS auto scaling groups: `tag` blocks of key, value and propagate_at_launch",
    ),
    TagLocation(("freeform_tags",), ("oci_",), note="Oracle Cloud: free-form tags"),
    TagLocation(("defined_tags",), ("oci_",), note='Oracle Cloud: defined tags, keyed "Namespace.Key"'),
)


@cache
def tag_locations(resource_type: str, table: tuple[TagLocation, ...] = TAG_LOCATIONS) -> tuple[TagLocation, ...]:
    """The locations of TAG_LOCATIONS (or `table`) that apply to `resource_type`."""
    return tuple(location for location in table if location.applies_to(resource_type))
