"""`guardrail changed-roots --base REF`: which Terraform roots to plan in a monorepo pipeline."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from guardrail.cli.main import app
from guardrail.cli.output import emit, inert


class RootsFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("changed-roots")
def changed_roots_command(
    base: str = typer.Option(..., "--base", help="Commit, branch or tag to compare with (its merge base with HEAD)."),
    directory: Path = typer.Option(Path("."), "--dir", help="Any folder of the repository (default: here)."),
    output_format: RootsFormat = typer.Option(RootsFormat.text, "--format", "-f", help="text or json."),
) -> int:
    """List the Terraform root modules touched since BASE: their own files, or a local module they call
    (however deep). Deleted roots are listed as deleted, moved ones as renamed. Exit 0; 3 when the folder is
    not in a git repository or BASE is not a commit."""
    from guardrail.services.roots import changed_roots_since

    found = changed_roots_since(directory, base)
    if output_format is RootsFormat.json:
        document = {
            "repository": str(found.repository),
            "base": found.base,
            "since": found.since,
            "roots": [
                {"path": r.path, "status": r.status.value, "renamed_from": r.renamed_from, "because": list(r.because)}
                for r in found.roots
            ],
        }
        emit(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    for root in found.roots:
        detail = f" (renamed from {inert(root.renamed_from)})" if root.renamed_from else ""
        emit(f"{inert(root.path)}\t{root.status.value}{detail}")
    return 0
