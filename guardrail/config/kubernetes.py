"""The `kubernetes:` section of guardrail.yaml: the Kubernetes gate's own rules.

Selecting Kubernetes objects for `protect:`, `critical:` and locks (kinds, namespaces, names, labels,
clusters) is part of the selector entries themselves; this section holds what only `guardrail kube` reads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Deleting data is never merely reported: the stateful rule is soft (a person approves) or hard.
AtLeastSoft = Literal["hard", "soft"]
EnforcementName = Literal["hard", "soft", "advisory"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KubeStatefulConfig(_Strict):
    """Deleting what holds data or takes data with it: a Namespace (everything in it), a
    CustomResourceDefinition (every custom resource of it), a PersistentVolume or PersistentVolumeClaim, a
    StatefulSet with volume claim templates."""

    enabled: bool = Field(True, description="Turn the rule off entirely.")
    enforcement: AtLeastSoft = Field("soft", description="soft (default: a person approves) or hard; never advisory.")


class DeprecatedApisConfig(_Strict):
    """Objects written in an API version that a target cluster's Kubernetes release no longer serves, or that it
    deprecates (kube-deprecated-api), judged against the live /version or --target-version. A cluster whose
    version is unknown is soft for a listed version whatever the weights: it cannot be told."""

    enabled: bool = Field(True, description="Turn the rule off entirely.")
    removed: AtLeastSoft = Field(
        "hard",
        description="An API version the target release no longer serves: hard (default: the API server "
        "would refuse it) or soft.",
    )
    deprecated: EnforcementName = Field(
        "advisory", description="An API version still served but deprecated: advisory (default), soft or hard."
    )


class ReachConfig(_Strict):
    """Per-node workloads (kube-node-reach): a DaemonSet that reaches more than `kubernetes.max_reach` nodes of
    one cluster in one step. The report's reach records are kept when the rule is off."""

    enabled: bool = Field(True, description="Turn the rule's findings off (the report still lists the reach).")
    enforcement: EnforcementName = Field(
        "soft",
        description="Weight of a DaemonSet beyond max_reach: soft (default: roll it out with guardrail "
        "rollout or have it approved), hard or advisory.",
    )


class ControlPlaneCostConfig(_Strict):
    """A DaemonSet whose service account may list or watch pods, nodes, endpoints, endpointslices, events,
    secrets or configmaps in every namespace (kube-control-plane-cost): API server load of nodes x objects."""

    enabled: bool = Field(True, description="Turn the rule off entirely.")
    enforcement: EnforcementName = Field(
        "soft", description="Weight of such a grant: soft (default), hard or advisory."
    )


class UnknownKindsConfig(_Strict):
    """Objects of a kind that neither Kubernetes nor a CustomResourceDefinition of the input declares: offline
    their scope (namespaced or not) and whether the cluster serves them cannot be known."""

    enforcement: EnforcementName = Field(
        "advisory", description="Weight of the one finding per unknown kind (default advisory: reported)."
    )


class KubernetesSettings(_Strict):
    """`kubernetes:` in guardrail.yaml."""

    default_namespace: str = Field(
        "default",
        min_length=1,
        description="Namespace of a namespaced object that names none, when no context says otherwise.",
    )
    max_reach: int = Field(
        100,
        ge=1,
        description="A per-node workload (a DaemonSet) reaching more nodes than this on one cluster in one step "
        "is a soft finding of the reach rule: roll it out with guardrail rollout instead.",
    )
    stateful: KubeStatefulConfig = Field(default_factory=KubeStatefulConfig)  # type: ignore[arg-type]
    unknown_kinds: UnknownKindsConfig = Field(default_factory=UnknownKindsConfig)  # type: ignore[arg-type]
    deprecated_apis: DeprecatedApisConfig = Field(default_factory=DeprecatedApisConfig)  # type: ignore[arg-type]
    reach: ReachConfig = Field(default_factory=ReachConfig)  # type: ignore[arg-type]
    control_plane_cost: ControlPlaneCostConfig = Field(
        default_factory=ControlPlaneCostConfig  # type: ignore[arg-type]
    )
