"""The deprecated-API fixtures of pluto and kube-no-trouble (../shared/corpus/kubernetes-deprecations), each
judged as the fixture intends, with the results their own tests state.

The removal release per fixture comes from kube-no-trouble's tests (its rules_1XX_test.go files group the
fixtures by the release that removes them) and pluto's e2e tests; where they depart from the official
guide, the guide wins and the reason is written next to the expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.deprecated_apis import DeprecatedApiRule, judge_api_version, judge_live_object
from guardrail.core.verdict import Enforcement
from tests.conftest import CORPUS_DIR
from tests.unit.kube.builders import changeset, kube_change
from tests.unit.kube.corpus import documents

FIXTURES = CORPUS_DIR / "kubernetes-deprecations" / "fixtures"

# fixture -> the (apiVersion, kind, removed in) of each document the tools report; [] for a silent fixture.
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "kubent-deployment-v1beta1.yaml": [("apps/v1beta1", "Deployment", "1.16")],
    "kubent-deployment-v1beta1-labels.yaml": [("apps/v1beta1", "Deployment", "1.16")],
    "kubent-deployment-v1beta1-and-ingress-v1beta1.yaml": [
        ("apps/v1beta1", "Deployment", "1.16"),
        ("extensions/v1beta1", "Ingress", "1.22"),
    ],
    "kubent-clusterrole-v1beta1.yaml": [("rbac.authorization.k8s.io/v1beta1", "ClusterRole", "1.22")],
    "kubent-clusterrolebinding-v1beta1.yaml": [("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", "1.22")],
    "kubent-role-v1beta1.yaml": [("rbac.authorization.k8s.io/v1beta1", "Role", "1.22")],
    "kubent-rolebinding-v1beta1.yaml": [("rbac.authorization.k8s.io/v1beta1", "RoleBinding", "1.22")],
    "kubent-csidriver-v1beta1.yaml": [("storage.k8s.io/v1beta1", "CSIDriver", "1.22")],
    "kubent-csinode-v1beta1.yaml": [("storage.k8s.io/v1beta1", "CSINode", "1.22")],
    "kubent-storageclass-v1beta1.yaml": [("storage.k8s.io/v1beta1", "StorageClass", "1.22")],
    "kubent-volumeattachment-v1beta1.yaml": [("storage.k8s.io/v1beta1", "VolumeAttachment", "1.22")],
    "kubent-priorityclass-v1beta1.yaml": [("scheduling.k8s.io/v1beta1", "PriorityClass", "1.22")],
    "kubent-ingress-v1beta1.yaml": [("extensions/v1beta1", "Ingress", "1.22")],
    "kubent-ingressclass-v1beta1.yaml": [("networking.k8s.io/v1beta1", "IngressClass", "1.22")],
    "kubent-lease-v1beta1.yaml": [("coordination.k8s.io/v1beta1", "Lease", "1.22")],
    "kubent-certificatesigningrequest-v1beta1.yaml": [
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest", "1.22")
    ],
    # Review objects have no name, as the API allows: judged by apiVersion and kind alone.
    "kubent-subjectaccessreview-v1beta1.yaml": [("authorization.k8s.io/v1beta1", "SubjectAccessReview", "1.22")],
    "kubent-selfsubjectaccessreview-v1beta1.yaml": [
        ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", "1.22")
    ],
    "kubent-localsubjectaccessreview-v1beta1.yaml": [
        ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", "1.22")
    ],
    "kubent-tokenreview-v1beta1.yaml": [("authentication.k8s.io/v1beta1", "TokenReview", "1.22")],
    "kubent-fake-tokenReview-deprecated.yaml": [("authentication.k8s.io/v1beta1", "TokenReview", "1.22")],
    "kubent-apiservice-v1beta1.yaml": [("apiregistration.k8s.io/v1beta1", "APIService", "1.22")],
    "kubent-customresourcedefinition-v1beta1.yaml": [
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "1.22")
    ],
    "kubent-mutatingwebhookconfiguration-v1beta1.yaml": [
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", "1.22")
    ],
    "kubent-validatingwebhookconfiguration-v1beta1.yaml": [
        ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", "1.22")
    ],
    "kubent-autoscaler-v2beta1.yaml": [("autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.25")],
    "kubent-cronjob-v1beta1.yaml": [("batch/v1beta1", "CronJob", "1.25")],
    "kubent-endpointslice-v1beta1.yaml": [("discovery.k8s.io/v1beta1", "EndpointSlice", "1.25")],
    "kubent-poddisruptionbudget-v1beta1.yaml": [("policy/v1beta1", "PodDisruptionBudget", "1.25")],
    "kubent-podsecuritypolicy-v1beta1.yaml": [("policy/v1beta1", "PodSecurityPolicy", "1.25")],
    "kubent-runtimeclass-v1beta1.yaml": [("node.k8s.io/v1beta1", "RuntimeClass", "1.25")],
    "kubent-autoscaler-v2beta2.yaml": [("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26")],
    "kubent-flowschema-v1beta1.yaml": [("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "1.26")],
    "kubent-prioritylevelconfiguration-v1beta1.yaml": [
        ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", "1.26")
    ],
    "kubent-csistoragecapacity-v1beta1.yaml": [("storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27")],
    "kubent-flowschema-v1beta2.yaml": [("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", "1.29")],
    "kubent-prioritylevelconfiguration-v1beta2.yaml": [
        ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", "1.29")
    ],
    "kubent-flowschema-v1beta3.yaml": [("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32")],
    "kubent-prioritylevelconfiguration-v1beta3.yaml": [
        ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "1.32")
    ],
    # kube-no-trouble's "removed in future" rule set: snapshot.storage.k8s.io is the external-snapshotter's
    # CRD group, which the official guide does not cover; nor does it cover cert-manager (a custom rule
    # that kube-no-trouble only runs when told the kind). Silent here, by the guide.
    "kubent-volumesnapshot-v1beta1.yaml": [],
    "kubent-volumesnapshotclass-v1beta1.yaml": [],
    "kubent-volumesnapshotcontent-v1beta1.yaml": [],
    "kubent-issuer-v1alpha2.yaml": [],
    # Live objects served at apps/v1 and networking.k8s.io/v1: as manifests they are current (the old
    # version shows only in an annotation); the live judgement finds it (see below).
    "kubent-fake-deployment-v1beta1-no-annotation.yaml": [],
    "kubent-fake-deployment-v1beta1-with-annotation.yaml": [],
    "kubent-fake-deployment-v1beta1-with-kapp-annotation.yaml": [],
    "kubent-fake-ingress-v1beta1-with-annotation.yaml": [],
    "pluto-deprecated116-deployment-extensions-v1beta1.yaml": [("extensions/v1beta1", "Deployment", "1.16")],
    "pluto-testdata-deployment-extensions-v1beta1.yaml": [("extensions/v1beta1", "Deployment", "1.16")],
    "pluto-list-deployment-deprecated-and-non-deprecated.yaml": [("extensions/v1beta1", "Deployment", "1.16")],
    "pluto-list-deployment-non-deprecated.yaml": [],
    "pluto-non-deprecated-deployment-apps-v1.yaml": [],
}


def _flagged(path: Path, minor: int) -> list[tuple[str, str, Enforcement]]:
    """(apiVersion, kind, enforcement) of every finding at Kubernetes 1.<minor>, through the rule for named
    objects and through the judgement itself for nameless ones."""
    found: list[tuple[str, str, Enforcement]] = []
    view = ClusterView("prod", version=f"1.{minor}")
    for document in documents(path):
        api_version, kind = str(document["apiVersion"]), str(document["kind"])
        metadata = document.get("metadata")
        if isinstance(metadata, Mapping) and metadata.get("name"):
            change = kube_change(document, cluster="prod")
            findings = DeprecatedApiRule().evaluate(changeset([change], view))
            found.extend((api_version, kind, f.enforcement) for f in findings)
        else:
            verdict = judge_api_version(api_version, kind, (1, minor), cluster="prod")
            if verdict is not None:
                found.append((api_version, kind, verdict.enforcement))
    return found


def test_every_fixture_has_an_expectation() -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"deprecation fixtures not found at {FIXTURES}")
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_judged_as_intended(name: str) -> None:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"deprecation fixture not found at {path}")
    expected = EXPECTED[name]
    # Past every removal: exactly the expected documents, each hard.
    assert _flagged(path, 40) == [(v, k, Enforcement.HARD) for v, k, _ in expected]
    for api_version, kind, removed in expected:
        minor = int(removed.split(".")[1])
        assert (api_version, kind, Enforcement.HARD) in _flagged(path, minor)
        # One release before its removal it is still served: deprecated (advisory) at most.
        assert (api_version, kind, Enforcement.HARD) not in _flagged(path, minor - 1)


def test_pluto_stated_results() -> None:
    deprecated = FIXTURES / "pluto-deprecated116-deployment-extensions-v1beta1.yaml"
    listed = FIXTURES / "pluto-list-deployment-deprecated-and-non-deprecated.yaml"
    if not deprecated.is_file():
        pytest.skip(f"deprecation fixtures not found at {FIXTURES}")
    # --target-versions k8s=v1.15.0: deprecated, not removed; the apps/v1 twin of the List stays silent.
    assert _flagged(deprecated, 15) == [("extensions/v1beta1", "Deployment", Enforcement.ADVISORY)]
    assert _flagged(listed, 15) == [("extensions/v1beta1", "Deployment", Enforcement.ADVISORY)]
    # k8s=v1.16.0 on the non-deprecated assets: nothing.
    assert _flagged(FIXTURES / "pluto-non-deprecated-deployment-apps-v1.yaml", 16) == []
    assert _flagged(FIXTURES / "pluto-list-deployment-non-deprecated.yaml", 16) == []
    # pluto expects nothing at v1.8.0 because its data says extensions/v1beta1 Deployments were deprecated in
    # 1.9; the API server's own lifecycle data says 1.8, so here the release before, 1.7, is the silent one.
    assert _flagged(deprecated, 7) == []
    assert _flagged(deprecated, 8) == [("extensions/v1beta1", "Deployment", Enforcement.ADVISORY)]


def _live(name: str) -> Mapping[str, Any]:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"deprecation fixture not found at {path}")
    [document] = list(documents(path))
    return document


def test_live_fixtures_with_the_old_version_in_kubectls_annotation_are_found() -> None:
    deployment = judge_live_object(_live("kubent-fake-deployment-v1beta1-with-annotation.yaml"), "1.33")
    ingress = judge_live_object(_live("kubent-fake-ingress-v1beta1-with-annotation.yaml"), "1.33")
    assert [(f.address, f.enforcement) for f in deployment] == [
        ("deployment.apps/default/nginx-deployment-old", Enforcement.HARD)
    ]
    assert deployment[0].message.startswith("apps/v1beta1 Deployment is not served by Kubernetes 1.33")
    assert [(f.address, f.enforcement) for f in ingress] == [
        ("ingress.networking.k8s.io/default/test-ingress", Enforcement.HARD)
    ]
    assert "extensions/v1beta1 Ingress" in ingress[0].message


def test_live_fixture_without_a_record_of_the_old_version_is_silent() -> None:
    # Its selfLink names extensions/v1beta1, but that is only the URL it was read at: no writer used it.
    assert judge_live_object(_live("kubent-fake-deployment-v1beta1-no-annotation.yaml"), "1.33") == []


def test_live_fixture_with_kapps_annotation_is_found_when_that_annotation_is_named() -> None:
    # As in kube-no-trouble, kapp's record of the applied manifest counts only when asked for.
    live = _live("kubent-fake-deployment-v1beta1-with-kapp-annotation.yaml")
    assert judge_live_object(live, "1.33") == []
    findings = judge_live_object(live, "1.33", applied_annotations=("kapp.k14s.io/original",))
    assert [f.enforcement for f in findings] == [Enforcement.HARD]
    assert findings[0].message.endswith("Seen in: annotation kapp.k14s.io/original.")
