"""Reading a YAML settings file strictly: a key given twice and runaway nesting are errors, not surprises.

YAML loaders keep the last of two equal keys without a word, so a second `protect:` would silently drop
every protection of the first.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class TooDeepError(yaml.YAMLError):
    """Collections nested deeper than a settings file may nest; `problem_mark` is where the limit was passed."""

    def __init__(self, problem: str, problem_mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = problem_mark


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader refusing a key given twice in one mapping (a `<<` merge may still be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the base class refuses it with its own message
            if first is not key_node.start_mark:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first given on line {first.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str, max_nesting: int) -> tuple[yaml.Node | None, Any]:
    """The node tree (for error lines) and the data of one YAML document.

    Raises yaml.YAMLError (its `problem_mark` says where) for bad YAML, a duplicated key, or collections
    nested deeper than `max_nesting`; RecursionError may still come from aliases nesting deeper than the
    text does.
    """
    _check_nesting(text, max_nesting)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _check_nesting(text: str, max_nesting: int) -> None:
    # The event parser does not recurse; composing a document does, once per level.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > max_nesting:
                raise TooDeepError(f"nested deeper than {max_nesting} levels", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
