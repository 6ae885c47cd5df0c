"""Reading the real-world Kubernetes corpus (../shared/corpus) in the rule tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CORPUS_DIR

MANIFESTS = CORPUS_DIR / "kubernetes-manifests"


def documents(path: Path) -> Iterator[Mapping[str, Any]]:
    """Every object of a YAML file, with `kind: List` (and `RoleList`...) expanded as kubectl reads it."""
    for document in yaml.safe_load_all(path.read_text()):
        if not isinstance(document, Mapping):
            continue
        if str(document.get("kind", "")).endswith("List") and isinstance(document.get("items"), list):
            yield from (item for item in document["items"] if isinstance(item, Mapping))
        else:
            yield document


def corpus_objects(*relative: str) -> list[Mapping[str, Any]]:
    """The objects of corpus files (paths under kubernetes-manifests/); skips the test when absent."""
    objects: list[Mapping[str, Any]] = []
    for name in relative:
        path = MANIFESTS / name
        if not path.is_file():
            pytest.skip(f"real-world corpus file not found at {path}")
        objects.extend(documents(path))
    return objects
