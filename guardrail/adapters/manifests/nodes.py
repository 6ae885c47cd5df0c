"""A cluster's node inventory offline: the output of `kubectl get nodes -o json` (a v1 List of Nodes; a
NodeList, a single Node and the YAML forms are read too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from guardrail.adapters.manifests.yaml_documents import DocumentError, documents
from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import NodeInfo

MAX_NODES_BYTES = 1024 * 1024 * 1024


# What NodeInfo reads of a node. kubectl prints much more (images, addresses, capacity, managed fields: most
# of the bytes of a large inventory), which msgspec skips without building it.
class _Status(msgspec.Struct):
    conditions: Any = None
    allocatable: Any = None
    nodeInfo: Any = None


class _Node(msgspec.Struct):
    kind: Any = "Node"
    metadata: Any = None
    spec: Any = None
    status: _Status | None = None


class _Inventory(msgspec.Struct):
    kind: Any = None
    items: list[_Node] | None = None


def read_nodes(path: Path) -> tuple[NodeInfo, ...]:
    """The nodes of the inventory at `path`. Raises BadInputError naming the file (and item) when it is not
    a list of Nodes."""
    try:
        if path.stat().st_size > MAX_NODES_BYTES:
            raise BadInputError(f"{path}: larger than {MAX_NODES_BYTES:,} bytes: not a node list")
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the node list: {exc.strerror or exc}") from None
    return nodes_of(_decode(data, path), path)


def nodes_of(document: Any, path: Path) -> tuple[NodeInfo, ...]:
    """The nodes of a decoded node list (see read_nodes)."""
    hint = "expected the output of kubectl get nodes -o json"
    if not isinstance(document, Mapping):
        raise BadInputError(f"{path}: not a node list ({hint})")
    if document.get("kind") == "Node":
        items: list[Any] = [document]
    elif document.get("kind") in ("List", "NodeList") and isinstance(document.get("items"), list):
        items = document["items"]
    else:
        raise BadInputError(f"{path}: a {document.get('kind') or 'document without kind'}, not a node list ({hint})")
    nodes = []
    for position, item in enumerate(items):
        if not isinstance(item, Mapping) or item.get("kind", "Node") != "Node":
            kind = item.get("kind") if isinstance(item, Mapping) else type(item).__name__
            raise BadInputError(f"{path}: items[{position}] is a {kind}, not a Node")
        node = NodeInfo.from_manifest(item)
        if not node.name:
            raise BadInputError(f"{path}: items[{position}]: a Node without metadata.name")
        nodes.append(node)
    return tuple(nodes)


def _decode(data: bytes, path: Path) -> Any:
    try:
        pruned = msgspec.json.decode(data, type=_Inventory)
        if isinstance(pruned.items, list):
            return {"kind": pruned.kind, "items": [_manifest(node) for node in pruned.items]}
    except msgspec.DecodeError:  # not JSON, or not shaped like a list of nodes: read it whole, then judge
        pass
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        pass
    try:
        values = [value for _, value in documents(data) if value is not None]
    except DocumentError as exc:
        raise BadInputError(exc.bad.describe(str(path))) from None
    if len(values) != 1:
        raise BadInputError(f"{path}: not a node list (expected one JSON or YAML document, found {len(values)})")
    return values[0]


def _manifest(node: _Node) -> dict[str, Any]:
    status = node.status
    kept = (
        {}
        if status is None
        else {"conditions": status.conditions, "allocatable": status.allocatable, "nodeInfo": status.nodeInfo}
    )
    return {"kind": node.kind, "metadata": node.metadata, "spec": node.spec, "status": kept}
