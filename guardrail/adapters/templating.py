"""Manifests from files and folders, jinja2 templates rendered per cluster with the fleet's values.

A file ending in `.j2` is a template (StrictUndefined: a value the fleet does not give is an error naming
the template and the cluster, never an empty string in a manifest); `.yaml`/`.yml` files are read as
they are. A folder contributes its files of those kinds, in name order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import yaml

from guardrail.core.errors import BadInputError

_SUFFIXES = (".yaml", ".yml", ".j2")


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The files `paths` name (folders expanded). Raises BadInputError for a missing path."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(_SUFFIXES)))
        elif path.is_file():
            files.append(path)
        else:
            raise BadInputError(f"{path}: no such manifest file or folder")
    return files


def render_manifests(paths: Sequence[Path], values: Mapping[str, Any], *, cluster: str) -> list[dict[str, Any]]:
    """Every object of the files, templates rendered with `values` and `cluster` (the cluster's name).

    Raises BadInputError naming the file (and cluster, and line where known) for an undefined value, a
    template or YAML error, or a document that is not an object.
    """
    objects: list[dict[str, Any]] = []
    context = {**values, "cluster": {"name": cluster, **dict(values.get("cluster") or {})}}
    for file in manifest_files(paths):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInputError(f"{file}: cannot read: {exc}") from None
        if file.suffix == ".j2":
            text = _render(file, text, context, cluster)
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
            raise BadInputError(
                f"{where}: invalid YAML for cluster {cluster}: {getattr(exc, 'problem', exc)}"
            ) from None
        for index, document in enumerate(documents):
            if document is None:
                continue
            if not isinstance(document, dict) or "kind" not in document:
                raise BadInputError(f"{file}: document {index + 1} is not a Kubernetes object")
            objects.append(document)
    return objects


def _render(file: Path, text: str, context: Mapping[str, Any], cluster: str) -> str:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    try:
        return environment.from_string(text).render(**context)
    except jinja2.UndefinedError as exc:
        raise BadInputError(f"{file}: template for cluster {cluster}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise BadInputError(f"{file}:{exc.lineno}: template syntax: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise BadInputError(f"{file}: template for cluster {cluster}: {exc}") from None
