"""`guardrail check` on whole plan documents: a sensitive tag or version never disables a rule, labels are read
where each provider keeps them, and nothing sensitive is printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result
from tests.unit.factories import plan_resource

Cli = Callable[..., Result]
FORMATS = ("text", "json", "markdown", "sarif", "junit")
PROTECT_PROD = """\
protect:
  - types: [azurerm_kubernetes_cluster, google_container_cluster, kubernetes_namespace]
    tags: {env: prod}
    reason: production is rebuilt only through the runbook
stateful:
  enabled: false
"""


def write_plan(folder: Path, *changes: dict[str, Any], variables: dict[str, Any] | None = None) -> Path:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "variables": variables or {},
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
        "configuration": {"root_module": {"variables": {name: {"sensitive": True} for name in variables or {}}}},
    }
    path = folder / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "guardrail.yaml"
    path.write_text(PROTECT_PROD)
    return path


def sensitive_prod_cluster(tmp_path: Path) -> Path:
    """An AKS cluster deleted whose tags come from a sensitive variable (so Terraform marks them)."""
    cluster = plan_resource(
        "azurerm_kubernetes_cluster.main",
        ["delete"],
        {
            "name": "aks-weu-1",
            "kubernetes_version": "1.29.7",
            "tags": {"env": "prod", "team": "platform"},
        },
        None,
        before_sensitive={"tags": {"env": True, "team": True}},
    )
    return write_plan(tmp_path, cluster, variables={"cluster_tags": {"value": {"env": "prod", "team": "platform"}}})


def test_a_prod_cluster_whose_tags_are_sensitive_is_still_protected(cli: Cli, tmp_path: Path, config: Path) -> None:
    plan = sensitive_prod_cluster(tmp_path)
    result = cli("check", plan, "--config", config, "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["enforcement"], finding["unknown"]) == ("protect", "hard", False)
    for fmt in FORMATS:
        out = cli("check", plan, "--config", config, "--format", fmt).stdout
        assert "platform" not in out, fmt


def test_a_tag_lock_holds_when_the_tag_is_sensitive(cli: Cli, tmp_path: Path) -> None:
    plan = sensitive_prod_cluster(tmp_path)
    assert cli("check", plan).code == 2  # stateful data only: needs approval
    assert cli("lock", "add", "--tag", "env=prod", "--reason", "prod freeze").code == 0
    result = cli("check", plan, "--format", "json")
    assert result.code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["findings"] if f["enforcement"] == "hard"] == ["lock"]


def test_a_sensitive_tag_the_plan_does_not_hold_needs_approval(cli: Cli, tmp_path: Path, config: Path) -> None:
    cluster = plan_resource(
        "azurerm_kubernetes_cluster.main",
        ["delete"],
        {"name": "aks-weu-1"},
        None,
        before_sensitive={"tags": True},
    )
    result = cli("check", write_plan(tmp_path, cluster), "--config", config, "--format", "json")
    assert result.code == 2
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["unknown"]
    assert finding["enforcement"] == "soft"


def test_a_node_pool_downgrade_between_sensitive_versions_is_denied_and_never_shown(cli: Cli, tmp_path: Path) -> None:
    pool = plan_resource(
        "google_container_node_pool.gpu",
        ["update"],
        {"name": "gpu-a100", "cluster": "train-1", "version": "1.30.5-gke.1014001", "node_count": 8},
        {"name": "gpu-a100", "cluster": "train-1", "version": "1.29.9-gke.1177000", "node_count": 8},
        before_sensitive={"version": True},
        after_sensitive={"version": True},
    )
    plan = write_plan(tmp_path, pool)
    result = cli("check", plan, "--format", "json")
    assert result.code == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["enforcement"]) for f in findings if f["rule"] == "k8s-upgrade"] == [("k8s-upgrade", "hard")]
    for fmt in FORMATS:
        out = cli("check", plan, "--format", fmt).stdout
        assert "1.30.5" not in out, fmt
        assert "1.29.9" not in out, fmt
    recorded = cli("audit", "export", "--format", "jsonl").stdout
    assert "downgrade" in recorded
    assert "1.29.9" not in recorded


# -- labels where each provider keeps them -----------------------------------------------------------------


def gke_cluster(tmp_path: Path) -> Path:
    """A GKE cluster deleted, labelled as the Google provider (5+) writes it: resource_labels, and the
    effective_labels and terraform_labels it derives."""
    labels = {"env": "prod", "goog-terraform-provisioned": "true"}
    cluster = plan_resource(
        "google_container_cluster.train",
        ["delete"],
        {
            "name": "train-1",
            "location": "us-central1",
            "min_master_version": "1.30.5-gke.1014001",
            "resource_labels": {"env": "prod"},
            "effective_labels": labels,
            "terraform_labels": labels,
            "node_config": [],
        },
        None,
        before_sensitive={"node_config": [], "resource_labels": {}, "effective_labels": {}, "terraform_labels": {}},
    )
    return write_plan(tmp_path, cluster)


def test_the_bundled_example_protects_a_prod_gke_cluster_by_its_labels(
    cli: Cli, tmp_path: Path, examples: Path
) -> None:
    result = cli("check", gke_cluster(tmp_path), "--config", examples / "guardrail.yaml", "--format", "json")
    assert result.code == 1, result.stdout
    protect = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "protect"]
    assert [(f["address"], f["enforcement"]) for f in protect] == [("google_container_cluster.train", "hard")]


def test_a_kubernetes_provider_namespace_is_protected_by_its_metadata_labels(
    cli: Cli, tmp_path: Path, config: Path
) -> None:
    namespace = plan_resource(
        "kubernetes_namespace.payments",
        ["delete"],
        {"id": "payments", "metadata": [{"name": "payments", "labels": {"env": "prod"}, "annotations": None}]},
        None,
        before_sensitive={"metadata": [{"annotations": {}, "labels": {}}]},
    )
    result = cli("check", write_plan(tmp_path, namespace), "--config", config, "--format", "json")
    assert result.code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["protect"]


def test_a_database_engine_upgrade_between_sensitive_versions_needs_approval_and_is_never_shown(
    cli: Cli, tmp_path: Path
) -> None:
    database = plan_resource(
        "aws_db_instance.main",
        ["update"],
        {"identifier": "orders", "engine_version": "14.11", "tags": {}},
        {"identifier": "orders", "engine_version": "15.6", "tags": {}},
        before_sensitive={"engine_version": True},
        after_sensitive={"engine_version": True},
    )
    plan = write_plan(tmp_path, database)
    result = cli("check", plan, "--format", "json")
    assert result.code == 2, result.stdout + result.stderr  # a one-way upgrade: irreversible, not "allow"
    report = json.loads(result.stdout)
    assert [(f["rule"], f["enforcement"]) for f in report["findings"]] == [("reversibility", "soft")]
    assert [e["reversibility"] for e in report["rollback"]] == ["irreversible"]
    for fmt in FORMATS:
        out = cli("check", plan, "--format", fmt).stdout
        assert "14.11" not in out, fmt
        assert "15.6" not in out, fmt
