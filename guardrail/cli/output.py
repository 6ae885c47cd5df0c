"""Writing reports: to stdout, or atomically to a file so a reader never sees half a report."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.core.errors import BadInputError

if TYPE_CHECKING:
    from guardrail.core.report import CheckReport


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write output: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise BadInputError(f"{path}: cannot write output: {exc.strerror}") from None


def use_color() -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def inert(text: str) -> str:
    """Text from a plan or the store (addresses, reasons, actors) with control characters shown as escapes,
    so an escape sequence in a lock reason cannot repaint the operator's terminal."""
    from guardrail.adapters.render.common import neutralise

    return neutralise(text)


def show_report(report: CheckReport, output_format: str, output: Path | None) -> None:
    """The report in `output_format` on stdout, or written to `output` with the text report on stdout."""
    from guardrail.services.wiring import renderer

    if output is None:
        emit(renderer(output_format, color=use_color()).render(report))
    else:
        write_atomically(output, renderer(output_format, color=False).render(report))
        emit(renderer("text", color=use_color()).render(report))
