"""Tables for people: rich on a terminal, and wide enough in a pipe that nothing is cut or wrapped."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from guardrail.cli.output import emit, inert, use_color

# Piped output has no terminal width; rich would fall back to 80 columns and fold long ids and reasons.
_PIPE_WIDTH = 400


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table of `rows` under `columns`, or a one-line "no ..." message when there are none."""
    if not rows:
        emit(f"no {title}")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, box=None, show_edge=False, pad_edge=False, header_style="bold")
    for row in rows:
        # Text cells are never read as markup: `[bold]` in a lock reason prints as typed.
        table.add_row(*(Text(inert(cell)) for cell in row))
    tty = sys.stdout.isatty()
    console = Console(
        file=sys.stdout, width=None if tty else _PIPE_WIDTH, no_color=not use_color(), highlight=False, soft_wrap=True
    )
    console.print(table)


def print_json(value: object) -> None:
    emit(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))
