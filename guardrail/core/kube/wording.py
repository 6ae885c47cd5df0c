"""Phrases the Kubernetes rules share, so that every finding names clusters and counts the same way."""

from __future__ import annotations

from collections.abc import Sequence

from guardrail.core.kube.change import OFFLINE_CLUSTER, ClusterView
from guardrail.core.rules.k8s_upgrade import parse_version


def cluster_phrase(cluster: str) -> str:
    """`cluster prod`, or `the target cluster` for the one cluster of an offline check."""
    return "the target cluster" if cluster == OFFLINE_CLUSTER else f"cluster {cluster}"


def minor_version(view: ClusterView | None) -> tuple[int, int] | None:
    """(major, minor) of the version a cluster will run, or None when it is unknown or not a version."""
    if view is None or view.version is None:
        return None
    parsed = parse_version(view.version)
    return None if parsed is None else (parsed[0], parsed[1])


def plural(count: int, noun: str) -> str:
    """`1 node`, `5,000 nodes`."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def forbidden_listing(types: Sequence[str]) -> str:
    """`listing pod, deployment.apps is forbidden`: why objects of these resource types are unknown."""
    return f"listing {', '.join(types)} is forbidden"
