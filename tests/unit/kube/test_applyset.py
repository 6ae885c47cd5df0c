"""ApplySet membership (kubectl's KEP-3659 specification): ids, scope, and what --prune deletes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from guardrail.core.errors import BadInputError
from guardrail.core.kube.applyset import (
    ADDITIONAL_NAMESPACES_ANNOTATION,
    CONTAINS_GROUP_KINDS_ANNOTATION,
    ID_LABEL,
    PART_OF_LABEL,
    applyset_id,
    declared_applyset,
    is_parent_of,
    parse_group_kinds,
    pruned,
    scope_of,
)
from guardrail.core.kube.objects import ObjectRef

SET_ID = applyset_id(name="payments", namespace="payments", kind="Secret", group="")


def _object(kind: str, name: str, namespace: str | None = "payments", set_id: str | None = SET_ID) -> dict[str, Any]:
    api_version = "apps/v1" if kind == "Deployment" else "v1"
    metadata: dict[str, Any] = {"name": name, "labels": {PART_OF_LABEL: set_id} if set_id else {}}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def _spec_id(gknn: bytes) -> str:
    return "applyset-" + base64.urlsafe_b64encode(hashlib.sha256(gknn).digest()).decode().rstrip("=") + "-v1"


def test_the_id_follows_the_specification() -> None:
    assert _spec_id(b"payments.payments.Secret.") == SET_ID
    # A cluster-scoped parent has an empty namespace part; a group follows the kind.
    assert applyset_id(name="payments", namespace=None, kind="Namespace", group="") == _spec_id(b"payments..Namespace.")
    assert applyset_id(name="t", namespace="n", kind="Tracker", group="example.com") == _spec_id(
        b"t.n.Tracker.example.com"
    )


def test_the_set_is_the_one_the_objects_declare() -> None:
    inputs = [("a.yaml#0", _object("ConfigMap", "a")), ("a.yaml#1", _object("Service", "b", set_id=None))]
    assert declared_applyset(inputs) == SET_ID


def test_no_declared_set_is_refused() -> None:
    with pytest.raises(BadInputError, match=PART_OF_LABEL):
        declared_applyset([("a.yaml#0", _object("ConfigMap", "a", set_id=None))])


def test_two_sets_in_one_run_are_refused_with_their_sources() -> None:
    inputs = [("a.yaml#0", _object("ConfigMap", "a")), ("b.yaml#0", _object("ConfigMap", "b", set_id="applyset-x-v1"))]
    with pytest.raises(BadInputError, match=r"a\.yaml#0.*b\.yaml#0|b\.yaml#0.*a\.yaml#0"):
        declared_applyset(inputs)


def _parent(set_id: str = SET_ID, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "payments",
            "namespace": "payments",
            "labels": {ID_LABEL: set_id},
            "annotations": annotations,
        },
    }


def test_a_parent_must_own_the_id_it_carries() -> None:
    assert is_parent_of(_parent(), SET_ID)
    borrowed = _parent()
    borrowed["metadata"]["name"] = "impostor"
    assert not is_parent_of(borrowed, SET_ID)
    assert not is_parent_of(_parent(set_id="applyset-other-v1"), SET_ID)


def test_scope_widens_with_the_parents_hints() -> None:
    parent = _parent(
        **{CONTAINS_GROUP_KINDS_ANNOTATION: "ConfigMap,Deployment.apps", ADDITIONAL_NAMESPACES_ANNOTATION: "shared"}
    )
    scope = scope_of(SET_ID, [_object("Service", "web")], parent)
    assert scope.group_kinds == {("", "Service"), ("", "ConfigMap"), ("apps", "Deployment")}
    assert scope.namespaces == {"payments", "shared"}
    assert scope_of(SET_ID, [_object("Service", "web")]).group_kinds == {("", "Service")}


def test_group_kinds_parse_as_kubectl_writes_them() -> None:
    assert parse_group_kinds("Deployment.apps,Namespace, ") == {("apps", "Deployment"), ("", "Namespace")}


def test_members_absent_from_the_input_are_pruned() -> None:
    live = [
        _object("ConfigMap", "kept"),
        _object("ConfigMap", "gone"),
        _object("ConfigMap", "other-set", set_id="applyset-other-v1"),
        _object("ConfigMap", "unlabelled", set_id=None),
    ]
    keep = [ObjectRef.of(_object("ConfigMap", "kept"))]
    assert [obj["metadata"]["name"] for obj in pruned(live, SET_ID, keep)] == ["gone"]
