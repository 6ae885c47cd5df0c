"""Provenance of checks and applies: the git context of a plan's configuration directory, with the commit
of the last successful apply of its workspace (see core/provenance.py for what "dirty" means)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from guardrail.core.audit import EventKind
from guardrail.core.provenance import Provenance, last_check_provenance, last_successful_apply
from guardrail.core.store_ports import AuditStore
from guardrail.services.wiring import apply_lock_name, source_control


def configuration_directory(plan: Path, configuration: Path | None = None) -> Path:
    """The directory a plan was made from: `configuration` when given, the plan itself when it is a
    directory, else the folder the plan file sits in."""
    if configuration is not None:
        return configuration
    return plan if plan.is_dir() else plan.absolute().parent


def gather(
    directory: Path,
    log: AuditStore | None,
    *,
    plan_files: Sequence[Path] = (),
    workspace: str | None = None,
) -> Provenance:
    """The provenance of `directory` now; with the audit `log`, the commit of the last successful apply of
    its workspace (`workspace`, else the directory's own when it holds a configuration), read newest first
    through the log's kind index. Git never makes it raise (outside a repository the record says so and the
    log is not read); the log raises StoreError."""
    found = source_control().provenance(directory, plan_files=plan_files)
    if not found.in_repository or log is None:
        return found
    lock = workspace or apply_lock_name(directory)
    if lock is None:
        return found
    return replace(found, last_applied_commit=last_applied_commit(log, lock))


def last_applied_commit(log: AuditStore, workspace: str) -> str | None:
    """The commit of the last successful apply of `workspace` (directory#workspace), or None: apply-end
    events read newest first through the kind's index, stopping at it."""
    last = last_successful_apply(log.events_of_kind(EventKind.APPLY_END, newest_first=True), workspace)
    return last.commit if last is not None else None


def plan_provenance(log: AuditStore, fingerprint: str) -> Provenance | None:
    """The provenance the latest check of the plan `fingerprint` recorded (None: never checked with one),
    read newest first through the plan's index: only that plan's checks, never the whole log."""
    checks = log.events_of_kind(EventKind.CHECK, newest_first=True, fingerprint=fingerprint)
    return last_check_provenance(checks, fingerprint)
