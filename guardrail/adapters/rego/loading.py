"""Finding, reading and parsing Rego policy files, and learning their packages and rules.

Rego has two syntaxes: v0 (`deny[msg] { ... }`) and v1 (`deny contains msg if { ... }`, OPA 1.0's
default). Like conftest, guardrail accepts both, decided per file: a file that imports
`future.keywords` (and not `rego.v1`) was written for v0 and is read as v0 first; any other file is read
as v1 first, and as the other syntax when the first refuses it. A v0 rule with a body never parses as
v1 (v1 requires `if`), so a v0 file falls back to v0 as intended.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regorus

from guardrail.core.errors import PolicyError

# regorus refuses lines over 1,024 columns by default; OPA and conftest accept any, and generated policies
# (embedded allow-lists) do have long lines.
_MAX_COL = 1 << 20
_MAX_FILE_BYTES = 1 << 26
_MAX_LINES = 1 << 22

_FUTURE_KEYWORDS = re.compile(r"^[ \t]*import[ \t]+future\.keywords\b", re.MULTILINE)
_REGO_V1_IMPORT = re.compile(r"^[ \t]*import[ \t]+rego\.v1\b", re.MULTILINE)
_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)\s*$", re.MULTILINE)
_ERROR_LINE = re.compile(r"^error:\s*(?P<text>.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """One loaded policy: `name` is the path as the user gave it (it names the file in every message)."""

    name: str
    text: str
    rego_v0: bool


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What the parser learned about one file: its package path and the names of its rules."""

    name: str
    package: tuple[str, ...]
    rules: frozenset[str]


def discover(paths: Sequence[Path]) -> list[Path]:
    """Every policy file under `paths`, in a stable order, each once.

    A folder is searched recursively for `*.rego`, skipping conftest-style unit tests (`*_test.rego`) and
    hidden files and folders; a file named explicitly is always loaded. Raises PolicyError for a path that
    does not exist and for a folder that holds no policy (an empty policy folder must not pass silently).
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            in_folder = sorted(_policies_in(path))
            if not in_folder:
                raise PolicyError(f"{path}: no .rego policy files in this folder")
            candidates = in_folder
        elif path.is_file():
            candidates = [path]
        else:
            raise PolicyError(f"{path}: policy file or folder not found")
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _policies_in(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*.rego"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or path.name.endswith("_test.rego"):
            continue
        if path.is_file():
            yield path


def read_policy(path: Path) -> str:
    """The text of a policy file (UTF-8, with or without BOM). Raises PolicyError naming the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: policy is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror or exc}") from None


def new_engine() -> Any:
    """An empty regorus engine with conftest's tolerance for long policy files."""
    engine = regorus.Engine()
    engine.set_policy_length_config(max_col=_MAX_COL, max_file_bytes=_MAX_FILE_BYTES, max_lines=_MAX_LINES)
    return engine


def add_policy(engine: Any, name: str, text: str) -> PolicyFile:
    """Parse one policy into `engine`, choosing its Rego syntax; raises PolicyError naming file and line."""
    prefer_v0 = bool(_FUTURE_KEYWORDS.search(text)) and not _REGO_V1_IMPORT.search(text)
    failures: list[str] = []
    for rego_v0 in (True, False) if prefer_v0 else (False, True):
        engine.set_rego_v0(rego_v0)
        try:
            engine.add_policy(name, text)
        except Exception as exc:  # regorus raises RuntimeError or ValueError; the text is all we use
            failures.append(str(exc))
            continue
        finally:
            engine.set_rego_v0(False)
        return PolicyFile(name, text, rego_v0)
    # Report the syntax whose parser got further: that is the one the author wrote in.
    best = max(failures, key=_position)
    raise PolicyError(f"policy does not parse: {describe_error(best, default_where=name)}")


def replay(engine: Any, files: Sequence[PolicyFile]) -> None:
    """Load already-parsed policies into another engine (regorus engines are bound to one thread)."""
    for policy in files:
        engine.set_rego_v0(policy.rego_v0)
        try:
            engine.add_policy(policy.name, policy.text)
        finally:
            engine.set_rego_v0(False)


def describe_error(message: str, *, default_where: str = "") -> str:
    """One line from a regorus error: `file:line:col: what`, without the source excerpt and backtrace."""
    message = message.split("Stack backtrace:", 1)[0]
    location = _LOCATION.search(message)
    error = _ERROR_LINE.search(message)
    text = error.group("text").strip() if error else _first_line(message)
    if location:
        return f"{location.group('file')}:{location.group('line')}:{location.group('col')}: {text}"
    return f"{default_where}: {text}" if default_where else text


def error_file(message: str) -> str | None:
    """The file a regorus error points at, if it says."""
    location = _LOCATION.search(message)
    return location.group("file") if location else None


def _position(message: str) -> tuple[int, int]:
    location = _LOCATION.search(message)
    return (int(location.group("line")), int(location.group("col"))) if location else (0, 0)


def _first_line(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")


def syntax_trees(engine: Any) -> list[dict[str, Any]]:
    """regorus' syntax tree of every loaded policy: `source.file` and `ast` for each."""
    trees: list[dict[str, Any]] = json.loads(engine.get_ast_as_json())
    return trees


def inspect_modules(trees: Sequence[dict[str, Any]]) -> list[ModuleInfo]:
    """The package and rule names of every loaded policy.

    Functions are left out: they cannot be queried without arguments, and conftest never runs them.
    """
    modules: list[ModuleInfo] = []
    for module in trees:
        ast = module["ast"]
        package = tuple(_ref_path(ast["package"]["refr"]))
        rules: set[str] = set()
        for rule in ast["rules"]:
            kind, body = next(iter(rule.items()))
            head = body if kind == "Default" else body["head"]
            if kind != "Default":
                head_kind, head = next(iter(head.items()))
                if head_kind == "Func":
                    continue
            rules.add(_base_name(head["refr"]))
        modules.append(ModuleInfo(module["source"]["file"], package, frozenset(rules)))
    return modules


def _base_name(ref: dict[str, Any]) -> str:
    """The rule a head defines: `deny` for `deny`, `deny.sub` and `deny[msg]` alike."""
    kind, node = next(iter(ref.items()))
    while kind != "Var":
        kind, node = next(iter(node["refr"].items()))
    return str(node["value"])


def _ref_path(ref: dict[str, Any]) -> list[str]:
    """`a.b["c-d"]` as ["a", "b", "c-d"]: a Var followed by dotted fields and string indexes."""
    kind, node = next(iter(ref.items()))
    if kind == "Var":
        return [str(node["value"])]
    if kind == "RefDot":
        return [*_ref_path(node["refr"]), str(node["field"][1])]
    if kind == "RefBrack":
        index_kind, index = next(iter(node["index"].items()))
        if index_kind != "String":
            raise PolicyError(f"unsupported reference in a package or rule name: [{index_kind}]")
        return [*_ref_path(node["refr"]), str(index["value"])]
    raise PolicyError(f"unsupported reference in a package or rule name: {kind}")
