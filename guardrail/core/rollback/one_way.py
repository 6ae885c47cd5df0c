"""Data: what cannot be undone by applying the earlier configuration again, and why.

Three tables, each with the reason a reviewer reads:

- RESERVED_ON_DELETE: resources whose name (or identity) outlives them, so that re-creating them under the
  same name fails or yields something else: soft-deleted key vaults, bucket names anyone may take, secrets
  in their recovery window, KMS keys whose ciphertexts die with them.
- ONE_WAY_UPDATES: in-place updates that the service never takes back (purge protection, storage account
  kind, versioning, database engine upgrades); managed Kubernetes versions come from the upgrade rule's
  own table (core/rules/k8s_upgrade.py).
- FINAL_COPIES: for the stateful types that can leave a snapshot behind when deleted, the attributes that
  name it and the switch that skips it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# type -> why a delete (or replace) cannot be undone by creating it again.
RESERVED_ON_DELETE: Mapping[str, str] = {
    "azurerm_key_vault": (
        "a deleted key vault stays soft-deleted for soft_delete_retention_days (7-90) and keeps its globally "
        "unique name meanwhile; with purge protection it cannot be purged early, and purged, its keys are gone"
    ),
    "azurerm_key_vault_managed_hardware_security_module": (
        "a deleted managed HSM stays soft-deleted for its retention period and keeps its name; its keys "
        "cannot be brought into a new one"
    ),
    "azurerm_key_vault_key": (
        "a deleted key stays soft-deleted under its name in the vault; data encrypted with it needs that very "
        "key, which a new key of the same name is not"
    ),
    "aws_s3_bucket": (
        "bucket names are global: once deleted, the name may not be reusable for a while and any other "
        "account may take it first"
    ),
    "google_storage_bucket": (
        "bucket names are global: once deleted, anyone may reuse the name, and a soft-deleted bucket cannot "
        "be restored once its name is taken"
    ),
    "aws_secretsmanager_secret": (
        "a deleted secret is kept for its recovery window (recovery_window_in_days, default 30) and a new "
        "secret of the same name is refused until then"
    ),
    "aws_kms_key": (
        "a KMS key is scheduled for deletion and then destroyed: whatever it encrypted cannot be decrypted "
        "with a new key"
    ),
    "google_kms_crypto_key": (
        "a crypto key cannot be deleted, only its versions destroyed: data encrypted with them is lost and "
        "the name stays taken in its key ring"
    ),
    "google_kms_key_ring": "key rings cannot be deleted: the name stays taken for good",
    "google_project": "a deleted project's ID can never be used again",
}


@dataclass(frozen=True)
class OneWayUpdate:
    """An in-place change of `path` on `type` that cannot be taken back once `applies(before, after)`."""

    type: str
    path: tuple[str | int, ...]
    applies: Callable[[Any, Any], bool]
    reason: str


def _turned_on(before: Any, after: Any) -> bool:
    return before is not True and after is True


def _became(value: str) -> Callable[[Any, Any], bool]:
    return lambda before, after: before != value and after == value


def _changed(before: Any, after: Any) -> bool:
    return before is not None and after is not None and before != after


ONE_WAY_UPDATES: tuple[OneWayUpdate, ...] = (
    OneWayUpdate(
        "azurerm_key_vault",
        ("purge_protection_enabled",),
        _turned_on,
        "purge protection cannot be turned off once it is on",
    ),
    OneWayUpdate(
        "azurerm_storage_account",
        ("account_kind",),
        _became("StorageV2"),
        "an upgrade to a general-purpose v2 storage account is permanent",
    ),
    OneWayUpdate(
        "aws_s3_bucket_versioning",
        ("versioning_configuration", 0, "status"),
        _became("Enabled"),
        "a versioned bucket never returns to unversioned: versioning can only be suspended",
    ),
    OneWayUpdate(
        "aws_db_instance",
        ("engine_version",),
        _changed,
        "RDS upgrades the engine in place and cannot downgrade it: going back means restoring a snapshot",
    ),
    OneWayUpdate(
        "aws_rds_cluster",
        ("engine_version",),
        _changed,
        "Aurora upgrades the engine in place and cannot downgrade it: going back means restoring a snapshot",
    ),
    OneWayUpdate(
        "google_sql_database_instance",
        ("database_version",),
        _changed,
        "Cloud SQL upgrades the major version in place and cannot downgrade it",
    ),
)


@dataclass(frozen=True)
class FinalCopy:
    """Where a stateful type names the copy it leaves when deleted: `names` (the first set one counts),
    and `skip`, the switch that leaves none when true."""

    names: tuple[str, ...]
    skip: str | None = None


_SNAPSHOT = FinalCopy(("final_snapshot_identifier",), "skip_final_snapshot")
FINAL_COPIES: Mapping[str, FinalCopy] = {
    "aws_db_instance": _SNAPSHOT,
    "aws_rds_cluster": _SNAPSHOT,
    "aws_docdb_cluster": _SNAPSHOT,
    "aws_neptune_cluster": _SNAPSHOT,
    "aws_redshift_cluster": _SNAPSHOT,
    "aws_elasticache_cluster": FinalCopy(("final_snapshot_identifier",)),
    "aws_elasticache_replication_group": FinalCopy(("final_snapshot_identifier",)),
    "aws_memorydb_cluster": FinalCopy(("final_snapshot_name",)),
}


def final_copy(resource_type: str, before: Any) -> str | None:
    """The name of the snapshot a delete of this object leaves behind, or None when it leaves none."""
    spec = FINAL_COPIES.get(resource_type)
    if spec is None or not isinstance(before, dict):
        return None
    if spec.skip is not None and before.get(spec.skip) is not False:
        return None  # skipped, or unknown whether it is: no copy can be counted on
    for attribute in spec.names:
        name = before.get(attribute)
        if isinstance(name, str) and name.strip():
            return f"{attribute} = {name}"
    return None
