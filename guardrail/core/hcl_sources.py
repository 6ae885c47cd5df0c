"""Reading what changed-roots needs from Terraform files: each module call's `source`, and whether the
file declares a backend (or HCP Terraform's `cloud` block), which only a root module does.

Terraform requires `source` to be a literal string, so a lexer that knows HCL's comments, strings (with
`${...}` interpolation), heredocs and nesting finds every one exactly: no evaluation is needed. Blocks are
tracked by their type, so a `source` key inside an object value or a heredoc is never taken for one.
`.tf.json` files are read as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


@dataclass(frozen=True)
class FileFacts:
    """What one file says: the `source` of each module call, and whether it declares a backend."""

    module_sources: tuple[str, ...] = ()
    declares_backend: bool = False


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ident, string, open, close, equals, newline, other
    text: str
    literal: bool = False  # a string without interpolation (only strings are literal)


def read_facts(text: str, *, json_syntax: bool = False) -> FileFacts:
    """The facts of one file's text (HCL native syntax, or JSON syntax for `.tf.json`). A file that does
    not parse as JSON says nothing (terraform would refuse it anyway)."""
    if json_syntax:
        return _json_facts(text)
    return _hcl_facts(_tokens(text))


def _json_facts(text: str) -> FileFacts:
    try:
        document = json.loads(text)
    except ValueError:
        return FileFacts()
    if not isinstance(document, dict):
        return FileFacts()
    sources: list[str] = []
    for calls in _as_list(document.get("module")):
        if isinstance(calls, dict):
            for body in calls.values():
                for item in _as_list(body):
                    if isinstance(item, dict) and isinstance(item.get("source"), str):
                        sources.append(item["source"])
    backend = any(
        isinstance(block, dict) and ("backend" in block or "cloud" in block)
        for block in _as_list(document.get("terraform"))
    )
    return FileFacts(tuple(sources), backend)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _hcl_facts(tokens: list[_Token]) -> FileFacts:
    sources: list[str] = []
    backend = False
    blocks: list[str] = []  # the type of each open block, outermost first
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.kind == "close":
            if blocks:
                blocks.pop()
            position += 1
            continue
        if token.kind != "ident":
            position += 1
            continue
        # A statement: `name = expression` or `type "label"... {`.
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if following is not None and following.kind == "equals":
            value = tokens[position + 2] if position + 2 < len(tokens) else None
            # An interpolated source is refused by terraform: there is nothing to follow.
            if blocks == ["module"] and token.text == "source" and value is not None and value.literal:
                sources.append(value.text)
            position = _skip_expression(tokens, position + 2)
            continue
        end = position + 1
        while end < len(tokens) and tokens[end].kind in ("ident", "string"):
            end += 1
        if end < len(tokens) and tokens[end].kind == "open":
            if blocks == ["terraform"] and token.text in ("backend", "cloud"):
                backend = True
            blocks.append(token.text)
            position = end + 1
            continue
        position = end
    return FileFacts(tuple(sources), backend)


def _skip_expression(tokens: list[_Token], start: int) -> int:
    """The position after an attribute's expression: the end of its line outside any brackets."""
    depth = 0
    position = start
    while position < len(tokens):
        token = tokens[position]
        if token.kind == "open" or token.text in ("(", "["):
            depth += 1
        elif token.kind == "close" or token.text in (")", "]"):
            if depth == 0:
                return position  # the enclosing block closes right after the value
            depth -= 1
        elif token.kind == "newline" and depth == 0:
            return position + 1
        position += 1
    return position


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char == "\n":
            tokens.append(_Token("newline", "\n"))
            i += 1
        elif char in " \t\r":
            i += 1
        elif char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = size if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = size if end < 0 else end + 2
        elif char == '"':
            value, literal, i = _string(text, i + 1)
            tokens.append(_Token("string", value, literal))
        elif text.startswith("<<", i) and (heredoc := _HEREDOC.match(text, i)):
            i = _after_heredoc(text, heredoc.end(), heredoc.group(2))
            tokens.append(_Token("string", ""))
        elif char == "{":
            tokens.append(_Token("open", char))
            i += 1
        elif char == "}":
            tokens.append(_Token("close", char))
            i += 1
        elif char == "=" and not text.startswith("==", i) and not (tokens and tokens[-1].text in "!<>="):
            tokens.append(_Token("equals", char))
            i += 1
        elif ident := _IDENT.match(text, i):
            tokens.append(_Token("ident", ident.group()))
            i = ident.end()
        else:
            tokens.append(_Token("other", char))
            i += 1
    return tokens


def _string(text: str, i: int) -> tuple[str, bool, int]:
    """A quoted string from just after its opening quote: (value, literal, position after it)."""
    value: list[str] = []
    literal = True
    size = len(text)
    while i < size:
        char = text[i]
        if char == "\\" and i + 1 < size:
            value.append(text[i : i + 2])
            i += 2
        elif char == '"':
            return "".join(value), literal, i + 1
        elif char == "\n":
            return "".join(value), False, i  # unterminated: terraform would refuse the file
        elif text.startswith(("${", "%{"), i) and not text.startswith(("$${", "%%{"), i - 1):
            literal = False
            i = _after_template(text, i + 2)
        else:
            value.append(char)
            i += 1
    return "".join(value), False, i


def _after_template(text: str, i: int) -> int:
    """The position after a `${...}` whose `{` is just before `i` (nested braces and strings inside)."""
    depth = 1
    while i < len(text) and depth:
        char = text[i]
        if char == '"':
            _, _, i = _string(text, i + 1)
            continue
        depth += 1 if char == "{" else -1 if char == "}" else 0
        i += 1
    return i


def _after_heredoc(text: str, i: int, marker: str) -> int:
    """The position after the line that closes a heredoc (its marker alone, indentation allowed)."""
    closing = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.MULTILINE)
    found = closing.search(text, i)
    return len(text) if found is None else found.end()
