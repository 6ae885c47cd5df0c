"""Which nodes a pool is: a label selector, or a pool's bare name.

`agentpool=gpu-a100`, `cloud.google.com/gke-nodepool=gpu`, `eks.amazonaws.com/nodegroup=gpu`, or any
Kubernetes label selector (`a=b,c!=d,e in (f,g),!h`). A bare name (`gpu-a100`) is the pool of that name on
any of the managed services: the nodes whose pool label, whichever it is, carries it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import NodeInfo
from guardrail.core.kube.labels import LabelSelector

# The label each managed service puts the node pool's name in (AKS, newer AKS, GKE, EKS).
POOL_LABELS = (
    "agentpool",
    "kubernetes.azure.com/agentpool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
)
_BARE_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class PoolSelector:
    """The nodes of a pool: `name` for a bare pool name, else `selector`. `text` is what the user wrote."""

    text: str
    selector: LabelSelector | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> PoolSelector:
        """A bare pool name or a label selector. Raises BadInputError when it is neither."""
        stripped = text.strip()
        if not stripped:
            raise BadInputError("pool: empty (give a pool name, or a label selector such as agentpool=gpu)")
        if _BARE_NAME.match(stripped):
            return cls(stripped, None, stripped)
        return cls(stripped, LabelSelector.parse(stripped))

    @property
    def label_selector(self) -> str | None:
        """The selector to ask the API server with; None for a bare name (list the nodes, then match)."""
        return None if self.selector is None else self.selector.text

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a node with these labels belongs to the pool."""
        if self.selector is not None:
            return self.selector.matches(labels)
        get, name = labels.get, self.name  # spelled out: this runs for every node of the pool at every step
        return (
            get(POOL_LABELS[0]) == name
            or get(POOL_LABELS[1]) == name
            or get(POOL_LABELS[2]) == name
            or (get(POOL_LABELS[3]) == name)
        )

    def select(self, nodes: Iterable[NodeInfo]) -> list[NodeInfo]:
        """The pool's nodes among `nodes`, in the order given."""
        return [node for node in nodes if self.matches(node.labels)]
