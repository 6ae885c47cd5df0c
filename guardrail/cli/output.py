"""Writing reports: to stdout, or atomically to a file so a reader never sees half a report."""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.core.errors import BadInputError
from guardrail.core.ports import OutputLine

# What else may be at an output path, and why a report is never written over it.
_REFUSED = {
    stat.S_IFDIR: "a directory",
    stat.S_IFSOCK: "a socket",
    stat.S_IFBLK: "a block device",  # a disk: a report written over it would destroy it
}

if TYPE_CHECKING:
    from guardrail.core.report import CheckReport


def write_atomically(path: Path, text: str) -> None:
    """Write a report to `path` as a reader expects to find it, and raise BadInputError (exit 3) when it
    cannot be written or `path` is something a report must not replace.

    - nothing there, or a regular file: the report goes to a temporary file beside it, renamed over it, so
      a reader never sees half a report. A new file gets the permissions the umask allows (as the shell
      gives them); an existing one keeps its own.
    - a symlink: written through to its target, atomically in the target's folder when the target is a
      regular file (or created there when there is none yet); the link itself stays.
    - a FIFO or a character device (a terminal, /dev/stdout, /dev/null): written to, as a shell redirection
      would. Replacing one would break whoever reads it and leave a stray file in its place.
    - a directory, a socket or a block device: refused.
    """
    try:
        found = os.stat(path)  # through symlinks: what a write would reach
    except FileNotFoundError:
        found = None
    except OSError as exc:  # a symlink loop, a component that is not a folder
        raise BadInputError(f"{path}: cannot write output: {exc.strerror}") from None
    kind = stat.S_IFMT(found.st_mode) if found is not None else stat.S_IFREG
    if kind in _REFUSED:
        raise BadInputError(f"{path}: {_REFUSED[kind]}: cannot write a report to it")
    if kind != stat.S_IFREG:  # a FIFO or a character device
        _write_through(path, text)
        return
    target = Path(os.path.realpath(path))
    if found is not None and not _same_file(target, found):
        _write_through(path, text)  # a regular file only reachable through a /proc link: written in place
        return
    _replace(target, text, found.st_mode & 0o777 if found is not None else None, shown=path)


def _same_file(target: Path, found: os.stat_result) -> bool:
    try:
        resolved = os.stat(target)
    except OSError:
        return False
    return (resolved.st_dev, resolved.st_ino) == (found.st_dev, found.st_ino)


def _write_through(path: Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write output: {exc.strerror}") from None


def _replace(target: Path, text: str, mode: int | None, *, shown: Path) -> None:
    """`text` into a new file beside `target`, renamed over it: `mode` for the file, or (None) what the
    umask allows, which the kernel applies to a file created with 0666."""
    folder = target.parent
    try:
        while True:
            temp = folder / f".{target.name}.{secrets.token_hex(4)}"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
                break
            except FileExistsError:
                continue
    except OSError as exc:
        raise BadInputError(f"{shown}: cannot write output: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(text)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise BadInputError(f"{shown}: cannot write output: {exc.strerror}") from None


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


def show_line(line: OutputLine, *, keep_stdout_clean: bool = False) -> None:
    """Show one line of terraform's output as it comes, on the stream terraform wrote it to (on stderr when
    `keep_stdout_clean`: stdout then carries one machine-readable document)."""
    stream = sys.stderr if line.stderr or keep_stdout_clean else sys.stdout
    try:
        stream.write(line.text + "\n")
        stream.flush()
    except (OSError, ValueError):  # a closed terminal or pipe: terraform must still run to its end
        pass
