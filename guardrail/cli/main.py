"""The `guardrail` command and its single error boundary.

Every error becomes one readable line on stderr and an exit code from DESIGN.md's contract:
0 allow, 1 deny, 2 needs approval, 3 bad input or configuration, 4 internal error. `--debug` adds the
traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

import click
import typer
from typer.exceptions import TyperException

from guardrail import __version__
from guardrail.core.errors import BadInputError, ClusterError, CommandError, DeniedError, GuardrailError

EXIT_BAD_INPUT = 3
EXIT_INTERNAL = 4

app = typer.Typer(
    name="guardrail",
    help="A fail-closed gate, preview and brake in front of infrastructure changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"guardrail {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """guardrail: policy checks, protection, and a verdict for every Terraform plan."""


def _register_commands() -> None:
    from guardrail.cli import apply, approvals, audit, check, kube, kube_apply, locks, nodes, rollout, tui  # noqa: F401  (each registers its commands)


def _fail(code: int, message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    sys.stderr.write(f"guardrail: {message}\n")
    return code


def run(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map whatever happens to an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _register_commands()
    try:
        result = app(args=args, prog_name="guardrail", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except (click.exceptions.Exit, typer.Exit) as exc:
        code = exc.exit_code
    except (click.exceptions.Abort, typer.Abort):
        code = _fail(EXIT_BAD_INPUT, "aborted", debug)
    except (click.ClickException, TyperException) as exc:
        # Usage errors: click would exit 2, which means "needs approval" here.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        code = _fail(EXIT_BAD_INPUT, message, debug)
    except BadInputError as exc:
        code = _fail(EXIT_BAD_INPUT, str(exc), debug)
    except CommandError as exc:
        code = _fail(EXIT_BAD_INPUT, str(exc), debug)
    except ClusterError as exc:  # unreachable or refusing: never a verdict, always what to fix
        code = _fail(EXIT_BAD_INPUT, str(exc), debug)
    except DeniedError as exc:  # refused by a rule of change management (self-approval, a held lock)
        code = _fail(1, str(exc), debug)
    except GuardrailError as exc:
        code = _fail(EXIT_INTERNAL, f"error: {exc}", debug)
    except KeyboardInterrupt:
        code = _fail(130, "interrupted", debug)
    except Exception as exc:  # the boundary: a bug is reported, never shown as a raw traceback
        hint = "" if debug else " (run with --debug for the traceback)"
        code = _fail(EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}{hint}", debug)
    sys.stdout.flush()
    raise SystemExit(code)


def entry() -> None:
    """The `guardrail` program: `run`, then leave without tearing the interpreter down.

    After a check of a large plan, freeing its millions of objects one by one at exit takes longer than
    some whole commands (~40 ms on 11,000 changes); every file and the store are closed by then, and the
    output is flushed here. In-process callers (tests, embedding) use `run`, which raises SystemExit.
    """
    code = 0
    try:
        run()
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else (0 if exited.code is None else 1)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`guardrail check | head`): nothing left to write to
            code = code or EXIT_INTERNAL
    os._exit(code)
