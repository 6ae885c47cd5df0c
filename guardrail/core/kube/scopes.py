"""Which kinds live in a namespace: the built-in API's table, and the CustomResourceDefinitions of an input.

kubectl learns a kind's scope from the API server's discovery. Offline there is none, so the gate keeps the
scope of every kind Kubernetes serves itself (1.16 to today, removed kinds included: an old manifest must
still get the right address) and reads the scope of custom kinds from the CRDs in the same input. Any other
kind's scope is unknown; see `Scopes.namespaced`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.kube.objects import split_api_version

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"

_NAMESPACED: Mapping[str, tuple[str, ...]] = {
    "": (
        "Binding",
        "ConfigMap",
        "Endpoints",
        "Event",
        "LimitRange",
        "PersistentVolumeClaim",
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "ResourceQuota",
        "Secret",
        "Service",
        "ServiceAccount",
    ),
    "apps": ("ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"),
    "authorization.k8s.io": ("LocalSubjectAccessReview",),
    "autoscaling": ("HorizontalPodAutoscaler",),
    "batch": ("CronJob", "Job"),
    "coordination.k8s.io": ("Lease", "LeaseCandidate"),
    "discovery.k8s.io": ("EndpointSlice",),
    "events.k8s.io": ("Event",),
    "extensions": ("DaemonSet", "Deployment", "Ingress", "NetworkPolicy", "ReplicaSet"),
    "networking.k8s.io": ("Ingress", "NetworkPolicy"),
    "policy": ("Eviction", "PodDisruptionBudget"),
    "rbac.authorization.k8s.io": ("Role", "RoleBinding"),
    "resource.k8s.io": ("PodSchedulingContext", "ResourceClaim", "ResourceClaimTemplate"),
    "settings.k8s.io": ("PodPreset",),
    "storage.k8s.io": ("CSIStorageCapacity",),
}
_CLUSTER_SCOPED: Mapping[str, tuple[str, ...]] = {
    "": ("ComponentStatus", "Namespace", "Node", "PersistentVolume"),
    "admissionregistration.k8s.io": (
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
    ),
    CRD_GROUP: (CRD_KIND,),
    "apiregistration.k8s.io": ("APIService",),
    "authentication.k8s.io": ("SelfSubjectReview", "TokenReview"),
    "authorization.k8s.io": ("SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"),
    "certificates.k8s.io": ("CertificateSigningRequest", "ClusterTrustBundle"),
    "extensions": ("PodSecurityPolicy",),
    "flowcontrol.apiserver.k8s.io": ("FlowSchema", "PriorityLevelConfiguration"),
    "internal.apiserver.k8s.io": ("StorageVersion",),
    "networking.k8s.io": ("IPAddress", "IngressClass", "ServiceCIDR"),
    "node.k8s.io": ("RuntimeClass",),
    "policy": ("PodSecurityPolicy",),
    "rbac.authorization.k8s.io": ("ClusterRole", "ClusterRoleBinding"),
    "resource.k8s.io": ("DeviceClass", "ResourceClass", "ResourceSlice"),
    "scheduling.k8s.io": ("PriorityClass",),
    "storage.k8s.io": ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"),
    "storagemigration.k8s.io": ("StorageVersionMigration",),
}

# (group, kind) -> namespaced: the one table of built-in scopes.
BUILT_IN_SCOPES: Mapping[tuple[str, str], bool] = {
    **{(group, kind): True for group, kinds in _NAMESPACED.items() for kind in kinds},
    **{(group, kind): False for group, kinds in _CLUSTER_SCOPED.items() for kind in kinds},
}


@dataclass(frozen=True, slots=True)
class CustomKind:
    """A kind a CustomResourceDefinition declares."""

    group: str
    kind: str
    plural: str
    namespaced: bool


def custom_kind(crd: Mapping[str, Any]) -> CustomKind | None:
    """The kind a CRD manifest declares, or None when the manifest is not a CRD or lacks group or kind
    (the API server would refuse it; rules that need the kind then learn nothing from it)."""
    group, _ = split_api_version(str(crd.get("apiVersion", "")))
    if group != CRD_GROUP or crd.get("kind") != CRD_KIND:
        return None
    spec = crd.get("spec")
    names = spec.get("names") if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping) or not isinstance(names, Mapping):
        return None
    crd_group, kind = spec.get("group"), names.get("kind")
    if not isinstance(crd_group, str) or not isinstance(kind, str) or not crd_group or not kind:
        return None
    plural = names.get("plural")
    # v1 and v1beta1 both default to Namespaced when scope is left out.
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    return CustomKind(crd_group, kind, plural if isinstance(plural, str) else kind.lower() + "s", namespaced)


@dataclass(frozen=True)
class Scopes:
    """The scope of every kind the gate knows: built in, or declared by a CRD of the input."""

    custom: Mapping[tuple[str, str], CustomKind] = field(default_factory=dict)

    @classmethod
    def with_crds(cls, manifests: Iterable[Mapping[str, Any]]) -> Scopes:
        """The built-in table plus the kinds declared by every CRD among `manifests`."""
        declared = (custom_kind(m) for m in manifests if m.get("kind") == CRD_KIND)
        return cls({(k.group, k.kind): k for k in declared if k is not None})

    def namespaced(self, group: str, kind: str) -> bool | None:
        """True for a namespaced kind, False for a cluster-scoped one, None when nobody declared it (a custom
        kind whose CRD is only in the cluster: offline its scope cannot be known)."""
        custom = self.custom.get((group, kind))
        if custom is not None:
            return custom.namespaced
        return BUILT_IN_SCOPES.get((group, kind))
