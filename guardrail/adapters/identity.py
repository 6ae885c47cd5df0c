"""Who is acting, and which process on which host: recorded on every event and on apply locks."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from pathlib import Path

ACTOR_ENV = "GUARDRAIL_ACTOR"
_GIT_SECONDS = 10.0


def current_actor(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """$GUARDRAIL_ACTOR, else git's `user.email` (repository config, then the user's), else the OS user.

    Never raises: the last resort is the numeric user id.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(ACTOR_ENV, "").strip()
    if explicit:
        return explicit
    email = git_user_email(cwd or Path.cwd())
    if email:
        return email
    return os_user()


def git_user_email(cwd: Path) -> str | None:
    """`user.email` as git resolves it in `cwd` (repository, then user and system configuration, includes
    too), or None (no git, not set, a broken configuration).

    In a repository GitPython reads the configuration files itself (no process; the import is shared with
    the provenance every check records there). Outside one only the user's and the system's files remain,
    and one `git config` costs far less than importing GitPython (about 0.1 s) for them."""
    from guardrail.adapters.git import GitSourceControl, find_top_level

    if find_top_level(cwd) is not None:
        return GitSourceControl().user_email(cwd)
    from guardrail.adapters.process import run_command
    from guardrail.core.errors import BadInputError, CommandError

    try:
        done = run_command(["git", "config", "--get", "user.email"], cwd=cwd, timeout=_GIT_SECONDS, ok_codes=(0, 1))
    except (BadInputError, CommandError):  # no git, an unreadable folder, a malformed config, a hang
        return None
    return done.stdout_text.strip() or None


def os_user() -> str:
    """The login name of the OS user, or `uid:N` when the system has no name for it (containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def hostname() -> str:
    """This host's name as apply locks record it."""
    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether a process with that id exists on this host (one we may not signal still exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
