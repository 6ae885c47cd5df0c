"""Which guardrail.yaml governs a command: the one that belongs with the plan, wherever the command runs.

A plan is judged by the configuration of the directory it was made in, not by whatever the working
directory holds: `cd elsewhere && guardrail apply DIR/plan.tfplan` must meet DIR's protections and DIR's
store (its locks, approvals and apply lock), as an apply run from DIR itself does.

The search: `--config` when given; else guardrail.yaml in the starting folder, then in each folder above
it up to the root of its repository (the folder holding .git), so that a repository's one guardrail.yaml
governs plans in its subfolders; outside a repository, the starting folder only (a guardrail.yaml
lying in /tmp or a home folder must never apply to a plan by accident). For a plan the starting folder is
its configuration directory; when nothing is found there, the working directory is searched the same way
(a plan JSON written to a temporary folder by a pipeline); else the built-in defaults apply, rooted at the
starting folder, where the default store then lives.
"""

from __future__ import annotations

from pathlib import Path

from guardrail.config import DEFAULT_CONFIG_NAME, Settings, load_settings

REPOSITORY_MARKER = ".git"


def configuration_home(plan: Path) -> Path:
    """The directory a plan belongs to: the directory given, or the folder the plan file sits in."""
    return (plan if plan.is_dir() else plan.parent).resolve()


def find_config(start: Path) -> Path | None:
    """The guardrail.yaml that governs `start` (see the module docstring), or None."""
    start = start.resolve()
    folders = [start, *start.parents]
    root = next((i for i, folder in enumerate(folders) if (folder / REPOSITORY_MARKER).exists()), None)
    searched = folders[: root + 1] if root is not None else [start]
    return next((folder / DEFAULT_CONFIG_NAME for folder in searched if (folder / DEFAULT_CONFIG_NAME).is_file()), None)


def settings_for(config: Path | None, *, start: Path, fallback: Path | None = None) -> Settings:
    """The settings of a command starting at `start` (a plan's configuration directory, or the working
    directory): `config` when given (it must exist), else the guardrail.yaml found from `start`, then from
    `fallback`, else the defaults with `start` as their base (and the default store's home).

    Raises ConfigError naming the file and line of a bad configuration.
    """
    if config is not None:
        return load_settings(config, required=True)
    for folder in (start, fallback):
        found = find_config(folder) if folder is not None else None
        if found is not None:
            return load_settings(found, required=True)
    return Settings(base_dir=start.resolve())
