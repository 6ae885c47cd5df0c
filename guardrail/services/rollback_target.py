"""Where a rollback goes and what it undoes, from the audit log; and a configuration at that commit,
checked out in a temporary worktree and pointed at the current state.

The state: with the local backend (implicit or declared) an override file in the worktree points the
backend at the original directory's state file (and workspace folder), so the plan reads the very state
that applies write, and a rollback apply writes it. Any other backend is used as the configuration at REF
declares it (the same bucket, table or workspace as today when its backend block did not change);
settings given only at `terraform init -backend-config` time are not known to guardrail and are not
supported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from guardrail.core.audit import EventKind
from guardrail.core.errors import BadInputError
from guardrail.core.locks import split_workspace_lock_name
from guardrail.core.provenance import AppliedRecord, Provenance, successful_applies
from guardrail.core.rollback.plan import RollbackTarget
from guardrail.core.rollback.undo import ForwardChange, forward_changes
from guardrail.core.store_ports import AuditStore
from guardrail.services.wiring import source_control

OVERRIDE_NAME = "zz_guardrail_rollback_override.tf"
_BACKEND_CACHE = Path(".terraform") / "terraform.tfstate"


def find_target(
    directory: Path, workspace: str, ref: str | None, log: AuditStore, *, undo_seq: int | None = None
) -> RollbackTarget:
    """The target of a rollback of `directory`'s `workspace`: by default it undoes the latest successful
    apply, or the apply whose apply-end event is `undo_seq`, and goes to the commit of the successful apply
    before it (or to `ref`). Raises BadInputError when `ref` is not a commit, when `undo_seq` is no
    successful apply of the workspace, or (without `ref`) when there is no earlier apply with a commit.

    The audit `log` is read newest first through its indexes, only as far back as those two applies and
    the check of the one undone: never the whole log."""
    scm = source_control()
    scm.top_level(directory)  # a rollback goes to a commit: first of all, a repository
    applied = successful_applies(log.events_of_kind(EventKind.APPLY_END, newest_first=True), workspace)
    if undo_seq is not None:
        undoes = next((record for record in applied if record.seq == undo_seq), None)
        if undoes is None:
            raise BadInputError(f"audit event {undo_seq} is not a successful apply of {directory}")
    else:
        undoes = next(applied, None)
    if ref is None:
        earlier = next(applied, None) if undoes is not None else None
        if earlier is None:
            split = split_workspace_lock_name(workspace)
            name = split[1] if split is not None else workspace
            raise BadInputError(
                f"{directory}: no earlier successful apply of this directory (workspace {name}) in the audit log "
                "to roll back to: give --to REF"
            )
        if earlier.commit is None:
            raise BadInputError(
                f"{directory}: the earlier apply (audit event {earlier.seq}) recorded no git commit: give --to REF"
            )
        ref, commit = f"the apply of audit event {earlier.seq}", scm.resolve(directory, earlier.commit)
    else:
        commit = scm.resolve(directory, ref)
    forward = tuple(_forward(log, undoes)) if undoes is not None else None
    return RollbackTarget(str(directory), workspace, ref, commit, undoes, forward)


def _forward(log: AuditStore, applied: AppliedRecord) -> list[ForwardChange]:
    """The changes of the apply: its last check before it ended (the apply's own re-check)."""
    if applied.fingerprint is None:
        return []
    checks = log.events_of_kind(EventKind.CHECK, newest_first=True, fingerprint=applied.fingerprint)
    for event in checks:
        if event.seq >= applied.seq:
            continue
        try:
            payload: Any = event.payload
        except ValueError:
            continue  # a damaged event proves nothing; audit verify names it
        return forward_changes(payload) if isinstance(payload, dict) else []
    return []


def target_provenance(directory: Path, commit: str) -> Provenance:
    """The provenance of a plan made from `commit` in a clean worktree: the repository of `directory`."""
    here = source_control().provenance(directory)
    return replace(here, commit=commit, branch=None, dirty=False, dirty_files=(), dirty_count=0)


@contextmanager
def configuration_at(directory: Path, commit: str) -> Iterator[Path]:
    """`directory` as it was at `commit`, in a temporary worktree removed afterwards, its backend pointed
    at the current state (see the module's docstring). Raises BadInputError when the directory held no
    configuration at that commit."""
    scm = source_control()
    top = scm.top_level(directory)
    relative = directory.resolve().relative_to(top)
    with scm.worktree(directory, commit) as tree:
        inner = tree / relative
        if not inner.is_dir() or (not any(inner.glob("*.tf")) and not any(inner.glob("*.tf.json"))):
            raise BadInputError(f"{directory}: no Terraform configuration there at commit {commit[:12]}")
        _point_at_state(inner, directory.resolve())
        yield inner


def _point_at_state(inner: Path, original: Path) -> None:
    backend = _backend(original)
    if backend is None:
        return  # another backend: the configuration at REF names it
    path = backend.get("path") or "terraform.tfstate"
    workspace_dir = backend.get("workspace_dir") or "terraform.tfstate.d"
    state = Path(path) if Path(path).is_absolute() else original / path
    workspaces = Path(workspace_dir) if Path(workspace_dir).is_absolute() else original / workspace_dir
    override = (
        "# Written by guardrail for a rollback plan: the state of the configuration being rolled back.\n"
        "terraform {\n"
        '  backend "local" {\n'
        f"    path          = {json.dumps(str(state))}\n"
        f"    workspace_dir = {json.dumps(str(workspaces))}\n"
        "  }\n"
        "}\n"
    )
    (inner / OVERRIDE_NAME).write_text(override, encoding="utf-8")


def _backend(original: Path) -> dict[str, str] | None:
    """The local backend's settings of the original directory ({} for defaults), None for another backend."""
    try:
        cached = json.loads((original / _BACKEND_CACHE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}  # never initialised with a backend: the implicit local one
    except (OSError, ValueError):
        raise BadInputError(f"{original / _BACKEND_CACHE}: unreadable backend settings") from None
    backend = cached.get("backend") if isinstance(cached, dict) else None
    if not isinstance(backend, dict) or backend.get("type") in (None, "local"):
        config = backend.get("config") if isinstance(backend, dict) else None
        if not isinstance(config, dict):
            return {}
        return {k: str(v) for k, v in config.items() if k in ("path", "workspace_dir") and isinstance(v, str) and v}
    return None
