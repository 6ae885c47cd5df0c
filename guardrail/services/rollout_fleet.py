"""A real rollout's fleet: the fleet file's clusters (kubeconfig contexts and per-cluster values) and the
manifests given as PATH..., rendered per cluster, connected through the wiring.

What a process needs to take a run over (resume after a crash, abort from another terminal) is kept in
the run's state as `fleet`: the paths, each cluster's context, kubeconfig, Prometheus and values, the
rollout settings in force at the start, and a digest of the rendered manifests. The manifests themselves
are not stored (a Secret among them would sit in the store in clear): they are rendered again on resume,
and a digest that no longer matches refuses to go on with objects other than those the run started with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrail.config import Settings
from guardrail.config.fleet import FleetFile, load_fleet
from guardrail.config.rollout import RolloutSettings
from guardrail.core.audit import canonical_json
from guardrail.core.clock import Clock
from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import Cluster
from guardrail.core.rollout.policy import RolloutPolicy
from guardrail.core.rollout.promql import PromqlSource
from guardrail.core.runs import StoreWithRuns
from guardrail.services import wiring
from guardrail.services.rollout import Rollout
from guardrail.services.rollout_act import ClusterTarget
from guardrail.services.rollout_approvals import StoredApprovals
from guardrail.services.store import signature_verifier


@dataclass(frozen=True)
class FleetCluster:
    """One cluster of a real rollout: how to reach it and what its templates are rendered with."""

    name: str
    context: str
    kubeconfig: str | None
    prometheus_url: str | None
    dns_cache_ttl_seconds: float
    values: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "context": self.context,
            "kubeconfig": self.kubeconfig,
            "prometheus_url": self.prometheus_url,
            "dns_cache_ttl_seconds": self.dns_cache_ttl_seconds,
            "values": dict(self.values),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FleetCluster:
        return cls(
            str(data["name"]),
            str(data["context"]),
            data["kubeconfig"],
            data["prometheus_url"],
            float(data["dns_cache_ttl_seconds"]),
            dict(data["values"]),
        )


@dataclass(frozen=True)
class Fleet:
    """Everything a real rollout is made of, as kept in its run (see the module's docstring)."""

    source: str  # the fleet file, as given
    paths: tuple[str, ...]  # the manifests, absolute
    clusters: tuple[FleetCluster, ...]
    rollout: RolloutSettings
    digest: str = ""  # of the manifests rendered for every cluster

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "paths": list(self.paths),
            "clusters": [c.to_json() for c in self.clusters],
            "rollout": self.rollout.model_dump(mode="json"),
            "digest": self.digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fleet:
        """The fleet a run keeps. Raises BadInputError for a run that keeps none (a rehearsal's)."""
        try:
            return cls(
                str(data["source"]),
                tuple(str(p) for p in data["paths"]),
                tuple(FleetCluster.from_json(c) for c in data["clusters"]),
                RolloutSettings.model_validate(data["rollout"]),
                str(data["digest"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(f"the run keeps no fleet a process can reconnect to ({exc})") from None


def load(paths: Sequence[Path], fleet_path: Path, settings: Settings) -> Fleet:
    """The fleet of `fleet_path` with the manifests of `paths`. The fleet file's `rollout:` keys override
    guardrail.yaml's for this fleet. Raises ConfigError for a bad fleet file (with file and line),
    BadInputError for no PATH or a PATH that does not exist."""
    if not paths:
        raise BadInputError("rollout: give the manifests to roll out (PATH...)")
    for path in paths:
        if not path.exists():
            raise BadInputError(f"{path}: no such manifest file or folder")
    fleet_file = load_fleet(fleet_path, FleetFile)
    overrides = fleet_file.rollout.model_dump(exclude_unset=True)
    rollout = RolloutSettings.model_validate({**settings.rollout.model_dump(), **overrides})
    clusters = tuple(
        FleetCluster(
            c.name,
            c.context_name,
            fleet_file.kubeconfig_of(c),
            c.prometheus_url or rollout.prometheus_url,
            fleet_file.dns_cache_ttl_seconds(c, rollout),
            fleet_file.values_of(c),
        )
        for c in fleet_file.clusters
    )
    if rollout.promql_gates:
        missing = [c.name for c in clusters if c.prometheus_url is None]
        if missing:
            raise BadInputError(
                f"{fleet_path}: rollout.promql_gates need a Prometheus: set rollout.prometheus_url or "
                f"prometheus_url of {', '.join(missing)}"
            )
    fleet = Fleet(str(fleet_path), tuple(str(p.resolve()) for p in paths), clusters, rollout)
    return Fleet(fleet.source, fleet.paths, fleet.clusters, fleet.rollout, digest(render(fleet)))


def render(fleet: Fleet) -> dict[str, list[dict[str, Any]]]:
    """Each cluster's manifests, templates rendered with its values. Raises BadInputError naming the file
    and cluster for a template that does not render."""
    paths = [Path(p) for p in fleet.paths]
    return {c.name: wiring.render_manifests(paths, c.values, c.name) for c in fleet.clusters}


def digest(manifests: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """A digest of every cluster's rendered manifests (Secret values included: another secret is another
    rollout; the digest shows nothing of them)."""
    return hashlib.sha256(canonical_json({k: list(v) for k, v in manifests.items()}).encode()).hexdigest()


@contextmanager
def connected(fleet: Fleet) -> Iterator[dict[str, Cluster]]:
    """Every cluster of the fleet, by name (their contexts resolved now, nothing asked yet), closed after.
    Raises BadInputError naming the context and files when a kubeconfig or context is missing."""
    with wiring.clusters([(c.name, c.context, c.kubeconfig) for c in fleet.clusters]) as clusters:
        yield clusters


def target(cluster: Cluster, manifests: Sequence[Mapping[str, Any]], policy: RolloutPolicy) -> ClusterTarget:
    """What goes on one cluster. Raises BadInputError unless the manifests hold exactly one DaemonSet."""
    return ClusterTarget.of(cluster, manifests, policy)


def rollout_of(
    fleet: Fleet,
    clusters: Mapping[str, Cluster],
    manifests: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    store: StoreWithRuns,
    settings: Settings,
    actor: str,
    clock: Clock,
) -> Rollout:
    """The rollout of `fleet` over connected clusters, with its approvals and PromQL sources."""
    policy = fleet.rollout.policy()
    parse_apiserver, parse_dns = wiring.rollout_metrics_parsers()
    timeout = fleet.rollout.prometheus_timeout_seconds()
    prometheus: dict[str, PromqlSource] = {
        c.name: wiring.prometheus(c.prometheus_url, timeout=timeout)
        for c in fleet.clusters
        if c.prometheus_url and policy.gates.promql
    }
    return Rollout(
        targets={name: ClusterTarget.of(cluster, manifests[name], policy) for name, cluster in clusters.items()},
        policy=policy,
        clock=clock,
        store=store,
        actor=actor,
        parse_apiserver=parse_apiserver,
        parse_dns=parse_dns,
        dns_cache_ttl={c.name: c.dns_cache_ttl_seconds for c in fleet.clusters},
        approvals=StoredApprovals(store, settings.approvals.policy(), signature_verifier(settings)),
        prometheus=prometheus,
    )
