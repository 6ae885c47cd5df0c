"""Manifests in: YAML or JSON files, directories of them, kustomizations and standard input.

- A file holds any number of YAML documents (or one JSON document, or a stream of them); empty documents are
  skipped, as kubectl skips them. `kind: List` and typed lists (`RoleList`, ...) are expanded into their items.
- A directory is read like `kubectl apply -f DIR`: its `.yaml`, `.yml` and `.json` files in name order, not
  its subdirectories unless `recursive` (`-R`, as kubectl).
- A directory holding a `kustomization.yaml`, `kustomization.yml` or `Kustomization` is rendered with the real
  `kubectl kustomize`. A kustomize Component is refused: it is built only as part of a kustomization that
  lists it. A kustomization met while reading a directory recursively is refused too: pass its directory on
  its own (reading its files one by one would apply its unpatched bases).
- `-` is standard input, read once (`helm template ... | guardrail kube check -`).

Anything else (no such path, unreadable bytes, invalid YAML, a document that is not an object, a kustomize
file given as a manifest) is a BadInputError naming the file and document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from guardrail.adapters.manifests.yaml_documents import BadDocument, DocumentError, documents
from guardrail.core.errors import BadInputError
from guardrail.core.kube.objects import split_api_version
from guardrail.core.kube.render import STDIN, ManifestDocument

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_GROUP = "kustomize.config.k8s.io"
# A bigger input is a mistake (a disk image, a log), not manifests: refused before it is read into memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_manifests(
    paths: Sequence[str],
    *,
    recursive: bool = False,
    stdin: Callable[[], bytes],
    kustomize: Callable[[Path], bytes],
) -> list[ManifestDocument]:
    """Every object of every path, in order. `stdin` reads standard input, `kustomize` renders a
    kustomization directory. Raises BadInputError (see the module docstring), also when no object is found."""
    found: list[ManifestDocument] = []
    if sum(1 for p in paths if p == STDIN) > 1:
        raise BadInputError("standard input (-) can be read only once")
    for text in paths:
        if text == STDIN:
            found.extend(parse_manifests(stdin(), STDIN))
            continue
        path = Path(text)
        if path.is_dir():
            found.extend(_directory(path, recursive, kustomize))
        elif path.exists():
            found.extend(parse_manifests(_read(path), text))
        else:
            raise BadInputError(f"{text}: no such file or directory")
    if not found:
        raise BadInputError(f"{', '.join(paths)}: no Kubernetes objects found")
    return found


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file of `directory`, or None when it is not a kustomization."""
    return next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)


def _directory(directory: Path, recursive: bool, kustomize: Callable[[Path], bytes]) -> Iterator[ManifestDocument]:
    own = kustomization_file(directory)
    if own is not None:
        _refuse_component(own)
        yield from parse_manifests(kustomize(directory), f"{directory} (kustomize)")
        return
    for folder, subfolders, files in os.walk(directory):
        subfolders.sort()
        here = Path(folder)
        if here != directory:
            nested = kustomization_file(here)
            if nested is not None:
                raise BadInputError(
                    f"{nested}: a kustomization inside a directory read recursively; pass {here} as a PATH of "
                    "its own to render it"
                )
        for name in sorted(files):
            if name.endswith(MANIFEST_SUFFIXES):
                yield from parse_manifests(_read(here / name), str(here / name))
        if not recursive:
            return


def _refuse_component(path: Path) -> None:
    try:
        head = next(documents(_read(path)), (0, None))[1]
    except DocumentError as exc:
        raise BadInputError(exc.bad.describe(str(path))) from None
    if isinstance(head, Mapping) and head.get("kind") == "Component":
        raise BadInputError(
            f"{path.parent}: a kustomize Component, built only as part of a kustomization that lists it under "
            "components: (pass that kustomization's directory)"
        )


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise BadInputError(f"{path}: {size:,} bytes, more than manifests can be ({MAX_INPUT_BYTES:,})")
        return path.read_bytes()
    except IsADirectoryError:
        raise BadInputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_manifests(data: bytes, file: str) -> Iterator[ManifestDocument]:
    """The objects of one file's bytes (`file` names it in sources and errors)."""
    if len(data) > MAX_INPUT_BYTES:
        raise BadInputError(f"{file}: more than {MAX_INPUT_BYTES:,} bytes, more than manifests can be")
    try:
        for index, value in _values(data):
            if value is None:
                continue
            yield from _objects(value, file, index)
    except DocumentError as exc:
        raise BadInputError(exc.bad.describe(file)) from None


def _values(data: bytes) -> Iterator[tuple[int, Any]]:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if body.lstrip()[:1] == b"{":
        try:
            yield 0, json.loads(body, object_pairs_hook=_unique_pairs)
            return
        except DocumentError:
            raise
        except (ValueError, RecursionError):
            pass  # a stream of JSON objects, or a YAML flow mapping: YAML reads both
    yield from documents(data)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(BadDocument(0, f"key {key!r} is given twice in one object"))
        result[key] = value
    return result


def _objects(value: Any, file: str, index: int) -> Iterator[ManifestDocument]:
    if not isinstance(value, dict):
        raise DocumentError(BadDocument(index, f"not an object but {_shape(value)}"))
    group, _ = split_api_version(str(value.get("apiVersion", "")))
    if group == KUSTOMIZE_GROUP:
        raise DocumentError(
            BadDocument(index, f"a kustomize {value.get('kind', 'file')}, not a Kubernetes object: pass its directory")
        )
    kind = value.get("kind")
    items = value.get("items")
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        yield ManifestDocument(value, file, index)
        return
    # A typed list (RoleList) may leave its items' apiVersion and kind to the list, as the API serves them.
    item_kind = kind[: -len("List")] if kind != "List" else None
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise DocumentError(BadDocument(index, f"items[{position}] is not an object but {_shape(item)}"))
        if item_kind and "kind" not in item:
            item = {"apiVersion": value.get("apiVersion"), "kind": item_kind, **item}  # noqa: PLW2901
        yield ManifestDocument(item, file, index, position)


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else f"{value!r}"
