"""The Kubernetes parts of the human reports (text and markdown): each target cluster, and the reach of the
per-node workloads, widest first. Plain strings of names (never scrubbed: names are not secrets), made
inert; each format lays them out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardrail.adapters.render.common import neutralise
from guardrail.core.kube.report import ClusterSummary, KubeReport

MAX_REACH_SHOWN = 10


@dataclass(frozen=True)
class KubeSection:
    clusters: tuple[str, ...]  # one line per cluster
    reach: tuple[str, ...]  # one line per workload, widest first
    reach_hidden: int  # reach records not shown (all are in the json output)


def kube_section(kube: KubeReport | None, name: Callable[[str], str]) -> KubeSection | None:
    """The section of a Kubernetes report; None for a Terraform plan."""
    if kube is None:
        return None
    clusters = tuple(neutralise(name(cluster_line(c))) for c in kube.clusters)
    ordered = sorted(kube.reach, key=lambda r: (-(r.nodes if r.nodes is not None else -1), r.address))
    lines = []
    for record in ordered[:MAX_REACH_SHOWN]:
        where = f" on {record.cluster}" if len(kube.clusters) > 1 else ""
        if record.nodes is None:
            reach = "nodes unknown (no node inventory: give --nodes or a context)"
        else:
            reach = f"{record.nodes:,} of {record.total or 0:,} nodes"
        lines.append(neutralise(name(f"{record.address}: {reach}{where}")))
    return KubeSection(clusters, tuple(lines), max(len(ordered) - MAX_REACH_SHOWN, 0))


def cluster_line(cluster: ClusterSummary) -> str:
    """`offline: Kubernetes 1.33, 5,000 nodes, diff offline: 12 create, 1 delete`."""
    version = f"Kubernetes {cluster.version}" if cluster.version else "version unknown"
    nodes = (
        f"{cluster.nodes:,} node{'' if cluster.nodes == 1 else 's'}" if cluster.nodes is not None else "nodes unknown"
    )
    counts = ", ".join(f"{n:,} {action}" for action, n in cluster.summary.items() if n) or "no changes"
    return f"{cluster.name}: {version}, {nodes}, diff {cluster.diff_source.value}: {counts}"
