"""Which nodes a pool is, and how its nodes fall into strata (canary first)."""

from __future__ import annotations

import pytest

from guardrail.core.errors import BadInputError
from guardrail.core.kube.labels import LabelSelector
from guardrail.core.nodes.pool import PoolSelector
from guardrail.core.nodes.strata import StratumKey, group_strata, stratum_of
from tests.unit.nodes.helpers import node


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("agentpool", "gpu"),
        ("kubernetes.azure.com/agentpool", "gpu"),
        ("cloud.google.com/gke-nodepool", "gpu"),
        ("eks.amazonaws.com/nodegroup", "gpu"),
    ],
)
def test_a_bare_pool_name_matches_every_managed_service_pool_label(label: str, value: str) -> None:
    pool = PoolSelector.parse("gpu")
    assert pool.name == "gpu"
    assert pool.label_selector is None
    assert pool.matches({label: value})
    assert not pool.matches({label: "cpu"})
    assert not pool.matches({"team": "gpu"})


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("agentpool=gpu", {"agentpool": "gpu"}, True),
        ("cloud.google.com/gke-nodepool=gpu", {"cloud.google.com/gke-nodepool": "cpu"}, False),
        ("eks.amazonaws.com/nodegroup==gpu,zone!=b", {"eks.amazonaws.com/nodegroup": "gpu", "zone": "a"}, True),
        ("eks.amazonaws.com/nodegroup==gpu,zone!=b", {"eks.amazonaws.com/nodegroup": "gpu", "zone": "b"}, False),
        ("tier in (gpu, big),!spot", {"tier": "big"}, True),
        ("tier in (gpu, big),!spot", {"tier": "big", "spot": "true"}, False),
        ("tier notin (cpu)", {}, True),
        ("accelerator,tier", {"accelerator": "a100", "tier": "x"}, True),  # a key alone: the label exists
        ("accelerator,tier", {"tier": "x"}, False),
    ],
)
def test_any_label_selector_selects_a_pool(text: str, labels: dict[str, str], expected: bool) -> None:
    pool = PoolSelector.parse(text)
    assert pool.label_selector == text
    assert pool.matches(labels) is expected


@pytest.mark.parametrize("text", ["", "  ", "a in ()", "a=b=c", "=b", "a in (b"])
def test_a_selector_it_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(BadInputError, match=r"pool|selector"):
        PoolSelector.parse(text)


def test_a_bare_word_is_a_pool_name_not_a_label_that_exists() -> None:
    pool = PoolSelector.parse("accelerator")
    assert not pool.matches({"accelerator": "a100"})
    assert pool.matches({"agentpool": "accelerator"})


def test_the_empty_label_selector_matches_everything() -> None:
    assert LabelSelector.parse("").matches({"any": "thing"})


def test_select_keeps_the_pools_nodes_in_order() -> None:
    nodes = [node("b"), node("a", pool="cpu"), node("c")]
    assert [n.name for n in PoolSelector.parse("gpu").select(nodes)] == ["b", "c"]


def test_a_stratum_is_instance_type_region_zone_os_kernel_and_gpu_product() -> None:
    key = stratum_of(node("n", zone="westus2-1", os_image="Ubuntu", kernel="6.1", product="H100"))
    assert key == StratumKey("Standard_ND96asr_v4", "westus2", "westus2-1", "Ubuntu", "6.1", "H100")
    assert key.label == "Standard_ND96asr_v4 westus2-1"
    assert key.placement == ("Standard_ND96asr_v4", "westus2", "westus2-1")
    assert key.describe() == "Standard_ND96asr_v4 westus2-1 (Ubuntu, 6.1, H100)"


def test_the_legacy_instance_type_label_is_read_when_the_new_one_is_missing() -> None:
    legacy = node("n", labels={"beta.kubernetes.io/instance-type": "p4d.24xlarge"})
    labels = {k: v for k, v in legacy.labels.items() if k != "node.kubernetes.io/instance-type"}
    assert stratum_of(type(legacy)(legacy.name, labels)).instance_type == "p4d.24xlarge"


def test_nodes_that_differ_in_any_part_fall_into_different_strata_canary_first() -> None:
    nodes = [
        node("w-2", zone="westus2-1"),
        node("e-2"),
        node("e-1"),
        node("w-1", zone="westus2-1"),
        node("e-new-kernel", kernel="6.8"),
        node("e-h100", product="H100"),
        node("e-other-os", os_image="Azure Linux"),
    ]
    strata = group_strata(nodes)
    assert len(strata) == 5
    by_label = {(k.zone, k.kernel, k.gpu_product, k.os_image): [n.name for n in v] for k, v in strata.items()}
    assert by_label[("eastus-1", "5.15", "A100", "Ubuntu 22.04")] == ["e-1", "e-2"]  # e-1 is the canary
    assert by_label[("westus2-1", "5.15", "A100", "Ubuntu 22.04")] == ["w-1", "w-2"]
    assert list(strata) == sorted(strata)


def test_stratum_keys_survive_json() -> None:
    key = stratum_of(node("n"))
    assert StratumKey.from_json(key.to_json()) == key
