"""Selectors by tag read every place the major providers keep tags and labels, in real resource shapes."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.core.change import ResourceChange
from guardrail.core.matching import Match, Selector, tags_match
from guardrail.core.tags import TAG_LOCATIONS, TagLocation, TagShape, tag_locations
from tests.unit.factories import change

PROD = {"env": "prod"}


def deleted(address: str, before: dict[str, Any], *, type_: str | None = None) -> ResourceChange:
    return change(address, ["delete"], before, None, type_=type_)


# Each as `terraform show -json` writes the resource's values (trimmed to what tells them apart).
PROVIDER_SHAPES: dict[str, ResourceChange] = {
    "aws tags": deleted(
        "aws_eks_cluster.main",
        {"name": "main", "version": "1.30", "tags": {"env": "prod"}, "tags_all": {"env": "prod", "owner": "x"}},
    ),
    "aws default_tags in tags_all": deleted(
        "aws_s3_bucket.logs", {"bucket": "logs", "tags": None, "tags_all": {"env": "prod", "team": "data"}}
    ),
    "aws auto scaling group tag blocks": deleted(
        "aws_autoscaling_group.web",
        {
            "name": "web",
            "tag": [
                {"key": "Name", "value": "web", "propagate_at_launch": True},
                {"key": "env", "value": "prod", "propagate_at_launch": False},
            ],
        },
    ),
    "azure tags": deleted(
        "azurerm_kubernetes_cluster.prod",
        {"name": "aks-prod", "kubernetes_version": "1.29.7", "tags": {"env": "prod", "team": "platform"}},
    ),
    "gcp labels": deleted(
        "google_compute_instance.vm",
        {"name": "vm", "labels": {"env": "prod"}, "metadata": {"ssh-keys": "k"}, "tags": ["web", "https"]},
    ),
    "gke resource_labels": deleted(
        "google_container_cluster.train",
        {"name": "train-1", "min_master_version": "1.30", "resource_labels": {"env": "prod"}},
    ),
    "gcp effective_labels (provider default_labels)": deleted(
        "google_container_cluster.train",
        {
            "name": "train-1",
            "resource_labels": {},
            "effective_labels": {"env": "prod", "goog-terraform-provisioned": "true"},
            "terraform_labels": {"env": "prod", "goog-terraform-provisioned": "true"},
        },
    ),
    "gcp terraform_labels": deleted(
        "google_storage_bucket.data", {"name": "data", "labels": {}, "terraform_labels": {"env": "prod"}}
    ),
    "gke node pool node_config resource_labels": deleted(
        "google_container_node_pool.gpu",
        {"name": "gpu", "node_config": [{"machine_type": "a2-highgpu-1g", "resource_labels": {"env": "prod"}}]},
    ),
    "kubernetes provider metadata list block": deleted(
        "kubernetes_namespace.payments",
        {"metadata": [{"name": "payments", "labels": {"env": "prod"}, "annotations": {}}], "timeouts": None},
    ),
    "kubernetes_manifest": deleted(
        "kubernetes_manifest.agent",
        {"manifest": {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a", "labels": PROD}}},
    ),
    "oracle freeform_tags": deleted("oci_core_instance.vm", {"display_name": "vm", "freeform_tags": {"env": "prod"}}),
    "oracle defined_tags": deleted(
        "oci_core_instance.vm", {"display_name": "vm", "defined_tags": {"Operations.env": "prod"}}
    ),
}


@pytest.mark.parametrize("shape", sorted(PROVIDER_SHAPES))
def test_each_provider_s_tags_select_its_resource(shape: str) -> None:
    wanted = {"Operations.env": "prod"} if shape == "oracle defined_tags" else PROD
    assert tags_match(PROVIDER_SHAPES[shape], wanted) is Match.YES
    assert tags_match(PROVIDER_SHAPES[shape], {"env": "dev"}) is Match.NO


def test_all_wanted_pairs_must_be_in_one_place() -> None:
    cluster = PROVIDER_SHAPES["aws tags"]
    assert tags_match(cluster, {"env": "prod", "owner": "x"}) is Match.YES  # both in tags_all
    assert tags_match(cluster, {"env": "prod", "owner": "y"}) is Match.NO


def test_a_provider_s_own_location_does_not_apply_to_others() -> None:
    # `resource_labels` is GKE's; on an AWS resource it is some other attribute and says nothing.
    aws = deleted("aws_instance.a", {"resource_labels": {"env": "prod"}, "metadata": [{"labels": PROD}]})
    assert tags_match(aws, PROD) is Match.NO
    assert [location.path for location in tag_locations("aws_instance")] == [("tags",), ("tags_all",), ("labels",)]


def test_an_unknown_metadata_map_of_a_compute_instance_is_not_a_kubernetes_label() -> None:
    vm = change(
        "google_compute_instance.vm",
        ["delete", "create"],
        {"labels": {"env": "dev"}},
        {"labels": {"env": "dev"}},
        after_unknown={"metadata": True},
    )
    assert tags_match(vm, PROD) is Match.NO


def _nested(path: tuple[str | int, ...], leaf: Any) -> Any:
    """The values holding `leaf` at `path` (lists for integer steps)."""
    for step in reversed(path):
        leaf = [leaf] if isinstance(step, int) else {step: leaf}
    return leaf


def _tags(location: TagLocation, tags: dict[str, str]) -> Any:
    if location.shape is TagShape.MAP:
        return tags
    return [{"key": key, "value": value} for key, value in tags.items()]


def _type_for(location: TagLocation) -> str:
    return f"{location.type_prefixes[0]}thing" if location.type_prefixes else "aws_thing"


@pytest.mark.parametrize("location", TAG_LOCATIONS, ids=lambda loc: ".".join(map(str, loc.path)))
def test_every_location_matches_and_is_unknown_when_its_tags_are(location: TagLocation) -> None:
    resource_type = _type_for(location)
    address = f"{resource_type}.x"
    values = _nested(location.path, _tags(location, PROD))
    assert tags_match(change(address, ["delete"], values, None, type_=resource_type), PROD) is Match.YES
    # Replaced, its tags after apply unknown: not "no".
    whole = change(
        address, ["delete", "create"], {}, {}, type_=resource_type, after_unknown=_nested(location.path, True)
    )
    assert tags_match(whole, PROD) is Match.UNKNOWN
    # Only the wanted tag's value unknown: the map is there, the value is not.
    if location.shape is TagShape.MAP:
        one = change(
            address,
            ["delete", "create"],
            {},
            _nested(location.path, {"team": "x"}),
            type_=resource_type,
            after_unknown=_nested(location.path, {"env": True}),
        )
    else:
        one = change(
            address,
            ["delete", "create"],
            {},
            _nested(location.path, [{"key": "team", "value": "x"}, {}]),
            type_=resource_type,
            after_unknown=_nested(location.path, [{}, {"key": True, "value": True}]),
        )
    assert tags_match(one, PROD) is Match.UNKNOWN
    # Known and different: no.
    dev = _nested(location.path, _tags(location, {"env": "dev"}))
    assert tags_match(change(address, ["delete", "create"], {}, dev, type_=resource_type), PROD) is Match.NO


def test_a_known_different_tag_beats_an_unknown_other_one() -> None:
    # env is unknown but team already differs: whatever env becomes, the resource is not team=a.
    changed = change(
        "aws_s3_bucket.a",
        ["delete", "create"],
        {},
        {"tags": {"team": "b"}},
        after_unknown={"tags": {"env": True}},
    )
    assert tags_match(changed, {"env": "prod", "team": "a"}) is Match.NO


def test_the_table_takes_kubernetes_object_labels_as_one_more_row() -> None:
    # A Kubernetes object from a manifest keeps labels in metadata.labels, a map, not a list block.
    manifest_labels = TagLocation(("metadata", "labels"), note="Kubernetes objects in manifests")
    table = (*TAG_LOCATIONS, manifest_labels)
    assert manifest_labels in tag_locations("daemonset.apps", table)
    obj = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "labels": PROD}}
    entries = manifest_labels.entries(obj)
    assert entries is not None
    assert list(entries) == [("env", "prod", ("metadata", "labels", "env"))]


def test_selectors_use_the_table_for_protection_and_locks_alike() -> None:
    selector = Selector(types=frozenset({"google_container_cluster"}), tags=PROD)
    assert selector.match(PROVIDER_SHAPES["gke resource_labels"]) is Match.YES
