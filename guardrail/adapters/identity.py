"""Who is acting, and which process on which host: recorded on every event and on apply locks."""

from __future__ import annotations

import configparser
import getpass
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from git import GitConfigParser

ACTOR_ENV = "GUARDRAIL_ACTOR"


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
    """`user.email` as git would resolve it in `cwd`, or None (no git, no repository, not set)."""
    try:
        import git
    except ImportError:  # GitPython refuses to import when no git executable can be found
        return None
    try:
        try:
            repo = git.Repo(cwd, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            reader = git.GitConfigParser(_user_config_files(), read_only=True)
            return _value(reader)
        with repo:
            return _value(repo.config_reader())
    except (OSError, ValueError, git.GitError):
        return None


def _user_config_files() -> list[str]:
    # What git itself reads outside a repository: system, XDG and home configuration.
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidates = [Path("/etc/gitconfig"), xdg / "git" / "config", Path.home() / ".gitconfig"]
    return [str(p) for p in candidates if p.is_file()]


def _value(reader: GitConfigParser) -> str | None:
    try:
        value = reader.get_value("user", "email", default="")
    except configparser.Error:  # a malformed git config must not stop guardrail from naming the actor
        return None
    text = str(value).strip()
    return text or None


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
