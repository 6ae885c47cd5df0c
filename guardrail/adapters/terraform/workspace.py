"""Which Terraform workspace a configuration directory is on, as terraform itself decides it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from guardrail.adapters.terraform.intake import is_binary_plan, require_configuration
from guardrail.adapters.terraform.rollback import rollback_path, save_rollback_point
from guardrail.core.locks import workspace_lock_name

DEFAULT_WORKSPACE = "default"


def current_workspace(directory: Path) -> str:
    """$TF_WORKSPACE, else the one `terraform workspace select` recorded in the data directory, else default."""
    chosen = os.environ.get("TF_WORKSPACE", "").strip()
    if chosen:
        return chosen
    data_dir = Path(os.environ.get("TF_DATA_DIR") or ".terraform")
    recorded = (data_dir if data_dir.is_absolute() else directory / data_dir) / "environment"
    try:
        return recorded.read_text(encoding="utf-8").strip() or DEFAULT_WORKSPACE
    except (OSError, UnicodeDecodeError):
        return DEFAULT_WORKSPACE


def workspace_key(directory: Path) -> str:
    """The name of a workspace's apply lock: the configuration's absolute path and the workspace."""
    return workspace_lock_name(str(directory.resolve()), current_workspace(directory))


class TerraformWorkspaces:
    """The workspaces port (core/ports.py): configuration directories as terraform sees them."""

    def require_configuration(self, directory: Path) -> None:
        require_configuration(directory)

    def is_binary_plan(self, path: Path) -> bool:
        return is_binary_plan(path)

    def apply_lock_name(self, directory: Path) -> str:
        return workspace_key(directory)

    def save_rollback_point(self, directory: Path, fingerprint: str, at: datetime, state: bytes) -> Path:
        return save_rollback_point(rollback_path(directory, fingerprint, at), state)
