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
