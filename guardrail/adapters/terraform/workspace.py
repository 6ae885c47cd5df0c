"""Which Terraform workspace a configuration directory is on, as terraform itself decides it."""

from __future__ import annotations

import os
from pathlib import Path

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
    return f"{directory.resolve()}#{current_workspace(directory)}"
