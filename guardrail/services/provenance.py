"""Provenance of checks and applies: the git context of a plan's configuration directory, with the commit
of the last successful apply of its workspace (see core/provenance.py for what "dirty" means)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from guardrail.core.audit import AuditEvent
from guardrail.core.provenance import Provenance, last_successful_apply, successful_applies
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
    newest_first: bool = False,
) -> Provenance:
    """The provenance of `directory` now; with the audit log's `events` (oldest first, or `newest_first`),
    the commit of the last successful apply of its workspace (`workspace`, else the directory's own when it
    holds a configuration). Never raises: outside a repository the record says so and the log is not read."""
    found = source_control().provenance(directory, plan_files=plan_files)
    if not found.in_repository or events is None:
        return found
    lock = workspace or apply_lock_name(directory)
    if lock is None:
        return found
    if newest_first:
        last = last_successful_apply(events, lock)
    else:
        applied = successful_applies(events, lock)
        last = applied[-1] if applied else None
    return replace(found, last_applied_commit=last.commit if last is not None else None)
