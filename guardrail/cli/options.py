"""What several commands share: options (config, store, policies, terraform), list formats, sub-apps and
the store a command opens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from guardrail.cli.main import GuardrailTyper, app

if TYPE_CHECKING:
    from guardrail.config import Settings
    from guardrail.core.store_ports import Store


def _system_time() -> datetime:
    return datetime.now(UTC)


# What the commands take the time from: the system clock. Tests set another (a lock expiring in one second
# is then one second away whatever the machine's load), as the TUI's tests give its session a clock.
clock: Callable[[], datetime] = _system_time


def now() -> datetime:
    """The current time, UTC, as every command sees it."""
    return clock()


CONFIG = typer.Option(
    None,
    "--config",
    "-c",
    help="guardrail.yaml (default: the nearest guardrail.yaml from the plan's directory, or from the working "
    "directory, up to the repository's root).",
)
# $GUARDRAIL_STORE is read by the store wiring itself, after --store and before guardrail.yaml's store:.
STORE = typer.Option(
    None,
    "--store",
    help="Store URL: sqlite:///PATH or postgresql://... (default: $GUARDRAIL_STORE, store: in guardrail.yaml, "
    "else .guardrail/guardrail.db beside guardrail.yaml or in the plan's directory). It must exist: "
    "guardrail store init creates one.",
)

POLICY = typer.Option(None, "--policy", "-p", help="Rego policy file or folder (repeatable).")
NAMESPACE = typer.Option(None, "--namespace", "-n", help="Rego package to evaluate (repeatable; default main).")
ALL_NAMESPACES = typer.Option(False, "--all-namespaces", help="Evaluate every Rego package.")
TERRAFORM_BIN = typer.Option(
    None, "--terraform-bin", envvar="GUARDRAIL_TERRAFORM", help="terraform or tofu binary to run."
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


LIST_FORMAT = typer.Option(ListFormat.table, "--format", "-f", help="table or json.")


def sub_app(name: str, help_text: str) -> typer.Typer:
    """A command group (`guardrail NAME ...`) registered on the main app."""
    group = GuardrailTyper(name=name, help=help_text, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group)
    return group


@contextmanager
def command_store(config: Path | None, store: str | None, *, plan: Path | None = None) -> Iterator[Store]:
    """The store for a command: --store, else $GUARDRAIL_STORE, else guardrail.yaml's store:, else the
    default (see load_config for which guardrail.yaml, `plan` being a configuration directory the command
    is about); closed when the command is done."""
    from guardrail.services.store import opened_store

    with opened_store(store, load_config(config, plan=plan)) as opened:
        yield opened


def load_config(config: Path | None, *, plan: Path | None = None) -> Settings:
    """guardrail.yaml as --config names it (then required), else the one that governs `plan` (searched
    from its configuration directory, then from the working directory), else the one of the working
    directory, else the defaults: see config/discovery.py."""
    from guardrail.config.discovery import configuration_home, settings_for

    if plan is None:
        return settings_for(config, start=Path.cwd())
    return settings_for(config, start=configuration_home(plan), fallback=Path.cwd())
