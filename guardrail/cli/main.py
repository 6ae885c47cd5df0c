"""The `guardrail` command and its single error boundary.

Every error becomes one readable line on stderr and an exit code from DESIGN.md's contract:
0 allow, 1 deny, 2 needs approval, 3 bad input or configuration, 4 internal error. `--debug` adds the
traceback.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.exceptions import TyperException

from guardrail import __version__
from guardrail.core.errors import BadInputError, ClusterError, CommandError, DeniedError, GuardrailError

EXIT_BAD_INPUT = 3
EXIT_INTERNAL = 4

Command = TypeVar("Command", bound=Callable[..., Any])
DEBUG_HELP = "Show the full traceback of an error."


class _Debug:
    """Whether this run was given --debug (before the command or after it): the error boundary reads it."""

    requested = False


def _with_debug_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with a `--debug` option of its own, so that `guardrail check PLAN --debug` works as
    `guardrail --debug check PLAN` does. The option is declared in the signature typer reads."""
    declared = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def with_debug(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        if debug:
            _Debug.requested = True
        return command(*args, **kwargs)

    option = inspect.Parameter(
        "debug",
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(False, "--debug", help=DEBUG_HELP),
        annotation=bool,
    )
    with_debug.__signature__ = declared.replace(  # type: ignore[attr-defined]
        parameters=[*declared.parameters.values(), option]
    )
    with_debug.__annotations__ = {**{p.name: p.annotation for p in declared.parameters.values()}, "debug": bool}
    return with_debug


class GuardrailTyper(typer.Typer):
    """A typer app whose every command also takes --debug."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Command], Command]:
        register = super().command(*args, **kwargs)

        def decorator(command: Command) -> Command:
            register(_with_debug_option(command))
            return command

        return decorator


app = GuardrailTyper(
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
    debug: bool = typer.Option(False, "--debug", help=DEBUG_HELP),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """guardrail: policy checks, protection, and a verdict for every Terraform plan."""
    if debug:
        _Debug.requested = True


def _register_commands() -> None:
    from guardrail.cli import (  # noqa: F401  (each registers its commands)
        apply,
        approvals,
        audit,
        check,
        kube,
        kube_apply,
        locks,
        nodes,
        rollback,
        rollout,
        roots,
        store,
        tui,
    )


def _fail(code: int, message: str) -> int:
    if _Debug.requested:
        traceback.print_exc()
    sys.stderr.write(f"guardrail: {message}\n")
    return code


def run(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map whatever happens to an exit code."""
    args = sys.argv[1:] if argv is None else argv
    _Debug.requested = False
    _register_commands()
    try:
        result = app(args=args, prog_name="guardrail", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = _fail(EXIT_BAD_INPUT, "aborted")
    except TyperException as exc:
        # Usage errors (typer's own, click's vendored in it): they would exit 2, "needs approval" here.
        code = _fail(EXIT_BAD_INPUT, exc.format_message())
    except BadInputError as exc:
        code = _fail(EXIT_BAD_INPUT, str(exc))
    except CommandError as exc:
        code = _fail(EXIT_BAD_INPUT, str(exc))
    except ClusterError as exc:  # unreachable or refusing: never a verdict, always what to fix
        code = _fail(EXIT_BAD_INPUT, str(exc))
    except DeniedError as exc:  # refused by a rule of change management (self-approval, a held lock)
        code = _fail(1, str(exc))
    except GuardrailError as exc:
        code = _fail(EXIT_INTERNAL, f"error: {exc}")
    except KeyboardInterrupt:
        code = _fail(130, "interrupted")
    except Exception as exc:  # the boundary: a bug is reported, never shown as a raw traceback
        hint = "" if _Debug.requested else " (run with --debug for the traceback)"
        code = _fail(EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}{hint}")
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
