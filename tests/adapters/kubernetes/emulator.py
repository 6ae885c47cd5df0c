"""A Kubernetes API server for the adapter's tests: kmock's KubernetesEmulator over real HTTP.

kmock emulates: discovery (its bundled resource list of a recent cluster is loaded, so /api, /apis and
every built-in group answer as a real server's do), and objects kept in memory: create (POST), read,
list, merge PATCH (dicts merged, lists replaced, null deletes) and DELETE.

What it lacks and this module declares, as far as the adapter needs it:
- list answers as a real server gives them: items without apiVersion/kind, label selectors (`a=b`, `a!=b`,
  `a`, `!a`, `a in (x,y)`, `a notin (x)`), field selectors on `metadata.name`, `metadata.namespace` and
  `spec.nodeName`, and pages (`limit`, `continue`, `remainingItemCount` when no selector is given);
- server-set metadata: uid, resourceVersion (bumped on every write), generation, creationTimestamp;
- server-side apply (PATCH `application/apply-patch+yaml`): creates a missing object, merges into an
  existing one (maps merged, lists replaced whole, as for atomic lists), requires a field manager and
  records it in managedFields with the applied apiVersion; `dryRun=All` answers without storing.
  NOT emulated: associative lists (containers by name), removal of fields a manager stopped applying,
  conflicts between managers (a test that needs a 409 declares it), defaulting and validation;
- `dryRun=All` on create, merge patch and delete: the answer as if done, nothing stored.

And kmock 0.8 cannot parse /api/v1/namespaces and /api/v1/namespaces/NAME (it takes them for the start
of a namespaced path): this module parses those as the Namespace resource.

A test declares the rest itself (`/version`, `/metrics`, `/readyz`, the eviction and log subresources,
refusals) with kmock's reactions, which take precedence over everything here.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.resources
import itertools
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar, cast

import attrs
import kmock
from kmock import KubernetesEmulator, KubernetesError, RawHandler, Request
from kmock._internal import parsing
from kmock._internal.dicts import merge_patch_dict
from kmock._internal.rendering import Response

APPLY_PATCH = "application/apply-patch+yaml"
_BUNDLED = importlib.resources.files("kmock._internal").joinpath("resources.json.gz")
_T = TypeVar("_T")
_SET_TERM = re.compile(r"^\s*(!?)([^\s!=]+)\s*(?:(==|=|!=)\s*(\S*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


_kmock_parse_path = parsing.parse_path


def _parse_path(path: str) -> parsing.ParsedPath:
    # kmock 0.8 reads /api/v1/namespaces[/NAME] as the prefix of a namespaced path and fails (or finds
    # nothing): the Namespace resource itself cannot be listed or read. Parse those paths as a server does.
    parts = path.strip("/").split("/")
    own = len(parts) <= 4 or (len(parts) == 5 and parts[4] in ("status", "finalize"))
    if parts[:3] == ["api", "v1", "namespaces"] and own:
        name = parts[3] if len(parts) > 3 else None
        return parsing.ParsedPath("", "v1", "namespaces", None, name, parts[4] if len(parts) > 4 else None)
    return _kmock_parse_path(path)


parsing.parse_path = _parse_path


@attrs.define(kw_only=True)
class ApiServer(KubernetesEmulator):
    """The emulator with the declarations listed in the module's docstring."""

    _versions: Iterator[int] = attrs.field(factory=lambda: itertools.count(1), init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # kmock's bundled discovery data (a recent cluster's built-in groups); read as load_bundled()
        # does, without its deprecated importlib call.
        self.resources.load_data(gzip.decompress(_BUNDLED.read_bytes()))
        # Below a test's own reactions (priority 0), above kmock's defaults (priority -inf).
        (self**-1)[_is_apply] << self._serve_apply
        (self**-1)[_is_dry_run] << self._serve_dry_run

    async def _handle(self, request: Request) -> Any:
        if request.resource is not None and (_is_apply(request) or _is_dry_run(request)):
            # Skip the emulator's own bookkeeping, which would store what a dry run must not.
            return await RawHandler._handle(self, request)
        return await super()._handle(request)

    async def _serve_list(self, request: Request) -> Any:
        answer = cast(dict[str, Any], await super()._serve_list(request))
        items = [dict(item) for item in answer["items"]]
        selectors = request.params.get("labelSelector"), request.params.get("fieldSelector")
        items = [i for i in items if _labels_match(i, selectors[0]) and _fields_match(i, selectors[1])]
        items.sort(key=lambda i: (i["metadata"].get("namespace") or "", i["metadata"]["name"]))
        for item in items:  # a real server leaves them out of list items
            item.pop("apiVersion", None)
            item.pop("kind", None)
        start = int(request.params.get("continue") or 0)
        limit = int(request.params.get("limit") or 0) or len(items)
        page, rest = items[start : start + limit], items[start + limit :]
        metadata: dict[str, Any] = {"resourceVersion": str(next(self._versions))}
        if rest:
            metadata["continue"] = str(start + limit)
            if not any(selectors):
                metadata["remainingItemCount"] = len(rest)
        return {"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": page}

    async def _serve_create(self, request: Request) -> Any:
        created = cast(dict[str, Any], await super()._serve_create(request))
        key = (request.resource, request.namespace or created["metadata"].get("namespace"), created["metadata"]["name"])
        stamped = self._stamped(created, None)
        self.objects[key].history.append(stamped)  # type: ignore[index]
        return Response(status=201, payload=stamped)

    async def _serve_apply(self, request: Request) -> Any:
        body = request.data
        manager = request.params.get("fieldManager")
        if not isinstance(body, dict) or not manager:
            raise KubernetesError(400, "BadRequest", "an apply patch needs an object and a fieldManager")
        if body.get("metadata", {}).get("name") != request.name:
            raise KubernetesError(400, "BadRequest", "the name in the body does not match the URL")
        key = (request.resource, request.namespace, request.name)
        live = self._live(key)
        result = merge_patch_dict(live, body) if live is not None else dict(body)
        result = self._stamped(result, live, manager=manager, api_version=str(body.get("apiVersion", "")))
        if request.params.get("dryRun") != "All":
            if live is None:
                self.objects[key] = result  # type: ignore[index]
            else:
                self.objects[key].history.append(result)  # type: ignore[index]
        return Response(status=200 if live is not None else 201, payload=result)

    async def _serve_dry_run(self, request: Request) -> Any:
        key = (request.resource, request.namespace, request.name)
        if request.method == kmock.method.POST:
            key = (request.resource, request.namespace, request.data["metadata"]["name"])
            if self._live(key) is not None:
                raise KubernetesError(409, "AlreadyExists", f"{key[2]} already exists")
            return Response(status=201, payload=self._stamped(dict(request.data), None))
        live = self._live(key)
        if live is None:
            raise KubernetesError(404, "NotFound", f"{request.name} not found")
        if request.method == kmock.method.DELETE:
            return live
        return self._stamped(merge_patch_dict(live, request.data), live)

    def _live(self, key: tuple[Any, str | None, str | None]) -> dict[str, Any] | None:
        if key not in self.objects or self.objects[key].deleted:  # type: ignore[index, operator]
            return None
        return dict(self.objects[key].raw)  # type: ignore[index]

    def _stamped(
        self,
        obj: Mapping[str, Any],
        live: Mapping[str, Any] | None,
        *,
        manager: str | None = None,
        api_version: str = "",
    ) -> dict[str, Any]:
        before = dict(live.get("metadata", {})) if live is not None else {}
        metadata = dict(obj.get("metadata", {}))
        metadata["uid"] = before.get("uid") or str(uuid.uuid4())
        metadata["creationTimestamp"] = before.get("creationTimestamp") or "2026-01-01T00:00:00Z"
        metadata["resourceVersion"] = str(next(self._versions))
        spec_changed = live is None or live.get("spec") != obj.get("spec")
        metadata["generation"] = int(before.get("generation") or 0) + (1 if spec_changed else 0)
        if manager is not None:
            others = [m for m in before.get("managedFields") or () if m.get("manager") != manager]
            entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "fieldsType": "FieldsV1"}
            metadata["managedFields"] = [*others, {**entry, "fieldsV1": _fields_v1(obj)}]
        return {**obj, "metadata": metadata}


def _is_apply(request: Request) -> bool:
    content_type = request.headers.get("Content-Type", "")
    return request.method == kmock.method.PATCH and content_type.startswith(APPLY_PATCH)


def _is_dry_run(request: Request) -> bool:
    return request.params.get("dryRun") == "All" and not _is_apply(request)


def _fields_v1(obj: Any) -> dict[str, Any]:
    # Only the shape kube scan reads: which fields, not which list entries.
    if not isinstance(obj, Mapping):
        return {}
    return {f"f:{key}": _fields_v1(value) for key, value in obj.items() if key not in ("apiVersion", "kind")}


def _labels_match(item: Mapping[str, Any], selector: str | None) -> bool:
    labels = item.get("metadata", {}).get("labels") or {}
    for term in _split_terms(selector or ""):
        found = _SET_TERM.match(term)
        if found is None:
            raise KubernetesError(400, "BadRequest", f"unable to parse requirement: {term!r}")
        negated, key, operator, value, set_operator, values = found.groups()
        if set_operator:
            wanted = {v.strip() for v in values.split(",")}
            holds = labels.get(key) in wanted
            if (set_operator == "in") != holds:
                return False
        elif operator:
            if (labels.get(key) == value) != (operator != "!="):
                return False
        elif (key in labels) == bool(negated):
            return False
    return True


def _fields_match(item: Mapping[str, Any], selector: str | None) -> bool:
    for term in _split_terms(selector or ""):
        path, operator, value = re.split(r"(!=|==|=)", term, maxsplit=1)
        node: Any = item
        for step in path.strip().split("."):
            node = node.get(step) if isinstance(node, Mapping) else None
        if ((node or "") == value.strip()) != (operator != "!="):
            return False
    return True


def _split_terms(selector: str) -> list[str]:
    # Commas separate terms, except inside the parentheses of `in (a,b)`.
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [t for t in [*terms, current] if t.strip()]


class ServedApiServer:
    """An ApiServer on a free port of 127.0.0.1, run by an event loop in a thread of its own."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kmock", daemon=True)
        self._server: kmock.Server | None = None
        self._released: asyncio.Event | None = None
        self.emulator: ApiServer | None = None

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self._released = asyncio.Event()
        self.emulator = await ApiServer().__aenter__()
        self._server = await kmock.Server(self.emulator).__aenter__()

    def stop(self) -> None:
        """Release every hanging reaction, close the server and end the thread."""
        self.run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _stop(self) -> None:
        assert self._released is not None
        assert self._server is not None
        assert self.emulator is not None
        self._released.set()
        await self._server.__aexit__(None, None, None)
        await self.emulator.__aexit__(None, None, None)

    def run(self, coroutine: Awaitable[_T]) -> _T:
        """Run a coroutine on the server's loop and wait for its result."""
        future: Future[_T] = asyncio.run_coroutine_threadsafe(_awaited(coroutine), self._loop)
        return future.result(timeout=30)

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.url).rstrip("/")

    def never_answers(self) -> Callable[[], Awaitable[bytes]]:
        """A reaction that holds its request until the server stops (for timeout tests: no sleeping)."""
        released = self._released
        assert released is not None

        async def hold() -> bytes:
            await released.wait()
            return b""

        return hold


async def _awaited(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def declare_evictions(server: ApiServer, *, protected: Callable[[str, str], bool]) -> None:
    """The pods/eviction subresource kmock lacks: a pod that `protected(namespace, name)` holds is refused
    with 429, as the API server does when a PodDisruptionBudget allows no disruption now; any other pod
    is deleted (201); a pod that does not exist is a 404."""

    async def evict(request: Request) -> Any:
        namespace, name = str(request.namespace), str(request.name)
        key = (kmock.resource("v1/pods"), namespace, name)
        if key not in server.objects or server.objects[key].deleted:
            raise KubernetesError(404, "NotFound", f'pods "{name}" not found')
        if protected(namespace, name):
            raise KubernetesError(
                429,
                "TooManyRequests",
                "Cannot evict pod as it would violate the pod's disruption budget.",
                {"causes": [{"reason": "DisruptionBudget", "message": "The disruption budget needs 1 healthy pod"}]},
            )
        server.objects[key].delete()
        return Response(status=201, payload={"apiVersion": "v1", "kind": "Status", "status": "Success", "code": 201})

    server[kmock.method.POST, kmock.subresource("eviction")] << evict


def declare_logs(server: ApiServer, logs: Mapping[tuple[str, str], str]) -> None:
    """The pods/log subresource kmock lacks: each (namespace, name)'s text, cut to `tailLines`."""

    async def log(request: Request) -> bytes:
        text = logs.get((str(request.namespace), str(request.name)))
        if text is None:
            raise KubernetesError(404, "NotFound", f'pods "{request.name}" not found')
        lines = text.splitlines(keepends=True)
        tail = int(request.params.get("tailLines") or len(lines))
        return "".join(lines[-tail:] if tail else []).encode()

    server[kmock.method.GET, kmock.subresource("log")] << log
