"""Who the API server takes guardrail to be: a SelfSubjectReview POSTed through the real adapter. The
emulator has no authentication, so each test declares the review the server would answer."""

from __future__ import annotations

from typing import Any

import kmock
import pytest

from guardrail.adapters.kubernetes.cluster import SELF_SUBJECT_REVIEWS, KubernetesCluster
from guardrail.core.errors import ClusterError
from guardrail.core.kube.cluster import Identity
from tests.adapters.kubernetes.emulator import ApiServer

REVIEWS = kmock.resource("authentication.k8s.io/v1/selfsubjectreviews")


def _review(user_info: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "status": {"userInfo": user_info}}


def test_identity_from_a_self_subject_review(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    user = {"username": "system:serviceaccount:ops:guardrail", "groups": ["system:serviceaccounts", "ops"], "uid": "1"}
    emulator[kmock.method.POST, REVIEWS] << _review(user)
    assert cluster.identity() == Identity("system:serviceaccount:ops:guardrail", ("system:serviceaccounts", "ops"))
    (asked,) = list(emulator[kmock.method.POST, REVIEWS])
    assert asked.url.path == SELF_SUBJECT_REVIEWS
    assert asked.data == {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def test_a_review_without_a_user_is_refused(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[kmock.method.POST, REVIEWS] << _review({"groups": ["system:authenticated"]})
    with pytest.raises(ClusterError, match="SelfSubjectReview named no user"):
        cluster.identity()


def test_a_server_without_self_subject_reviews_says_so(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[kmock.method.POST, REVIEWS] << kmock.KubernetesError(404, "NotFound", "the server could not find it")
    with pytest.raises(ClusterError, match=r"serves no SelfSubjectReview \(Kubernetes 1\.28 or later\)"):
        cluster.identity()


def test_a_refused_review_is_a_cluster_error(emulator: ApiServer, cluster: KubernetesCluster) -> None:
    emulator[kmock.method.POST, REVIEWS] << kmock.KubernetesError(403, "Forbidden", "selfsubjectreviews is forbidden")
    with pytest.raises(ClusterError) as refused:
        cluster.identity()
    assert refused.value.status == 403
