"""Irreversible and impossible upgrades of managed Kubernetes control planes and node pools.

Managed control planes (AKS, GKE, EKS) upgrade one minor version at a time and never downgrade: a minor
upgrade is a one-way door (soft), a downgrade or a skipped minor cannot be applied (hard).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.policy import register_rule
from guardrail.core.sensitive_reading import read_attribute
from guardrail.core.values import Unknown
from guardrail.core.verdict import Enforcement, Finding

K8S_UPGRADE = register_rule("k8s-upgrade", "A Kubernetes version change that is irreversible or cannot be applied.")

# (resource type, path of the version attribute, what it versions)
VERSIONED: tuple[tuple[str, tuple[str | int, ...], str], ...] = (
    ("azurerm_kubernetes_cluster", ("kubernetes_version",), "control plane"),
    ("azurerm_kubernetes_cluster", ("default_node_pool", 0, "orchestrator_version"), "default node pool"),
    ("azurerm_kubernetes_cluster_node_pool", ("orchestrator_version",), "node pool"),
    ("google_container_cluster", ("min_master_version",), "control plane"),
    ("google_container_cluster", ("node_version",), "default node pool"),
    ("google_container_node_pool", ("version",), "node pool"),
    ("aws_eks_cluster", ("version",), "control plane"),
    ("aws_eks_node_group", ("version",), "node group"),
)
_TYPES = frozenset(t for t, _, _ in VERSIONED)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: object) -> tuple[int, int, int | None] | None:
    """(major, minor, patch) from "1.29", "v1.29.3", "1.29.3-gke.1200"; None when it is no version."""
    if not isinstance(text, str):
        return None
    found = _VERSION.match(text.strip())
    if not found:
        return None
    major, minor, patch = found.groups()
    return int(major), int(minor), int(patch) if patch is not None else None


@dataclass(frozen=True)
class KubernetesUpgradeRule:
    id: str = K8S_UPGRADE

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        for change in changeset.changes:
            if change.type in _TYPES and change.action in (Action.UPDATE, Action.REPLACE):
                yield from self._check(change)

    def _check(self, change: ResourceChange) -> Iterator[Finding]:
        for resource_type, path, what in VERSIONED:
            if resource_type != change.type:
                continue
            # Versions set from a sensitive value are judged as they are and shown as the placeholder.
            version = read_attribute(change, path)
            before, after = version.before, version.after
            if isinstance(after, Unknown):
                if before is not None:
                    yield self._undecided(
                        change, f"{what} version changes from {version.shown_before} to a value known only after apply"
                    )
                continue
            if version.unreadable:
                yield self._undecided(change, f"{what} version is sensitive and the plan does not hold it")
                continue
            if after is None or before == after:
                continue
            message = self._judge(what, before, after, (version.shown_before, version.shown_after))
            if message:
                yield Finding(self.id, message[0], change.address, message[1])

    def _undecided(self, change: ResourceChange, why: str) -> Finding:
        return Finding(
            self.id,
            Enforcement.SOFT,
            change.address,
            f"{why}: cannot tell whether it is a supported upgrade",
            unknown=True,
        )

    @staticmethod
    def _judge(
        what: str, before: object, after: object, shown: tuple[object, object]
    ) -> tuple[Enforcement, str] | None:
        """The weight and words of a version change `before` -> `after`, whose versions read as `shown`."""
        old, new = parse_version(before), parse_version(after)
        change = f"{shown[0]} -> {shown[1]}"
        if new is None:
            return None  # e.g. an alias such as "latest": nothing to compare
        if old is None:
            return (
                Enforcement.SOFT,
                f"{what} version set to {shown[1]}; the current version is not recorded in the plan, so an "
                "impossible downgrade cannot be ruled out",
            )
        if new[:2] < old[:2] or (new[:2] == old[:2] and None not in (old[2], new[2]) and new < old):
            return (Enforcement.HARD, f"{what} downgrade {change}: managed Kubernetes cannot be downgraded")
        if new[0] != old[0] or new[1] - old[1] > 1:
            return (
                Enforcement.HARD,
                f"{what} upgrade {change} skips minor versions: managed Kubernetes upgrades one minor version "
                "at a time",
            )
        if new[1] == old[1] + 1:
            return (
                Enforcement.SOFT,
                f"{what} minor upgrade {change} is irreversible: managed control planes do not allow a downgrade",
            )
        return (Enforcement.ADVISORY, f"{what} patch upgrade {change}")
