"""Reading a stream of YAML documents as kubectl sees them, fast and fail-closed.

libyaml (PyYAML's C parser) composes each document; the values are built here, skipping PyYAML's generic
constructor (most of its time), with the YAML 1.1 pitfalls settled:

- timestamps stay strings (kubectl sends them as written) and sexagesimal `22:22` is a string, not 1342;
  `yes`/`no`/`on`/`off` are booleans and `0755` is octal, as in kubectl's YAML 1.1;
- a key given twice in one mapping is refused: which value wins differs between tools, so a reviewer could
  read one value and the cluster get the other (merge keys `<<` may be overridden, as YAML means them);
- anchors and aliases are followed, but an alias that refers to itself, or aliases that expand a document
  past MAX_EXPANDED_VALUES (a "billion laughs" document), are refused;
- keys that are not strings become their JSON text (`1` -> "1"), as kubectl's YAML-to-JSON does;
- binary values and tags guardrail does not know are refused, never guessed.

Errors are BadDocument values carrying the document's index, so the caller names the file and document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Every value an alias makes appear again counts; a real manifest reuses a few blocks, a bomb billions.
MAX_EXPANDED_VALUES = 1_000_000

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_TRUE = frozenset({"yes", "true", "on"})

# PyYAML's YAML 1.1 resolvers, less timestamps and the sexagesimal forms of ints and floats.
_RESOLVERS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        _BOOL,
        re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
        "yYnNtTfFoO",
    ),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+0123456789.",
    ),
    (
        _INT,
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        "-+0123456789",
    ),
    (_MERGE, re.compile(r"^(?:<<)$"), "<"),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
)
_BY_FIRST: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {}
for _tag, _pattern, _firsts in _RESOLVERS:
    for _first in _firsts:
        _BY_FIRST[_first] = (*_BY_FIRST.get(_first, ()), (_tag, _pattern))


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser and composer when PyYAML has them, with the resolvers above."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                # Keys and common values repeat thousands of times in a stream: each is resolved once.
                tag = _RESOLVED.get(value)
                if tag is None:
                    tag = _resolve_plain(value)
                    if len(_RESOLVED) < _RESOLVED_MAX:
                        _RESOLVED[value] = tag
                return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX = 100_000


def _resolve_plain(value: str) -> str:
    if not value:
        return _NULL
    for tag, pattern in _BY_FIRST.get(value[0], ()):
        if pattern.match(value):
            return tag
    return _STR


@dataclass(frozen=True, slots=True)
class BadDocument:
    """Why document `index` of a stream cannot be read, and the line (1-based) when known."""

    index: int
    problem: str
    line: int | None = None

    def describe(self, file: str) -> str:
        at = f" (line {self.line})" if self.line is not None else ""
        return f"{file}: document {self.index}: {self.problem}{at}"


class DocumentError(Exception):
    """Carries a BadDocument out of the stream; the adapter turns it into a BadInputError."""

    def __init__(self, bad: BadDocument) -> None:
        super().__init__(bad.problem)
        self.bad = bad


def documents(data: bytes | str) -> Iterator[tuple[int, Any]]:
    """(index, value) of every document of the stream, empty ones (None) included. Raises DocumentError."""
    loader = _Loader(data)
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                value = _Builder(index).build(node)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                # Only the problem and the line: the error's text would quote the line, which may hold a secret.
                line = mark.line + 1 if mark is not None else None
                raise DocumentError(BadDocument(index, f"invalid YAML: {exc.problem or exc.context}", line)) from None
            except yaml.YAMLError as exc:  # a reader error: bytes that are not text
                raise DocumentError(BadDocument(index, f"invalid YAML: {_reader_problem(exc)}")) from None
            except RecursionError:
                raise DocumentError(BadDocument(index, "nested too deeply to read")) from None
            yield index, value
            index += 1
    finally:
        loader.dispose()


class _Builder:
    """Builds one document's values from its composed nodes (see the module docstring)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.built: dict[int, Any] = {}  # containers by node id: an alias yields the same value again
        self.building: set[int] = set()
        self.expanded = 0
        self.sizes: dict[int, int] = {}

    def fail(self, node: Node, problem: str) -> DocumentError:
        return DocumentError(BadDocument(self.index, problem, node.start_mark.line + 1))

    def build(self, node: Node) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            return self.scalar(node)
        key = id(node)
        if key in self.built:
            if key in self.building:
                raise self.fail(node, "an alias refers to the value that contains it")
            self.expanded += self.size(node)
            if self.expanded > MAX_EXPANDED_VALUES:
                raise self.fail(node, f"aliases expand the document past {MAX_EXPANDED_VALUES:,} values")
            return self.built[key]
        self.building.add(key)
        try:
            if cls is MappingNode:
                result: Any = {}
                self.built[key] = result
                self.mapping(node, result)
            else:
                result = []
                self.built[key] = result
                result.extend(self.build(child) for child in node.value)
        finally:
            self.building.discard(key)
        return result

    def mapping(self, node: Node, result: dict[str, Any]) -> None:
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = key_node.value if key_node.tag == _STR else self.key_text(key_node)
            if key in result:
                raise self.fail(key_node, f"key {key!r} is given twice in one mapping")
            result[key] = self.build(value_node)
        for merge in merges:  # explicit keys win over merged ones, and earlier merges over later ones
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                merged = self.build(source)
                if not isinstance(merged, dict):
                    raise self.fail(source, "a merge key (<<) needs a mapping or a list of mappings")
                for key, value in merged.items():
                    result.setdefault(key, value)

    def key_text(self, node: Node) -> str:
        """A key that is not a string as its JSON text; a mapping or list as a key is refused."""
        key = self.build(node)
        if isinstance(key, bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        if isinstance(key, int | float | str):
            return str(key)
        raise self.fail(node, "a mapping or list used as a key")

    def scalar(self, node: Node) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() in _TRUE
        if tag in (_INT, _FLOAT):
            return _number(tag, value)
        if tag == "tag:yaml.org,2002:timestamp":
            return value
        if tag == "tag:yaml.org,2002:binary":
            raise self.fail(node, "a !!binary value: write it as a base64 string")
        raise self.fail(node, f"unknown tag {tag!r}")

    def size(self, node: Node) -> int:
        """How many values `node` stands for, aliases expanded (memoised: a DAG is walked once)."""
        key = id(node)
        if key not in self.sizes:
            self.sizes[key] = 1  # placeholder: a cycle is refused by build before it loops here
            children: list[Node] = []
            if isinstance(node, MappingNode):
                children = [part for pair in node.value for part in pair]
            elif isinstance(node, SequenceNode):
                children = list(node.value)
            self.sizes[key] = 1 + sum(self.size(child) for child in children)
        return self.sizes[key]


def _number(tag: str, value: str) -> int | float:
    text = value.replace("_", "")
    if tag == _FLOAT:
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(text)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _reader_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "reason", None) or getattr(exc, "problem", None)
    return str(problem) if problem else "the input is not UTF-8 or UTF-16 text"
