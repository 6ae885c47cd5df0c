"""Where a change came from: the git repository, commit, branch and state of the tree a plan was made in,
and the commit of the last successful apply of the same configuration and workspace (from the audit log).

Pure records and readings of audit payloads; the git adapter fills them in (adapters/git.py).

"Made from a dirty tree" means: the work tree of the repository held uncommitted changes when the plan
was checked (modified, staged, deleted or untracked files that git does not ignore, anywhere in the
repository), apart from what Terraform and guardrail themselves write while planning (the `.terraform/`
and `.guardrail/` folders, `terraform.tfstate*` and the plan file being checked): those are not inputs
a reviewer could have read in the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from guardrail.core.audit import AuditEvent, EventKind

# Files named in an event before "and N more": enough to see what was uncommitted, small in the log.
DIRTY_FILES_SHOWN = 20
NOT_IN_REPOSITORY = "not in a git repository"
# What terraform and guardrail write into a configuration directory while planning and applying.
WORKING_FILES: tuple[str, ...] = (".terraform/", ".guardrail/", "terraform.tfstate", ".terraform.tfstate.lock.info")


@dataclass(frozen=True)
class Provenance:
    """A configuration directory's git context. `repository` None: not in a git repository (everything
    else is then empty); `branch` None: a detached HEAD; `commit` None: a repository without commits."""

    repository: str | None = None
    remote: str | None = None
    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    dirty_files: tuple[str, ...] = ()
    dirty_count: int = 0
    last_applied_commit: str | None = None
    problem: str | None = None  # why git could not say more (a broken repository): recorded, never fatal

    @property
    def in_repository(self) -> bool:
        return self.repository is not None

    def describe(self) -> str:
        """One line for people: `repo /src/infra at 1a2b3c4d5e6f (main), clean` or NOT_IN_REPOSITORY."""
        if self.repository is None:
            return NOT_IN_REPOSITORY if self.problem is None else f"{NOT_IN_REPOSITORY} ({self.problem})"
        where = f"repo {self.repository}"
        if self.commit:
            where += f" at {self.commit[:12]}"
        where += f" ({self.branch})" if self.branch else " (detached HEAD)"
        if self.dirty:
            shown = ", ".join(self.dirty_files)
            more = self.dirty_count - len(self.dirty_files)
            where += f", dirty: {shown}" + (f" and {more} more" if more > 0 else "")
        else:
            where += ", clean"
        return where

    def to_payload(self) -> dict[str, Any]:
        """The record an audit event keeps (plain JSON)."""
        if self.repository is None:
            return {"repository": None, "note": NOT_IN_REPOSITORY, "problem": self.problem}
        return {
            "repository": self.repository,
            "remote": self.remote,
            "commit": self.commit,
            "branch": self.branch,
            "dirty": self.dirty,
            "dirty_files": list(self.dirty_files),
            "dirty_count": self.dirty_count,
            "last_applied_commit": self.last_applied_commit,
            "problem": self.problem,
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Provenance | None:
        """The record back from an event's payload; None when the payload holds none (older events)."""
        if not isinstance(payload, Mapping) or "repository" not in payload:
            return None
        files = payload.get("dirty_files")
        return cls(
            repository=_text(payload.get("repository")),
            remote=_text(payload.get("remote")),
            commit=_text(payload.get("commit")),
            branch=_text(payload.get("branch")),
            dirty=payload.get("dirty") is True,
            dirty_files=tuple(str(f) for f in files) if isinstance(files, list) else (),
            dirty_count=int(payload.get("dirty_count") or 0),
            last_applied_commit=_text(payload.get("last_applied_commit")),
            problem=_text(payload.get("problem")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def without_credentials(url: str) -> str:
    """A remote URL with any password removed, and for http(s) the user too (tokens hide there):
    `https://tok@host/r.git` -> `https://host/r.git`; scp-like `git@host:r.git` is kept (no secret in it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable remote URL)"
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    keep_user = parts.scheme in {"ssh", "git+ssh", "ssh+git"} and user
    netloc = f"{user}@{host}" if keep_user else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_working_file(relative: str, plan_files: Iterable[str] = ()) -> bool:
    """Whether a path (relative to the repository, `/`-separated) is one terraform or guardrail writes
    while planning: it does not make the tree dirty."""
    if relative in set(plan_files):
        return True
    parts = relative.split("/")
    name = parts[-1]
    if any(f"{part}/" in WORKING_FILES for part in parts[:-1]):
        return True
    return name.startswith("terraform.tfstate") or name in WORKING_FILES or name == "terraform.tfstate.d"


@dataclass(frozen=True)
class AppliedRecord:
    """A successful apply as the audit log remembers it: its apply-end event, plan and commit."""

    seq: int
    fingerprint: str | None
    commit: str | None
    time: str


def successful_applies(newest_first: Iterable[AuditEvent], workspace: str) -> Iterator[AppliedRecord]:
    """The successful applies of `workspace` (the apply lock's name: directory#workspace), read lazily from
    apply-end events given newest first: the caller stops reading the log at the ones it needs."""
    return (record for event in newest_first if (record := _applied(event, workspace)) is not None)


def last_successful_apply(newest_first: Iterable[AuditEvent], workspace: str) -> AppliedRecord | None:
    """The latest successful apply of `workspace`, reading events newest first and stopping at it."""
    return next(successful_applies(newest_first, workspace), None)


def _applied(event: AuditEvent, workspace: str) -> AppliedRecord | None:
    if event.kind != EventKind.APPLY_END:
        return None
    try:
        payload = event.payload
    except ValueError:
        return None  # a damaged event proves nothing; audit verify names it
    if not isinstance(payload, Mapping) or payload.get("workspace") != workspace:
        return None
    if payload.get("status") != "succeeded":
        return None
    provenance = Provenance.from_payload(payload.get("provenance"))
    commit = provenance.commit if provenance is not None else None
    return AppliedRecord(event.seq, event.fingerprint, commit, event.time)


def last_check_provenance(newest_first: Iterable[AuditEvent], fingerprint: str) -> Provenance | None:
    """The provenance that the latest check of the plan `fingerprint` recorded, or None: events are read
    newest first and reading stops at the first check of that plan that holds one."""
    for event in newest_first:
        if event.kind != EventKind.CHECK or event.fingerprint != fingerprint:
            continue
        try:
            payload = event.payload
        except ValueError:
            continue  # a damaged event proves nothing; audit verify names it
        found = Provenance.from_payload(payload.get("provenance")) if isinstance(payload, Mapping) else None
        if found is not None:
            return found
    return None
