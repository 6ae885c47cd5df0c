"""The removed/deprecated API rule: outcomes per target version, exact messages, live objects, the metric."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from guardrail.core.change import Action
from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.deprecated_api_table import DEPRECATED_APIS, lookup
from guardrail.core.kube.deprecated_apis import (
    DeprecatedApiRule,
    RequestedDeprecatedApi,
    judge_api_version,
    judge_live_object,
    judge_requested_apis,
    live_api_versions,
)
from guardrail.core.kube.objects import LAST_APPLIED_ANNOTATION
from guardrail.core.kube.rule_catalog import DEPRECATED_API
from guardrail.core.policy import rule_info
from guardrail.core.verdict import Decision, Enforcement, Finding, Verdict
from tests.unit.kube.builders import changeset, kube_change, workload

DEPLOYMENT_NOTE = (
    "Notable changes: spec.rollbackTo is removed; spec.selector is required and immutable after creation (use the "
    "template labels); spec.progressDeadlineSeconds defaults to 600, spec.revisionHistoryLimit to 10, maxSurge and "
    "maxUnavailable to 25%."
)


def _evaluate(manifest: dict[str, Any], *views: ClusterView, action: Action = Action.CREATE) -> list[Finding]:
    cluster = views[0].name if views else "offline"
    change = kube_change(manifest, action=action, cluster=cluster)
    return list(DeprecatedApiRule().evaluate(changeset([change], *views)))


def test_removed_api_is_hard_with_replacement_and_release() -> None:
    manifest = workload("Deployment", "web", api_version="extensions/v1beta1", namespace="shop")
    [finding] = _evaluate(manifest, ClusterView("offline", version="1.29"))
    assert finding == Finding(
        DEPRECATED_API,
        Enforcement.HARD,
        "deployment.extensions/shop/web",
        "extensions/v1beta1 Deployment is not served by Kubernetes 1.29 (the target cluster): removed in 1.16. "
        f"Use apps/v1 (served since 1.9). {DEPLOYMENT_NOTE}",
    )
    assert Verdict.of([finding]).decision is Decision.DENY


def test_deprecated_but_served_api_is_advisory() -> None:
    manifest = {
        "apiVersion": "policy/v1beta1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "x", "namespace": "a"},
    }
    [finding] = _evaluate(manifest, ClusterView("prod", version="v1.23.4-gke.100"))
    assert finding.enforcement is Enforcement.ADVISORY
    assert finding.message == (
        "policy/v1beta1 PodDisruptionBudget is deprecated in Kubernetes 1.23 (cluster prod) and removed in 1.25. "
        "Use policy/v1 (served since 1.21). Notable changes: an empty spec.selector ({}) selects every pod of the "
        "namespace in policy/v1 (none in policy/v1beta1)."
    )
    assert not finding.unknown


def test_before_its_deprecation_an_api_version_is_silent() -> None:
    manifest = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "x", "namespace": "a"}}
    assert _evaluate(manifest, ClusterView("old", version="1.20")) == []
    assert [f.enforcement for f in _evaluate(manifest, ClusterView("old", version="1.21"))] == [Enforcement.ADVISORY]
    assert [f.enforcement for f in _evaluate(manifest, ClusterView("old", version="1.25"))] == [Enforcement.HARD]


def test_unknown_version_is_soft_unknown_only_for_listed_api_versions() -> None:
    old = workload("DaemonSet", "agent", api_version="apps/v1beta2")
    [finding] = _evaluate(old)  # the offline cluster, version unknown
    assert (finding.enforcement, finding.unknown) == (Enforcement.SOFT, True)
    assert finding.message.startswith(
        "apps/v1beta2 DaemonSet is removed in Kubernetes 1.16 (deprecated since 1.9), and the Kubernetes version of "
        "the target cluster is unknown: cannot tell whether it is still served. Use apps/v1 (served since 1.9)."
    )
    assert _evaluate(workload("DaemonSet", "agent")) == []
    assert _evaluate(old, ClusterView("prod", version="not-a-version"))[0].unknown


def test_a_cluster_the_set_does_not_describe_is_judged_as_unknown() -> None:
    change = kube_change(workload("Deployment", "web", api_version="apps/v1beta1"), cluster="elsewhere")
    [finding] = DeprecatedApiRule().evaluate(changeset([change], ClusterView("prod", version="1.30")))
    assert finding.unknown
    assert "cluster elsewhere" in finding.message


def test_each_cluster_is_judged_at_its_own_version() -> None:
    manifest = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}}
    changes = [kube_change(manifest, cluster="old"), kube_change(manifest, cluster="new")]
    views = (ClusterView("old", version="1.24"), ClusterView("new", version="1.27"))
    findings = DeprecatedApiRule().evaluate(changeset(changes, *views))
    assert [(f.enforcement, "cluster old" in f.message) for f in findings] == [
        (Enforcement.ADVISORY, True),
        (Enforcement.HARD, False),
    ]


def test_deletes_through_a_removed_api_are_judged_too() -> None:
    manifest = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "a"}}
    [finding] = _evaluate(manifest, ClusterView("prod", version="1.30"), action=Action.DELETE)
    assert finding.enforcement is Enforcement.HARD


def test_replacement_chains_are_followed_to_a_served_version() -> None:
    # The guide sends flowcontrol v1beta1 to v1beta2, itself removed in 1.29.
    entry = lookup("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema")
    assert entry is not None
    early = judge_api_version(entry.api_version, "FlowSchema", (1, 24))
    late = judge_api_version(entry.api_version, "FlowSchema", (1, 33))
    assert early is not None
    assert late is not None
    assert "Use flowcontrol.apiserver.k8s.io/v1beta2." in early.message
    assert (
        "Use flowcontrol.apiserver.k8s.io/v1 (served since 1.29; flowcontrol.apiserver.k8s.io/v1beta2 is itself "
        "removed in 1.29)." in late.message
    )
    psp = judge_api_version("extensions/v1beta1", "PodSecurityPolicy", (1, 30))
    assert psp is not None
    assert psp.message.endswith(
        "There is no replacement API (policy/v1beta1 is itself removed in 1.25): move to Pod Security Admission or a "
        "third-party admission webhook."
    )


def test_rule_registration() -> None:
    rule = DeprecatedApiRule()
    info = rule_info(rule.id)
    assert rule.id == DEPRECATED_API == "kube-deprecated-api"
    assert info is not None
    assert "no longer serves" in info.description


_ENTRIES = [(entry, kind) for entry in DEPRECATED_APIS for kind in entry.kinds]


@given(st.sampled_from(_ENTRIES), st.integers(min_value=0, max_value=45))
def test_outcome_follows_the_target_release(pair: tuple[Any, str], minor: int) -> None:
    entry, kind = pair
    verdict = judge_api_version(entry.api_version, kind, (1, minor))
    if minor < entry.deprecated[1]:
        assert verdict is None
        return
    assert verdict is not None
    expected = Enforcement.HARD if minor >= entry.removed[1] else Enforcement.ADVISORY
    assert verdict.enforcement is expected
    assert f"removed in {entry.removed_in}" in verdict.message
    assert ("Use " in verdict.message) or ("There is no replacement API" in verdict.message)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=20), st.integers(0, 40))
def test_api_versions_the_table_does_not_list_are_silent(api_version: str, kind: str, minor: int) -> None:
    if lookup(api_version, kind) is None:
        assert judge_api_version(api_version, kind, (1, minor)) is None
        assert judge_api_version(api_version, kind, None) is None


def _live_deployment(**metadata: Any) -> dict[str, Any]:
    manifest = workload("Deployment", "web", namespace="shop")
    manifest["metadata"].update(metadata)
    return manifest


def test_live_object_written_through_an_old_api_is_found_by_managed_fields() -> None:
    # Created with kubectl apply at extensions/v1beta1, then `kubectl patch`ed: the annotation is gone.
    live = _live_deployment(
        managedFields=[
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "extensions/v1beta1"},
            {"manager": "kubectl-patch", "operation": "Update", "apiVersion": "apps/v1"},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1"},
        ]
    )
    [finding] = judge_live_object(live, "1.33", cluster="prod")
    assert finding.enforcement is Enforcement.HARD
    assert finding.address == "deployment.apps/shop/web"
    assert finding.message.startswith(
        "extensions/v1beta1 Deployment is not served by Kubernetes 1.33 (cluster prod): removed in 1.16. Use apps/v1"
    )
    assert finding.message.endswith("Seen in: managedFields of kubectl-client-side-apply (Update).")


def test_live_object_sources_are_gathered_per_api_version() -> None:
    applied = {"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web"}}
    live = _live_deployment(
        annotations={LAST_APPLIED_ANNOTATION: json.dumps(applied), "other": "{not json"},
        managedFields=[{"manager": "helm", "operation": "Apply", "apiVersion": "apps/v1beta1"}, "junk"],
    )
    assert live_api_versions(live) == {
        ("apps/v1", "Deployment"): ["the version it is served at"],
        ("apps/v1beta1", "Deployment"): [
            "managedFields of helm (Apply)",
            f"annotation {LAST_APPLIED_ANNOTATION}",
        ],
    }
    assert [f.enforcement for f in judge_live_object(live, "1.15")] == [Enforcement.ADVISORY]
    assert [f.unknown for f in judge_live_object(live, None)] == [True]


def test_a_current_live_object_is_silent() -> None:
    live = _live_deployment(managedFields=[{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1"}])
    assert judge_live_object(live, "1.33") == []
    assert judge_live_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "odd"}, "1.33") == []


def test_requested_deprecated_apis_are_judged_against_the_target() -> None:
    requested = [
        RequestedDeprecatedApi("extensions", "v1beta1", "ingresses", "", "1.22"),
        RequestedDeprecatedApi("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "status", "1.32"),
        RequestedDeprecatedApi("example.io", "v1alpha1", "widgets", "", ""),
    ]
    findings = judge_requested_apis(requested, "1.30", cluster="prod")
    assert [(f.enforcement, f.address) for f in findings] == [
        (Enforcement.ADVISORY, None),
        (Enforcement.HARD, None),
        (Enforcement.ADVISORY, None),
    ]
    assert findings[1].message == (
        "clients requested extensions/v1beta1 ingresses (apiserver_requested_deprecated_apis), which Kubernetes 1.30 "
        "(cluster prod) does not serve: removed in 1.22; those clients fail after the upgrade. Use "
        "networking.k8s.io/v1 (served since 1.19). Notable changes: spec.backend becomes spec.defaultBackend; "
        "serviceName and servicePort become service.name and service.port.number or service.port.name; pathType is "
        "required (ImplementationSpecific keeps v1beta1's meaning). Find them in the API server's audit log "
        "(annotation k8s.io/deprecated)."
    )
    assert "flowschemas/status" in findings[2].message
    assert "no removal release announced" in findings[0].message
    unknown = judge_requested_apis(requested[:1], None)
    assert [(f.enforcement, f.unknown) for f in unknown] == [(Enforcement.SOFT, True)]
