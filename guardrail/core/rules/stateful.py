"""Stateful data at risk: deleting or replacing what holds data that cannot be re-created from code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.policy import register_rule
from guardrail.core.verdict import Enforcement, Finding

STATEFUL_DATA = register_rule("stateful-data", "A resource that holds data is deleted or replaced.")

# type -> what it holds. Compiled from the storage, database, secret and cluster types of the big three
# providers and Kubernetes; extend with `stateful.extra_types` in guardrail.yaml.
STATEFUL_TYPES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "aws_db_instance",
            "aws_rds_cluster",
            "aws_rds_cluster_instance",
            "aws_dynamodb_table",
            "aws_docdb_cluster",
            "aws_neptune_cluster",
            "aws_redshift_cluster",
            "aws_elasticache_cluster",
            "aws_elasticache_replication_group",
            "aws_opensearch_domain",
            "aws_elasticsearch_domain",
            "aws_memorydb_cluster",
            "aws_timestreamwrite_table",
            "aws_keyspaces_table",
            "azurerm_mssql_database",
            "azurerm_mssql_server",
            "azurerm_postgresql_flexible_server",
            "azurerm_postgresql_server",
            "azurerm_mysql_flexible_server",
            "azurerm_mysql_server",
            "azurerm_cosmosdb_account",
            "azurerm_redis_cache",
            "azurerm_sql_database",
            "google_sql_database_instance",
            "google_sql_database",
            "google_spanner_instance",
            "google_spanner_database",
            "google_bigtable_instance",
            "google_bigquery_dataset",
            "google_bigquery_table",
            "google_redis_instance",
            "google_firestore_database",
        ),
        "database",
    ),
    **dict.fromkeys(
        (
            "aws_s3_bucket",
            "aws_efs_file_system",
            "aws_fsx_lustre_file_system",
            "aws_backup_vault",
            "aws_glacier_vault",
            "azurerm_storage_account",
            "azurerm_storage_container",
            "azurerm_storage_share",
            "azurerm_recovery_services_vault",
            "google_storage_bucket",
            "google_filestore_instance",
        ),
        "storage",
    ),
    **dict.fromkeys(
        (
            "aws_ebs_volume",
            "azurerm_managed_disk",
            "google_compute_disk",
            "google_compute_region_disk",
            "kubernetes_persistent_volume",
            "kubernetes_persistent_volume_claim",
            "kubernetes_persistent_volume_v1",
            "kubernetes_persistent_volume_claim_v1",
        ),
        "volume",
    ),
    **dict.fromkeys(
        (
            "aws_kms_key",
            "aws_secretsmanager_secret",
            "azurerm_key_vault",
            "azurerm_key_vault_key",
            "azurerm_key_vault_secret",
            "google_kms_crypto_key",
            "google_secret_manager_secret",
        ),
        "key or secret store",
    ),
    **dict.fromkeys(
        (
            "aws_eks_cluster",
            "azurerm_kubernetes_cluster",
            "google_container_cluster",
            "aws_msk_cluster",
            "kubernetes_namespace",
            "kubernetes_namespace_v1",
        ),
        "cluster",
    ),
}


def _risk_notes(values: Any) -> list[str]:
    """Why losing this one is worse: settings that remove the usual safety nets."""
    if not isinstance(values, dict):
        return []
    notes = []
    if values.get("skip_final_snapshot") is True:
        notes.append("no final snapshot (skip_final_snapshot = true)")
    if values.get("deletion_protection") is False:
        notes.append("deletion protection off")
    if values.get("force_destroy") is True:
        notes.append("force_destroy = true: its objects are deleted with it")
    if values.get("delete_contents_on_destroy") is True:
        notes.append("delete_contents_on_destroy = true")
    if values.get("purge_protection_enabled") is False:
        notes.append("purge protection off")
    if values.get("backup_retention_period") == 0:
        notes.append("no automated backups")
    return notes


@dataclass(frozen=True)
class StatefulRule:
    enforcement: Enforcement = Enforcement.SOFT
    extra_types: Mapping[str, str] = field(default_factory=dict)
    id: str = STATEFUL_DATA

    def evaluate(self, changeset: ChangeSet) -> Iterable[Finding]:
        kinds = {**STATEFUL_TYPES, **self.extra_types}
        for change in changeset.changes:
            if change.mode != "managed" or change.action not in (Action.DELETE, Action.REPLACE):
                continue
            kind = kinds.get(change.type)
            if kind is not None:
                yield Finding(self.id, self.enforcement, change.address, self._message(change, kind))

    @staticmethod
    def _message(change: ResourceChange, kind: str) -> str:
        verb = "deletes" if change.action is Action.DELETE else "replaces (destroys and re-creates)"
        notes = _risk_notes(change.before)
        detail = f": {'; '.join(notes)}" if notes else ""
        return f"{verb} a {kind} whose data cannot be re-created from code{detail}"
