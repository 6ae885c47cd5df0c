"""Reading one settings-like YAML file (guardrail.yaml, a fleet file, a pool file) into its pydantic model,
with every problem reported as `file:line: what` (exit 3), never as a traceback."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from guardrail.config.yaml_reading import read_yaml
from guardrail.core.errors import ConfigError

# Deeper than any real settings file nests; past it the file is refused before the parser recurses.
MAX_NESTING = 64

Model = TypeVar("Model", bound=BaseModel)


def load_model(
    path: Path, model: type[Model], *, what: str, expected: str, extra: Mapping[str, Any] | None = None
) -> Model:
    """The file at `path` validated as `model` (with `extra` fields added, e.g. its folder).

    `what` names the file in messages ("config file"); `expected` says what its top level must be. Raises
    ConfigError naming the file (and line) when it is missing or unreadable, not YAML, has a key twice,
    nests too deeply, has unknown keys or bad values.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from None
    try:
        node, data = read_yaml(text, MAX_NESTING)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: values nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected {expected} at the top level")
    try:
        return model.model_validate({**data, **(extra or {})})
    except ValidationError as exc:
        raise ConfigError(describe_error(path, node, exc)) from None
    except RecursionError:  # aliases can nest deeper than the text does
        raise ConfigError(f"{path}: values nested too deeply") from None


def describe_error(path: Path, node: yaml.Node | None, exc: ValidationError) -> str:
    """The first validation error as `file:line: dotted.location: message`."""
    error = exc.errors()[0]
    location = [part for part in error["loc"] if part != "base_dir"]
    line = _line_of(node, location)
    where = f"{path}:{line}" if line else str(path)
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
    return f"{where}: {dotted or 'settings'}: {message}"


def _line_of(node: yaml.Node | None, location: list[int | str]) -> int | None:
    """The 1-based line of the YAML node at `location`, or of its closest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
