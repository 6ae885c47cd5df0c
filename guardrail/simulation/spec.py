"""What a simulated fleet is: its clusters and the truth of the workload (the calls each pod makes and
what a request costs). Built from a fleet file by the wiring; the engine never sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One API call each pod of the workload makes, every `every_seconds`."""

    verb: str  # list | get
    resource: str  # pods, nodes, services, endpoints, configmaps, namespaces
    scope: str  # cluster: every object of the cluster | node: those of the pod's own node
    every_seconds: float


@dataclass(frozen=True, slots=True)
class CostSpec:
    """Seat time of a request = request_ms + per_object_ms * objects returned."""

    request_ms: float
    per_object_ms: float


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    name: str
    nodes: int
    pods_per_node: int
    seats: int  # requests the API servers can execute at once
    baseline: float  # share of seats busy before the change
    dns_cache_ttl_seconds: float  # node DNS answers survive this long after the API server stops serving


@dataclass(frozen=True, slots=True)
class FleetSpec:
    clusters: tuple[ClusterSpec, ...]
    calls: tuple[CallSpec, ...]
    cost: CostSpec
    seed: int = 1
