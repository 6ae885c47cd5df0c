"""Removed and deprecated Kubernetes API versions: the table, as data, and how to look an object up in it.

Every entry of the official Deprecated API Migration Guide (kubernetes/website,
`content/en/docs/reference/using-api/deprecation-guide.md`), from the v1.16 removals to the v1.32 ones,
the newest release the guide lists. The guide says when a version stops being served, what replaces it
and since when, and the notable changes; it does not say when a version was deprecated. Those releases
come from the API server's own lifecycle data: `APILifecycleDeprecated` in k8s.io/api's
`zz_generated.prerelease-lifecycle.go`, and the deprecation warnings of the apiextensions and aggregator
servers for CustomResourceDefinition and APIService. Where the guide lists a kind that an API version
never had (ReplicaSet in apps/v1beta1), the version's own deprecation is used.

Transcribed from the guide's text as on kubernetes/website's main branch once v1.32 had shipped (its
sections v1.16 to v1.32, all past tense, none announced for a later release), compared entry by entry
across copies of the repository: the fork dancer1325/kubernetes-website at d46ff627 (that text), the fork
puneet-ekline/ekline-kubernetes-website at 03b4ef9f (before v1.32 shipped), and kubernetes/website's own
6a6fc841 and 02afb710 (older revisions whose newest section is v1.25). Deprecated-in releases:
kubernetes/api at 10b39a39.

This module is the only copy: rules, `kube scan`, renderers and docs read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The release and document the table was transcribed from (see the module docstring).
GUIDE = "Deprecated API Migration Guide (kubernetes/website content/en/docs/reference/using-api/deprecation-guide.md)"
NEWEST_GUIDE_RELEASE = "1.32"


@dataclass(frozen=True, slots=True)
class ApiDeprecation:
    """One API version of some kinds: deprecated in one release, no longer served from another."""

    api_version: str
    kinds: tuple[str, ...]
    deprecated_in: str  # "1.19": the first release that warns about it
    removed_in: str  # "1.22": the first release that no longer serves it
    replacement: str | None  # the apiVersion the guide says to migrate to; None: there is no replacement API
    replacement_since: str | None = None  # the release that first serves the replacement, where the guide says
    note: str = ""  # the guide's notable changes, shortened

    @property
    def deprecated(self) -> tuple[int, int]:
        return release(self.deprecated_in)

    @property
    def removed(self) -> tuple[int, int]:
        return release(self.removed_in)


def release(text: str) -> tuple[int, int]:
    """(major, minor) of a table release, "1.22" -> (1, 22)."""
    major, minor = text.split(".")
    return int(major), int(minor)


_APPS_SELECTOR = "spec.selector is required and immutable after creation (use the template labels)"
_DAEMONSET = f"spec.templateGeneration is removed; {_APPS_SELECTOR}; spec.updateStrategy.type defaults to RollingUpdate"
_DEPLOYMENT = (
    f"spec.rollbackTo is removed; {_APPS_SELECTOR}; spec.progressDeadlineSeconds defaults to 600, "
    "spec.revisionHistoryLimit to 10, maxSurge and maxUnavailable to 25%"
)
_STATEFULSET = f"{_APPS_SELECTOR}; spec.updateStrategy.type defaults to RollingUpdate"
_HPA = "targetAverageUtilization becomes target.averageUtilization with target.type: Utilization"
_INGRESS = (
    "spec.backend becomes spec.defaultBackend; serviceName and servicePort become service.name and "
    "service.port.number or service.port.name; pathType is required (ImplementationSpecific keeps v1beta1's meaning)"
)
_FLOW = "flowcontrol.apiserver.k8s.io/v1"
_PSP = "move to Pod Security Admission or a third-party admission webhook"

DEPRECATED_APIS: tuple[ApiDeprecation, ...] = (
    # Removed in v1.32
    ApiDeprecation(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "1.29",
        "1.32",
        _FLOW,
        "1.29",
        "PriorityLevelConfiguration spec.limited.nominalConcurrencyShares defaults to 30 only when unset (0 stays 0)",
    ),
    # Removed in v1.29
    ApiDeprecation(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "1.26",
        "1.29",
        _FLOW,
        "1.29",
        "PriorityLevelConfiguration spec.limited.assuredConcurrencyShares is renamed "
        "spec.limited.nominalConcurrencyShares (flowcontrol.apiserver.k8s.io/v1beta3, since 1.26, also serves them)",
    ),
    # Removed in v1.27
    ApiDeprecation("storage.k8s.io/v1beta1", ("CSIStorageCapacity",), "1.24", "1.27", "storage.k8s.io/v1", "1.24"),
    # Removed in v1.26
    ApiDeprecation(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "1.23",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1beta2",
    ),
    ApiDeprecation("autoscaling/v2beta2", ("HorizontalPodAutoscaler",), "1.23", "1.26", "autoscaling/v2", "1.23", _HPA),
    # Removed in v1.25
    ApiDeprecation("batch/v1beta1", ("CronJob",), "1.21", "1.25", "batch/v1", "1.21"),
    ApiDeprecation(
        "discovery.k8s.io/v1beta1",
        ("EndpointSlice",),
        "1.21",
        "1.25",
        "discovery.k8s.io/v1",
        "1.21",
        "per-endpoint nodeName and zone replace topology[...]; topology becomes the read-only deprecatedTopology",
    ),
    ApiDeprecation(
        "events.k8s.io/v1beta1",
        ("Event",),
        "1.22",
        "1.25",
        "events.k8s.io/v1",
        "1.19",
        "type is Normal or Warning; involvedObject becomes regarding; action, reason, reportingController and "
        "reportingInstance are required; eventTime, series.lastObservedTime and series.count replace "
        "firstTimestamp, lastTimestamp and count",
    ),
    ApiDeprecation("autoscaling/v2beta1", ("HorizontalPodAutoscaler",), "1.22", "1.25", "autoscaling/v2", "1.23", _HPA),
    ApiDeprecation(
        "policy/v1beta1",
        ("PodDisruptionBudget",),
        "1.21",
        "1.25",
        "policy/v1",
        "1.21",
        "an empty spec.selector ({}) selects every pod of the namespace in policy/v1 (none in policy/v1beta1)",
    ),
    ApiDeprecation("policy/v1beta1", ("PodSecurityPolicy",), "1.21", "1.25", None, None, _PSP),
    ApiDeprecation("node.k8s.io/v1beta1", ("RuntimeClass",), "1.22", "1.25", "node.k8s.io/v1", "1.20"),
    # Removed in v1.22
    ApiDeprecation(
        "admissionregistration.k8s.io/v1beta1",
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
        "1.16",
        "webhooks[*].failurePolicy defaults to Fail, matchPolicy to Equivalent, timeoutSeconds to 10s; "
        "sideEffects (None or NoneOnDryRun) and admissionReviewVersions are required; webhook names are unique",
    ),
    ApiDeprecation(
        "apiextensions.k8s.io/v1beta1",
        ("CustomResourceDefinition",),
        "1.16",
        "1.22",
        "apiextensions.k8s.io/v1",
        "1.16",
        "spec.scope is required; version, validation, subresources and additionalPrinterColumns move into "
        "spec.versions[*]; a structural openAPIV3Schema is required; conversion webhook settings move under "
        "spec.conversion.webhook; preserveUnknownFields: true is refused; JSONPath is renamed jsonPath",
    ),
    ApiDeprecation(
        "apiregistration.k8s.io/v1beta1", ("APIService",), "1.19", "1.22", "apiregistration.k8s.io/v1", "1.10"
    ),
    ApiDeprecation(
        "authentication.k8s.io/v1beta1", ("TokenReview",), "1.19", "1.22", "authentication.k8s.io/v1", "1.6"
    ),
    ApiDeprecation(
        "authorization.k8s.io/v1beta1",
        ("LocalSubjectAccessReview", "SelfSubjectAccessReview", "SubjectAccessReview", "SelfSubjectRulesReview"),
        "1.19",
        "1.22",
        "authorization.k8s.io/v1",
        "1.6",
        "spec.group is renamed spec.groups",
    ),
    ApiDeprecation(
        "certificates.k8s.io/v1beta1",
        ("CertificateSigningRequest",),
        "1.19",
        "1.22",
        "certificates.k8s.io/v1",
        "1.19",
        "spec.signerName and spec.usages are required (kubernetes.io/legacy-unknown is refused); status.conditions "
        "types are unique and their status required; status.certificate holds PEM CERTIFICATE blocks only",
    ),
    ApiDeprecation("coordination.k8s.io/v1beta1", ("Lease",), "1.19", "1.22", "coordination.k8s.io/v1", "1.14"),
    ApiDeprecation("extensions/v1beta1", ("Ingress",), "1.14", "1.22", "networking.k8s.io/v1", "1.19", _INGRESS),
    ApiDeprecation("networking.k8s.io/v1beta1", ("Ingress",), "1.19", "1.22", "networking.k8s.io/v1", "1.19", _INGRESS),
    ApiDeprecation("networking.k8s.io/v1beta1", ("IngressClass",), "1.19", "1.22", "networking.k8s.io/v1", "1.19"),
    ApiDeprecation(
        "rbac.authorization.k8s.io/v1beta1",
        ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
        "1.8",
    ),
    ApiDeprecation("scheduling.k8s.io/v1beta1", ("PriorityClass",), "1.14", "1.22", "scheduling.k8s.io/v1", "1.14"),
    ApiDeprecation("storage.k8s.io/v1beta1", ("CSIDriver",), "1.19", "1.22", "storage.k8s.io/v1", "1.19"),
    ApiDeprecation("storage.k8s.io/v1beta1", ("CSINode",), "1.17", "1.22", "storage.k8s.io/v1", "1.17"),
    ApiDeprecation("storage.k8s.io/v1beta1", ("StorageClass",), "1.19", "1.22", "storage.k8s.io/v1", "1.6"),
    ApiDeprecation("storage.k8s.io/v1beta1", ("VolumeAttachment",), "1.19", "1.22", "storage.k8s.io/v1", "1.13"),
    # Removed in v1.16
    ApiDeprecation("extensions/v1beta1", ("NetworkPolicy",), "1.9", "1.16", "networking.k8s.io/v1", "1.8"),
    ApiDeprecation("extensions/v1beta1", ("DaemonSet",), "1.8", "1.16", "apps/v1", "1.9", _DAEMONSET),
    ApiDeprecation("apps/v1beta2", ("DaemonSet",), "1.9", "1.16", "apps/v1", "1.9", _DAEMONSET),
    ApiDeprecation("extensions/v1beta1", ("Deployment",), "1.8", "1.16", "apps/v1", "1.9", _DEPLOYMENT),
    ApiDeprecation("apps/v1beta1", ("Deployment",), "1.8", "1.16", "apps/v1", "1.9", _DEPLOYMENT),
    ApiDeprecation("apps/v1beta2", ("Deployment",), "1.9", "1.16", "apps/v1", "1.9", _DEPLOYMENT),
    ApiDeprecation("apps/v1beta1", ("StatefulSet",), "1.8", "1.16", "apps/v1", "1.9", _STATEFULSET),
    ApiDeprecation("apps/v1beta2", ("StatefulSet",), "1.9", "1.16", "apps/v1", "1.9", _STATEFULSET),
    ApiDeprecation("extensions/v1beta1", ("ReplicaSet",), "1.8", "1.16", "apps/v1", "1.9", _APPS_SELECTOR),
    ApiDeprecation("apps/v1beta1", ("ReplicaSet",), "1.8", "1.16", "apps/v1", "1.9", _APPS_SELECTOR),
    ApiDeprecation("apps/v1beta2", ("ReplicaSet",), "1.9", "1.16", "apps/v1", "1.9", _APPS_SELECTOR),
    ApiDeprecation("extensions/v1beta1", ("PodSecurityPolicy",), "1.11", "1.16", "policy/v1beta1", "1.10"),
)

_BY_VERSION_AND_KIND: Mapping[tuple[str, str], ApiDeprecation] = {
    (entry.api_version, kind): entry for entry in DEPRECATED_APIS for kind in entry.kinds
}


def lookup(api_version: str, kind: str) -> ApiDeprecation | None:
    """The table's entry for a kind at an API version, or None when the guide does not list it."""
    return _BY_VERSION_AND_KIND.get((api_version, kind))


def resource_name(kind: str) -> str:
    """The REST resource (lowercase plural) of a listed kind: `Ingress` -> `ingresses`, as the API server
    names the built-in kinds of this table (metrics and audit logs speak of resources, not kinds)."""
    lower = kind.lower()
    if lower.endswith("s"):
        return f"{lower}es"
    if lower.endswith("y"):
        return f"{lower[:-1]}ies"
    return f"{lower}s"


_BY_VERSION_AND_RESOURCE: Mapping[tuple[str, str], tuple[ApiDeprecation, str]] = {
    (entry.api_version, resource_name(kind)): (entry, kind) for entry in DEPRECATED_APIS for kind in entry.kinds
}


def lookup_resource(api_version: str, resource: str) -> tuple[ApiDeprecation, str] | None:
    """The table's entry and kind for a REST resource at an API version (`extensions/v1beta1`, `ingresses`)."""
    return _BY_VERSION_AND_RESOURCE.get((api_version, resource))


def listed_kinds() -> frozenset[str]:
    """Every kind the table lists, whatever its group: an object of another kind can be judged by nothing in it
    (a kind that moved groups, Ingress from extensions to networking.k8s.io, keeps its name)."""
    return frozenset(kind for entry in DEPRECATED_APIS for kind in entry.kinds)
