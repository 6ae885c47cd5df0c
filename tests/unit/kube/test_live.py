"""Comparing manifests with live objects: server fields ignored, changed paths; Secret values of live objects
masked (values and kubectl's last-applied copy) and collected raw and decoded."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from guardrail.core.errors import ClusterError
from guardrail.core.kube.live import changed_paths, manifest_changes, refuses_server_side_diff, without_server_fields
from guardrail.core.kube.objects import LAST_APPLIED_ANNOTATION
from guardrail.core.kube.secret_data import secret_values, shown_manifest
from guardrail.core.values import SENSITIVE_PLACEHOLDER


def _daemonset(image: str = "agent:1", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system", **metadata},
        "spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}},
    }


def test_server_managed_fields_are_not_changes() -> None:
    live = _daemonset(uid="u1", resourceVersion="41", generation=3, creationTimestamp="2026-01-01T00:00:00Z")
    live["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    live["status"] = {"numberReady": 3}
    would_be = _daemonset(uid="u1", resourceVersion="42", generation=4)
    assert changed_paths(live, would_be) == ()
    assert "status" not in without_server_fields(live)
    assert without_server_fields(live)["metadata"] == {"name": "agent", "namespace": "kube-system"}


def test_changed_paths_name_the_deepest_field() -> None:
    live = _daemonset("agent:1")
    would_be = _daemonset("agent:2", labels={"app": "agent"})
    assert changed_paths(live, would_be) == ("metadata.labels", "spec.template.spec.containers[0].image")


def test_a_list_that_changes_length_is_the_change() -> None:
    live = _daemonset()
    would_be = _daemonset()
    would_be["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "s:1"})
    assert changed_paths(live, would_be) == ("spec.template.spec.containers",)


def test_keys_that_are_not_identifiers_are_quoted() -> None:
    live = _daemonset(labels={"app.kubernetes.io/name": "a"})
    would_be = _daemonset(labels={"app.kubernetes.io/name": "b"})
    assert changed_paths(live, would_be) == ('metadata.labels["app.kubernetes.io/name"]',)


def test_client_side_ignores_what_the_manifest_does_not_set() -> None:
    live = _daemonset("agent:1", uid="u1")
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"  # a default
    live["spec"]["revisionHistoryLimit"] = 10
    assert manifest_changes(_daemonset("agent:1"), live) == ()
    assert manifest_changes(_daemonset("agent:2"), live) == ("spec.template.spec.containers[0].image",)


def test_client_side_sees_a_field_the_live_object_lacks() -> None:
    manifest = _daemonset()
    manifest["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert manifest_changes(manifest, _daemonset()) == ("spec.updateStrategy",)


def _secret(**extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "app", "annotations": {LAST_APPLIED_ANNOTATION: '{"data":...}'}},
        "data": {"password": base64.b64encode(b"hunter2-long").decode()},
        **extra,
    }


def test_secret_values_are_masked_everywhere_they_appear() -> None:
    shown = shown_manifest(_secret(stringData={"token": "abcdef"}))
    assert shown["data"] == {"password": SENSITIVE_PLACEHOLDER}
    assert shown["stringData"] == {"token": SENSITIVE_PLACEHOLDER}
    assert shown["metadata"]["annotations"][LAST_APPLIED_ANNOTATION] == SENSITIVE_PLACEHOLDER
    assert "hunter2" not in repr(shown)


def test_a_change_of_secret_data_is_a_path_without_the_value() -> None:
    before, after = _secret(), _secret()
    after["data"] = {"password": base64.b64encode(b"another-secret").decode()}
    paths = changed_paths(before, after)
    assert paths == ("data.password",)


def test_other_kinds_are_not_masked() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    assert shown_manifest(config) == config


def test_secret_values_come_raw_and_decoded() -> None:
    values = set(secret_values(_secret(stringData={"token": "abcdef"})))
    assert {"hunter2-long", base64.b64encode(b"hunter2-long").decode(), "abcdef"} <= values
    assert set(secret_values({"kind": "ConfigMap", "apiVersion": "v1", "data": {"k": "v"}})) == set()


@pytest.mark.parametrize(
    ("status", "message", "falls_back"),
    [
        (415, "apply patches are not supported", True),
        (405, "method not allowed", True),
        (403, "forbidden: cannot patch", True),
        (400, "admission webhook does not support dry run", True),
        (400, "invalid patch", False),
        (422, "spec.replicas: Invalid value", False),
        (409, "conflict", False),
        (None, "timed out", False),
    ],
)
def test_which_refusals_mean_the_server_cannot_diff(status: int | None, message: str, falls_back: bool) -> None:
    assert refuses_server_side_diff(ClusterError("c", message, status=status)) is falls_back
