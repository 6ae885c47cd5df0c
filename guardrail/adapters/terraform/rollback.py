"""Rollback points: the state as it was just before an apply, kept beside the configuration.

A state holds every value in clear, sensitive ones included, so the files are readable by their owner
only, like terraform.tfstate itself should be; the audit log records where they are, never what they hold.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from guardrail.core.audit import iso_utc
from guardrail.core.errors import BadInputError

ROLLBACK_DIR = Path(".guardrail") / "rollback"


def rollback_path(directory: Path, fingerprint: str, now: datetime) -> Path:
    """Where the rollback point of applying the plan `fingerprint` at `now` goes: sortable by time."""
    stamp = iso_utc(now).replace("-", "").replace(":", "").replace(".", "")
    digest = fingerprint.removeprefix("sha256:")[:12]
    return directory / ROLLBACK_DIR / f"{stamp}-{digest}.tfstate"


def save_rollback_point(path: Path, state: bytes) -> Path:
    """Write `state` to `path` (owner-only, never over an existing file). Raises BadInputError when it
    cannot be written: an apply without its rollback point must not start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(state)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise BadInputError(f"{path}: cannot save the rollback point: {exc.strerror or exc}") from None
    return path
