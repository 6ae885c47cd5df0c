"""The deprecated-API table against the official Deprecated API Migration Guide, transcribed here by hand.

The expectations below are read from the guide itself (kubernetes/website
content/en/docs/reference/using-api/deprecation-guide.md, sections v1.16 to v1.32), not derived from the
table: a missing, extra or altered entry fails. The deprecated-in releases are read from the API
server's lifecycle data (k8s.io/api zz_generated.prerelease-lifecycle.go `APILifecycleDeprecated`, and
the "is deprecated in v1.X+" warnings of the apiextensions and aggregator servers).
"""

from __future__ import annotations

import pytest

from guardrail.core.kube.deprecated_api_table import (
    DEPRECATED_APIS,
    NEWEST_GUIDE_RELEASE,
    lookup,
    lookup_resource,
    resource_name,
)

FLOW_V1 = "flowcontrol.apiserver.k8s.io/v1"

# (apiVersion, kind) -> (removed in, the replacement apiVersion the guide names, "available since" it gives)
GUIDE: dict[tuple[str, str], tuple[str, str | None, str | None]] = {
    # v1.32
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"): ("1.32", FLOW_V1, "1.29"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"): ("1.32", FLOW_V1, "1.29"),
    # v1.29
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"): ("1.29", FLOW_V1, "1.29"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"): ("1.29", FLOW_V1, "1.29"),
    # v1.27
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1", "1.24"),
    # v1.26
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"): ("1.26", "flowcontrol.apiserver.k8s.io/v1beta2", None),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"): (
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1beta2",
        None,
    ),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.26", "autoscaling/v2", "1.23"),
    # v1.25
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1", "1.21"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.25", "discovery.k8s.io/v1", "1.21"),
    ("events.k8s.io/v1beta1", "Event"): ("1.25", "events.k8s.io/v1", "1.19"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.25", "autoscaling/v2", "1.23"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1", "1.21"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", None, None),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.25", "node.k8s.io/v1", "1.20"),
    # v1.22
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): (
        "1.22",
        "admissionregistration.k8s.io/v1",
        "1.16",
    ),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): (
        "1.22",
        "admissionregistration.k8s.io/v1",
        "1.16",
    ),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ("1.22", "apiextensions.k8s.io/v1", "1.16"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): ("1.22", "apiregistration.k8s.io/v1", "1.10"),
    ("authentication.k8s.io/v1beta1", "TokenReview"): ("1.22", "authentication.k8s.io/v1", "1.6"),
    ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"): ("1.22", "authorization.k8s.io/v1", "1.6"),
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"): ("1.22", "authorization.k8s.io/v1", "1.6"),
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview"): ("1.22", "authorization.k8s.io/v1", "1.6"),
    ("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"): ("1.22", "authorization.k8s.io/v1", "1.6"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): ("1.22", "certificates.k8s.io/v1", "1.19"),
    ("coordination.k8s.io/v1beta1", "Lease"): ("1.22", "coordination.k8s.io/v1", "1.14"),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1", "1.19"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1", "1.19"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.22", "networking.k8s.io/v1", "1.19"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): ("1.22", "rbac.authorization.k8s.io/v1", "1.8"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): ("1.22", "rbac.authorization.k8s.io/v1", "1.8"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"): ("1.22", "rbac.authorization.k8s.io/v1", "1.8"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): ("1.22", "rbac.authorization.k8s.io/v1", "1.8"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ("1.22", "scheduling.k8s.io/v1", "1.14"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.22", "storage.k8s.io/v1", "1.19"),
    ("storage.k8s.io/v1beta1", "CSINode"): ("1.22", "storage.k8s.io/v1", "1.17"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.22", "storage.k8s.io/v1", "1.6"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): ("1.22", "storage.k8s.io/v1", "1.13"),
    # v1.16
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1", "1.8"),
    ("extensions/v1beta1", "DaemonSet"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta2", "DaemonSet"): ("1.16", "apps/v1", "1.9"),
    ("extensions/v1beta1", "Deployment"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta1", "Deployment"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta2", "Deployment"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta1", "StatefulSet"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta2", "StatefulSet"): ("1.16", "apps/v1", "1.9"),
    ("extensions/v1beta1", "ReplicaSet"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta1", "ReplicaSet"): ("1.16", "apps/v1", "1.9"),
    ("apps/v1beta2", "ReplicaSet"): ("1.16", "apps/v1", "1.9"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "policy/v1beta1", "1.10"),
}

# (apiVersion, kind) -> deprecated in, from the API server's lifecycle data.
DEPRECATED_IN: dict[tuple[str, str], str] = {
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"): "1.29",
    ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"): "1.29",
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"): "1.26",
    ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"): "1.26",
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"): "1.23",
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"): "1.23",
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): "1.24",
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): "1.23",
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): "1.22",
    ("batch/v1beta1", "CronJob"): "1.21",
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): "1.21",
    ("events.k8s.io/v1beta1", "Event"): "1.22",
    ("policy/v1beta1", "PodDisruptionBudget"): "1.21",
    ("policy/v1beta1", "PodSecurityPolicy"): "1.21",
    ("node.k8s.io/v1beta1", "RuntimeClass"): "1.22",
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): "1.16",
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): "1.16",
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): "1.16",
    ("apiregistration.k8s.io/v1beta1", "APIService"): "1.19",
    ("authentication.k8s.io/v1beta1", "TokenReview"): "1.19",
    ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"): "1.19",
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"): "1.19",
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview"): "1.19",
    ("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"): "1.19",
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): "1.19",
    ("coordination.k8s.io/v1beta1", "Lease"): "1.19",
    ("extensions/v1beta1", "Ingress"): "1.14",
    ("networking.k8s.io/v1beta1", "Ingress"): "1.19",
    ("networking.k8s.io/v1beta1", "IngressClass"): "1.19",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "1.17",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): "1.17",
    ("rbac.authorization.k8s.io/v1beta1", "Role"): "1.17",
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "1.17",
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): "1.14",
    ("storage.k8s.io/v1beta1", "CSIDriver"): "1.19",
    ("storage.k8s.io/v1beta1", "CSINode"): "1.17",
    ("storage.k8s.io/v1beta1", "StorageClass"): "1.19",
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): "1.19",
    ("extensions/v1beta1", "NetworkPolicy"): "1.9",
    ("extensions/v1beta1", "DaemonSet"): "1.8",
    ("extensions/v1beta1", "Deployment"): "1.8",
    ("extensions/v1beta1", "ReplicaSet"): "1.8",
    ("extensions/v1beta1", "PodSecurityPolicy"): "1.11",
    ("apps/v1beta1", "Deployment"): "1.8",
    ("apps/v1beta1", "StatefulSet"): "1.8",
    ("apps/v1beta1", "ReplicaSet"): "1.8",  # the guide lists it; the version itself was deprecated in 1.8
    ("apps/v1beta2", "DaemonSet"): "1.9",
    ("apps/v1beta2", "Deployment"): "1.9",
    ("apps/v1beta2", "StatefulSet"): "1.9",
    ("apps/v1beta2", "ReplicaSet"): "1.9",
}


def test_the_table_is_exactly_the_guide() -> None:
    table = {(entry.api_version, kind) for entry in DEPRECATED_APIS for kind in entry.kinds}
    assert sorted(set(GUIDE) - table) == [], "guide entries missing from the table"
    assert sorted(table - set(GUIDE)) == [], "table entries the guide does not list"
    assert len(table) == sum(len(entry.kinds) for entry in DEPRECATED_APIS), "an entry is listed twice"


@pytest.mark.parametrize(("api_version", "kind"), sorted(GUIDE))
def test_each_guide_entry(api_version: str, kind: str) -> None:
    entry = lookup(api_version, kind)
    assert entry is not None
    removed, replacement, since = GUIDE[api_version, kind]
    assert (entry.removed_in, entry.replacement, entry.replacement_since) == (removed, replacement, since)
    assert entry.deprecated_in == DEPRECATED_IN[api_version, kind]
    assert entry.deprecated < entry.removed


def test_every_guide_release_is_covered_up_to_the_newest() -> None:
    releases = {removed for removed, _, _ in GUIDE.values()}
    assert releases == {"1.16", "1.22", "1.25", "1.26", "1.27", "1.29", "1.32"}
    assert max(releases, key=lambda r: tuple(int(p) for p in r.split("."))) == NEWEST_GUIDE_RELEASE


def test_entries_with_notable_changes_carry_them() -> None:
    # The guide lists notable changes for these; the table keeps a short note of each.
    for api_version, kind, word in [
        ("extensions/v1beta1", "Ingress", "pathType"),
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "spec.versions"),
        ("policy/v1beta1", "PodDisruptionBudget", "spec.selector"),
        ("authorization.k8s.io/v1beta1", "SubjectAccessReview", "spec.groups"),
        ("extensions/v1beta1", "DaemonSet", "RollingUpdate"),
        ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "nominalConcurrencyShares"),
    ]:
        entry = lookup(api_version, kind)
        assert entry is not None
        assert word in entry.note


@pytest.mark.parametrize(
    ("kind", "resource"),
    [
        ("Ingress", "ingresses"),
        ("PodSecurityPolicy", "podsecuritypolicies"),
        ("CSIStorageCapacity", "csistoragecapacities"),
        ("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        ("Event", "events"),
    ],
)
def test_resource_names(kind: str, resource: str) -> None:
    assert resource_name(kind) == resource


def test_lookup_by_resource() -> None:
    found = lookup_resource("extensions/v1beta1", "ingresses")
    assert found is not None
    assert (found[0].removed_in, found[1]) == ("1.22", "Ingress")
    assert lookup_resource("apps/v1", "deployments") is None
    assert lookup("apps/v1", "Deployment") is None
    assert lookup("extensions/v1beta1", "Scale") is None  # the guide does not list it
