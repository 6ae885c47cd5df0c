"""One API server, as the adapter talks to it: the typed core API, the dynamic client with discovery
(asked lazily, cached for the adapter's life), raw GETs for /version, /metrics and /readyz, and every
call wrapped so that a failure comes out as a ClusterError naming the context."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes.client import CoreV1Api
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError
from kubernetes.dynamic.resource import ResourceList

from guardrail.adapters.kubernetes.kubeconfig import KubeContext
from guardrail.adapters.kubernetes.transport import TimedApiClient, dynamic_client, translated
from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.cluster import ServedResource

# A missing object is an answer, not a failure, wherever the port says so.
NOT_FOUND = 404


class Session:
    """The client side of one kubeconfig context. Not thread-safe: one per thread."""

    def __init__(self, context: KubeContext, timeout: float) -> None:
        self.context = context
        self.api = TimedApiClient(context.configuration, timeout)
        self.core = CoreV1Api(self.api)
        self._dynamic: DynamicClient | None = None
        self._served: dict[tuple[str, str], Any] = {}
        self._listable: list[Any] | None = None

    @property
    def name(self) -> str:
        return self.context.name

    @property
    def server(self) -> str:
        return str(self.context.configuration.host)

    def close(self) -> None:
        self.api.close()

    def call(self, doing: str, request: Callable[[], Any], *, missing: Any = ClusterError) -> Any:
        """Run `request`; a 404 returns `missing` when given, every other failure raises a ClusterError."""
        try:
            with translated(self.name, self.server, doing):
                return request()
        except ClusterError as exc:
            if missing is not ClusterError and exc.status == NOT_FOUND:
                return missing
            raise

    def json(self, doing: str, request: Callable[[], Any], *, missing: Any = ClusterError) -> Any:
        """`call` for a request made without preloading: the answer's body decoded as JSON."""
        response = self.call(doing, request, missing=missing)
        if response is missing and missing is not ClusterError:
            return missing
        return _decoded(self.name, doing, response.data)

    def raw_get(self, path: str) -> tuple[int, bytes]:
        """GET a non-resource path (/version, /metrics, /readyz): (HTTP status, body). Raises
        ClusterUnreachableError only when the server does not answer at all."""

        def get() -> tuple[int, bytes]:
            params = self.api.param_serialize(
                "GET", path, header_params={"Accept": "*/*"}, auth_settings=["BearerToken"]
            )
            response = self.api.call_api(*params)
            return int(response.status), bytes(response.read() or b"")

        result: tuple[int, bytes] = self.call(f"GET {path}", get)
        return result

    @property
    def dynamic(self) -> DynamicClient:
        if self._dynamic is None:
            self._dynamic = self.call("discovery", lambda: dynamic_client(self.api))
        return self._dynamic

    def resource(self, api_version: str, kind: str) -> Any | None:
        """The dynamic client's resource for the kind at this version, None when not served (cached)."""
        key = (api_version, kind)
        if key not in self._served:
            self._served[key] = self.call(f"discovery of {api_version} {kind}", lambda: self._find(api_version, kind))
        return self._served[key]

    def preferred(self, group: str, kind: str) -> Any | None:
        """The resource for the kind at the group's preferred version, None when no version serves it."""
        key = (f"{group}/*", kind)
        if key not in self._served:
            self._served[key] = self.call(f"discovery of {group or 'core'} {kind}", lambda: self._prefer(group, kind))
        return self._served[key]

    def listable(self) -> list[Any]:
        """Every resource that can be listed, at each group's preferred version, subresources left out (asked
        once: one discovery request per API group)."""
        if self._listable is None:
            self._listable = self.call("discovery of every API group", self._every_listable)
        return self._listable

    def required(self, api_version: str, kind: str) -> Any:
        """The resource for the kind; raises ClusterError when the server does not serve it."""
        found = self.resource(api_version, kind)
        if found is None:
            raise ClusterError(self.name, f"the API server does not serve {kind} at {api_version}")
        return found

    def path(self, resource: Any, namespace: str | None, name: str | None, what: str) -> str:
        """The URL path of an object (or a collection, without name) of the resource."""
        if resource.namespaced and not namespace and name is not None:
            raise BadInputError(f"{what}: a {resource.kind} lives in a namespace, and none is given")
        return str(resource.path(name=name, namespace=namespace if resource.namespaced else None))

    def _find(self, api_version: str, kind: str) -> Any | None:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return None

    def _every_listable(self) -> list[Any]:
        discoverer = self.dynamic.resources
        found: list[Any] = []
        for prefix, groups in discoverer.parse_api_groups(request_resources=False).items():
            for group, versions in groups.items():
                if prefix == "apis" and not group:
                    continue  # the client's own placeholder for its List pseudo-kind
                for version, resource_group in versions.items():
                    if not resource_group.preferred:
                        continue
                    served = discoverer.get_resources_for_api_version(prefix, group, version, True)
                    found.extend(
                        resource
                        for resources in served.values()
                        for resource in resources
                        if not isinstance(resource, ResourceList)
                        and "/" not in str(resource.name)
                        and "list" in (resource.verbs or ())
                    )
        return found

    def _prefer(self, group: str, kind: str) -> Any | None:
        prefix = "apis" if group else "api"
        try:
            found = self.dynamic.resources.search(prefix=prefix, group=group or None, kind=kind)
        except ResourceNotFoundError:
            return None
        served = [r for r in found if getattr(r, "group", None) == group and getattr(r, "kind", None) == kind]
        served.sort(key=lambda r: not r.preferred)
        return served[0] if served else None


def served_resource(resource: Any) -> ServedResource:
    """The port's record of a dynamic client resource."""
    return ServedResource(
        str(resource.group_version), str(resource.kind), str(resource.name), bool(resource.namespaced)
    )


def stamped(item: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """A list item with its apiVersion and kind (list answers leave them out of each item)."""
    item.setdefault("apiVersion", api_version)
    item.setdefault("kind", kind)
    return item


def _decoded(cluster: str, doing: str, data: bytes | None) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError as exc:
        raise ClusterError(cluster, f"{doing}: the API server's answer is not JSON") from exc
