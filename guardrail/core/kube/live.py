"""Comparing a manifest with the live object: what an apply would change, field by field.

Pure. The server-side way asks the API server what the object would become (a dry-run server-side apply)
and compares that with the live object, ignoring the fields the server manages itself (resourceVersion,
managedFields, generation, uid, creationTimestamp, status...). The client-side way, for servers that refuse
dry-run or server-side apply, compares only the fields the manifest sets: a live object carries defaults
the manifest never wrote, and those are not changes. Neither way ever returns a Secret's values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from guardrail.core.errors import ClusterError
from guardrail.core.values import format_path

# metadata fields the API server sets and owns: never part of what a manifest changes.
SERVER_MANAGED_METADATA = frozenset(
    {
        "resourceVersion",
        "managedFields",
        "generation",
        "uid",
        "creationTimestamp",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)
# Top-level fields written by controllers and the server, not by whoever applies the object.
SERVER_MANAGED_FIELDS = frozenset({"status"})

# HTTP statuses with which an API server refuses the mechanism (the dry-run or the apply patch type),
# not the object: 405 Method Not Allowed, 415 Unsupported Media Type (no server-side apply), 501.
_MECHANISM_REFUSED = frozenset({405, 415, 501})


def without_server_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as its author would write it: server-managed metadata and status removed."""
    trimmed = {key: value for key, value in obj.items() if key not in SERVER_MANAGED_FIELDS}
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        trimmed["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_MANAGED_METADATA}
    return trimmed


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """Every field path at which two objects differ (server-managed fields ignored), sorted.

    A value that differs is reported at its deepest common container: a changed image is
    `spec.template.spec.containers[0].image`, a list that grew is reported as the list itself.
    """
    paths = _differences(without_server_fields(before), without_server_fields(after), ())
    return tuple(sorted({format_path(p) for p in paths}))


def manifest_changes(manifest: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[str, ...]:
    """Client-side: the paths of the fields the manifest sets to something other than the live value.

    Fields the manifest does not mention are left alone (they are defaults or other owners' fields).
    A field the manifest stopped setting is not seen this way: only a server-side diff knows it goes.
    """
    paths = _set_differences(without_server_fields(manifest), without_server_fields(live), ())
    return tuple(sorted({format_path(p) for p in paths}))


def refuses_server_side_diff(error: ClusterError) -> bool:
    """Whether the API server refused the dry-run server-side apply itself, rather than the object.

    Then a diff falls back to the client side. A 403 counts (a read-only gate identity may not patch, even
    in a dry run), as do servers without server-side apply and admission webhooks that cannot dry-run.
    A 422 (the object is invalid) or a 409 does not: those are answers about the change.
    """
    if error.status is None:
        return False
    if error.status in _MECHANISM_REFUSED or error.status == 403:
        return True
    return error.status == 400 and "dry" in str(error).lower()


FieldPath = tuple[str | int, ...]


def _differences(before: Any, after: Any, path: FieldPath) -> Iterator[FieldPath]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in before.keys() | after.keys():
            if key not in before or key not in after:
                yield (*path, key)
            else:
                yield from _differences(before[key], after[key], (*path, key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _differences(old, new, (*path, index))
    elif before != after:
        yield path


def _set_differences(wanted: Any, live: Any, path: FieldPath) -> Iterator[FieldPath]:
    if isinstance(wanted, Mapping) and isinstance(live, Mapping):
        for key, value in wanted.items():
            if key not in live:
                yield (*path, key)
            else:
                yield from _set_differences(value, live[key], (*path, key))
    elif isinstance(wanted, list) and isinstance(live, list) and len(wanted) == len(live):
        for index, (old, new) in enumerate(zip(wanted, live, strict=True)):
            yield from _set_differences(old, new, (*path, index))
    elif wanted != live:
        yield path
