"""From documents to changes: scopes, namespace defaulting, Secret masking, addresses and the fingerprint's
sections."""

from __future__ import annotations

import json

import pytest

from guardrail.core.change import Action
from guardrail.core.errors import BadInputError
from guardrail.core.kube.change import ClusterView
from guardrail.core.kube.derive import fingerprint_sections
from guardrail.core.kube.scopes import BUILT_IN_SCOPES, Scopes
from guardrail.core.values import SENSITIVE_PLACEHOLDER
from tests.unit.kube.helpers import derived, obj, offline, rendered

SECRET = obj("Secret", "db", "shop", data={"password": "aHVudGVyMi1zZWNyZXQ="}, stringData={"token": "tok-123456"})


def test_namespaced_kinds_default_and_cluster_scoped_kinds_drop_their_namespace() -> None:
    objects = rendered(
        obj("ConfigMap", "settings"),
        obj("Namespace", "shop", namespace="ignored"),
        obj("ClusterRole", "reader", api="rbac.authorization.k8s.io/v1"),
    )
    assert [o.ref.address for o in objects] == [
        "configmap/default/settings",
        "namespace/shop",
        "clusterrole.rbac.authorization.k8s.io/reader",
    ]
    assert objects[0].manifest["metadata"]["namespace"] == "default"
    assert "namespace" not in objects[1].manifest["metadata"]
    assert objects[0].written["metadata"] == {"name": "settings"}  # the input as written, for policies


def test_a_crd_of_the_input_declares_its_kinds_scope() -> None:
    crd = obj(
        "CustomResourceDefinition",
        "widgets.example.com",
        api="apiextensions.k8s.io/v1",
        spec={"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"}},
    )
    widget = obj("Widget", "w1", "shop", api="example.com/v1")
    gadget = obj("Gadget", "g1", api="example.com/v1")
    objects = rendered(crd, widget, gadget)
    assert [(o.ref.address, o.scope_known) for o in objects[1:]] == [
        ("widget.example.com/w1", True),  # declared cluster-scoped: its namespace is dropped
        ("gadget.example.com/g1", False),  # nobody declares Gadget: kept as written, scope unknown
    ]


def test_scope_table_covers_the_common_kinds() -> None:
    scopes = Scopes()
    assert scopes.namespaced("apps", "DaemonSet") is True
    assert scopes.namespaced("", "PersistentVolume") is False
    assert scopes.namespaced("storage.k8s.io", "CSIStorageCapacity") is True
    assert scopes.namespaced("monitoring.coreos.com", "ServiceMonitor") is None
    assert len(BUILT_IN_SCOPES) > 80


@pytest.mark.parametrize(
    ("manifest", "missing"),
    [
        ({"kind": "Pod", "metadata": {"name": "a"}}, "apiVersion"),
        ({"apiVersion": "v1", "metadata": {"name": "a"}}, "kind"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {}}, "metadata.name"),
    ],
)
def test_incomplete_objects_name_their_document(manifest: dict[str, object], missing: str) -> None:
    with pytest.raises(BadInputError, match=rf"^test.yaml: document 1: object without {missing}"):
        rendered(obj("ConfigMap", "ok"), manifest)


def test_an_object_given_twice_is_refused_naming_both() -> None:
    with pytest.raises(
        BadInputError, match=r"document 1: configmap/default/a is defined twice \(also at .*document 0\)"
    ):
        rendered(obj("ConfigMap", "a"), obj("ConfigMap", "a", "default"))


def test_secret_values_are_masked_and_kept_as_literals() -> None:
    changes = offline(SECRET)
    shown = changes.changes[0].after
    assert shown is not None
    assert shown["data"] == {"password": SENSITIVE_PLACEHOLDER}
    assert shown["stringData"] == {"token": SENSITIVE_PLACEHOLDER}
    # as written, base64-decoded, and plain
    assert {"aHVudGVyMi1zZWNyZXQ=", "hunter2-secret", "tok-123456"} <= changes.sensitive_literals
    change = derived(changes).changes[0]
    assert change.after_sensitive == {"data": {"password": True}, "stringData": {"token": True}}
    assert "hunter2" not in json.dumps(change.after)


def test_offline_changes_are_creates_or_deletes_on_every_cluster() -> None:
    clusters = (ClusterView("prod-eu", version="1.33"), ClusterView("prod-us", version="1.32"))
    changes = offline(obj("Namespace", "shop"), clusters=clusters, delete=True)
    assert [(c.cluster, c.action, c.after) for c in changes.changes] == [
        ("prod-eu", Action.DELETE, None),
        ("prod-us", Action.DELETE, None),
    ]
    addresses = [c.address for c in derived(changes).changes]
    assert addresses == ["prod-eu::namespace/shop", "prod-us::namespace/shop"]
    assert [c.address for c in derived(offline(obj("Namespace", "shop"))).changes] == ["namespace/shop"]


def test_derived_changes_carry_type_cluster_and_object() -> None:
    change = derived(offline(obj("DaemonSet", "agent", "kube-system", api="apps/v1"))).changes[0]
    assert (change.type, change.name, change.action, change.actions) == (
        "daemonset.apps",
        "agent",
        Action.CREATE,
        ("create",),
    )
    assert change.cluster_object is not None
    assert change.cluster_object.cluster == "offline"


def test_fingerprint_sections_cover_objects_clusters_and_actions_but_not_input_order() -> None:
    a, b = obj("ConfigMap", "a", data={"k": "1"}), obj("ConfigMap", "b")
    base = fingerprint_sections(rendered(a, b), offline(a, b))
    assert fingerprint_sections(rendered(b, a), offline(b, a)) == base
    changed = obj("ConfigMap", "a", data={"k": "2"})
    assert fingerprint_sections(rendered(changed, b), offline(changed, b)) != base
    assert fingerprint_sections(rendered(a, b), offline(a, b, delete=True)) != base
    other_cluster = offline(a, b, clusters=(ClusterView("offline", version="1.33"),))
    assert fingerprint_sections(rendered(a, b), other_cluster) != base
