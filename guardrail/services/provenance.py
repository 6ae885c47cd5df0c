"""Provenance of checks and applies: the git context of a plan's configuration directory, with the commit
of the last successful apply of its workspace (see core/provenance.py for what "dirty" means)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from guardrail.core.audit import AuditEvent
from guardrail.core.provenance import Provenance, successful_applies
from guardrail.services.wiring import apply_lock_name, source_control


def configuration_directory(plan: Path, configuration: Path | None = None) -> Path:
    """The directory a plan was made from: `configuration` when given, the plan itself when it is a
    directory, else the folder the plan file sits in."""
    if configuration is not None:
        return configuration
    return plan if plan.is_dir() else plan.absolute().parent


def gather(
    directory: Path,
    events: Iterable[AuditEvent] | None,
    *,
    plan_files: Sequence[Path] = (),
    workspace: str | None = None,
) -> Provenance:
    """The provenance of `directory` now; with the audit log's `events`, the commit of the last successful
    apply of its workspace (`workspace`, else the directory's own when it holds a configuration). Never
    raises: outside a repository the record says so and the log is not read."""
    found = source_control().provenance(directory, plan_files=plan_files)
    if not found.in_repository or events is None:
        return found
    lock = workspace or apply_lock_name(directory)
    if lock is None:
        return found
    applied = successful_applies(events, lock)
    return replace(found, last_applied_commit=applied[-1].commit if applied else None)
