"""The cluster port (guardrail.core.kube.cluster.Cluster) over the official `kubernetes` client.

Arbitrary kinds go through the dynamic client and discovery; nodes, pods, evictions and logs through the
typed core API (no discovery round trip, which matters to the engines that poll them). Every answer is
read as JSON without building the generated models. Failures: no answer or a 5xx is a
ClusterUnreachableError, a 4xx a ClusterError carrying the API's status and reason, a 404 on a read is
None (or False, or GONE) where the port says so, and an eviction refused with 429 is BLOCKED.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from kubernetes.client import V1Eviction, V1ObjectMeta

from guardrail.adapters.kubernetes import DEFAULT_TIMEOUT
from guardrail.adapters.kubernetes.kubeconfig import KubeContext
from guardrail.adapters.kubernetes.session import NOT_FOUND, Session, served_resource, stamped
from guardrail.core.errors import BadInputError, ClusterError
from guardrail.core.kube.cluster import EvictionOutcome, Identity, NodeInfo, PodInfo, ServedResource
from guardrail.core.kube.objects import ObjectRef

# Items per page when listing: bounded memory per answer, as kubectl's --chunk-size.
PAGE_SIZE = 500
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
_TOO_MANY_REQUESTS = 429
SELF_SUBJECT_REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class KubernetesCluster:
    """One cluster reached through a kubeconfig context (implements Cluster)."""

    def __init__(self, context: KubeContext, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = Session(context, timeout)

    @property
    def name(self) -> str:
        return self._session.name

    @property
    def default_namespace(self) -> str:
        return self._session.context.namespace

    def close(self) -> None:
        self._session.close()

    # -- reading ------------------------------------------------------------------------------------

    def server_version(self) -> str:
        status, body = self._session.raw_get("/version")
        if status != 200:
            raise ClusterError(self.name, f"GET /version: {status}", status=status)
        try:
            info = json.loads(body)
        except ValueError as exc:
            raise ClusterError(self.name, "GET /version: the answer is not JSON") from exc
        git = str(info.get("gitVersion", "")) if isinstance(info, dict) else ""
        found = _VERSION.match(git)
        if found is None:
            raise ClusterError(self.name, f"GET /version: no version in {git!r}")
        return ".".join(part for part in found.groups("0"))

    def served(self, api_version: str, kind: str) -> ServedResource | None:
        resource = self._session.resource(api_version, kind)
        return served_resource(resource) if resource is not None else None

    def served_resources(self) -> list[ServedResource]:
        return [served_resource(resource) for resource in self._session.listable()]

    def preferred(self, group: str, kind: str) -> ServedResource | None:
        resource = self._session.preferred(group, kind)
        return served_resource(resource) if resource is not None else None

    def get(self, ref: ObjectRef, api_version: str) -> dict[str, Any] | None:
        resource = self._session.required(api_version, ref.kind)
        path = self._session.path(resource, ref.namespace, ref.name, ref.address)
        found = self._session.json(f"get {ref}", lambda: self._request("get", path), missing=None)
        return dict(found) if isinstance(found, dict) else None

    def list_objects(
        self, api_version: str, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        resource = self._session.required(api_version, kind)
        path = self._session.path(resource, namespace, None, kind)
        pages = self._pages(
            f"list {kind}",
            lambda token: self._request("get", path, label_selector=label_selector, limit=PAGE_SIZE, _continue=token),
        )
        return [stamped(item, api_version, kind) for item in pages]

    def count_objects(self, api_version: str, kind: str) -> int | None:
        resource = self._session.required(api_version, kind)
        path = self._session.path(resource, None, None, kind)
        page = self._session.json(f"count {kind}", lambda: self._request("get", path, limit=1))
        metadata = page.get("metadata") or {}
        shown = len(page.get("items") or ())
        remaining = metadata.get("remainingItemCount")
        if isinstance(remaining, int):
            return shown + remaining
        return None if metadata.get("continue") else shown

    def nodes(self, label_selector: str | None = None) -> list[NodeInfo]:
        pages = self._pages(
            "list nodes",
            lambda token: self._session.core.list_node(
                label_selector=label_selector, limit=PAGE_SIZE, _continue=token, _preload_content=False
            ),
        )
        return [NodeInfo.from_manifest(item) for item in pages]

    def pods(
        self, *, namespace: str | None = None, label_selector: str | None = None, node: str | None = None
    ) -> list[PodInfo]:
        core = self._session.core
        selectors: dict[str, Any] = {
            "label_selector": label_selector,
            "field_selector": f"spec.nodeName={node}" if node else None,
            "limit": PAGE_SIZE,
            "_preload_content": False,
        }
        if namespace:
            pages = self._pages(
                "list pods", lambda token: core.list_namespaced_pod(namespace, _continue=token, **selectors)
            )
        else:
            pages = self._pages(
                "list pods", lambda token: core.list_pod_for_all_namespaces(_continue=token, **selectors)
            )
        return [PodInfo.from_manifest(item) for item in pages]

    def metrics_text(self) -> str | None:
        status, body = self._session.raw_get("/metrics")
        if status in (403, NOT_FOUND):
            return None
        if status != 200:
            raise ClusterError(self.name, f"GET /metrics: {status}", status=status)
        return body.decode("utf-8", errors="replace")

    def ready(self) -> bool:
        status, body = self._session.raw_get("/readyz")
        return status == 200 and body.strip() == b"ok"

    def identity(self) -> Identity:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = self._session.json(
                "SelfSubjectReview", lambda: self._request("post", SELF_SUBJECT_REVIEWS, body=body)
            )
        except ClusterError as exc:
            if exc.status != NOT_FOUND:
                raise
            raise ClusterError(
                self.name,
                "the API server serves no SelfSubjectReview (Kubernetes 1.28 or later): who guardrail is "
                "cannot be known",
                status=exc.status,
            ) from exc
        status = review.get("status") if isinstance(review, dict) else None
        info = status.get("userInfo") if isinstance(status, dict) else None
        user = info.get("username") if isinstance(info, dict) else None
        if not isinstance(user, str) or not user:
            raise ClusterError(self.name, "SelfSubjectReview named no user: who guardrail is cannot be known")
        groups = tuple(g for g in (info or {}).get("groups") or () if isinstance(g, str))
        return Identity(user, groups)

    def pod_metrics_text(self, namespace: str, name: str, *, port: int, path: str = "/metrics") -> str | None:
        proxy = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(name, safe='')}:{port}/proxy/"
        proxy += path.lstrip("/")
        status, body = self._session.raw_get(proxy)
        if status == 200:
            return body.decode("utf-8", errors="replace")
        if status == NOT_FOUND and _is_missing_pod(body):
            raise ClusterError(self.name, f"pod {namespace}/{name}: no such pod", status=status)
        if status in (NOT_FOUND, 502, 503):
            # The pod exists but nothing answers on that port and path (the proxy's 502/503), or the path
            # is not served: it does not expose these metrics.
            return None
        raise ClusterError(self.name, f"GET {proxy}: {status}", status=status)

    # -- writing ------------------------------------------------------------------------------------

    def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, dry_run: bool = False, force: bool = False
    ) -> dict[str, Any]:
        ref = ObjectRef.of(manifest)
        resource = self._session.required(str(manifest["apiVersion"]), ref.kind)
        path = self._session.path(resource, ref.namespace, ref.name, ref.address)
        doing = f"apply {ref}" + (" (dry run)" if dry_run else "")
        result = self._session.json(
            doing,
            lambda: self._request(
                "patch",
                path,
                body=dict(manifest),
                content_type=APPLY_PATCH,
                field_manager=field_manager,
                force_conflicts=force or None,
                dry_run="All" if dry_run else None,
            ),
        )
        return dict(result)

    def delete(self, ref: ObjectRef, api_version: str, *, dry_run: bool = False) -> bool:
        resource = self._session.required(api_version, ref.kind)
        path = self._session.path(resource, ref.namespace, ref.name, ref.address)
        answer = self._session.call(
            f"delete {ref}", lambda: self._request("delete", path, dry_run="All" if dry_run else None), missing=None
        )
        return answer is not None

    def label_node(self, name: str, labels: Mapping[str, str | None]) -> None:
        body = {"metadata": {"labels": dict(labels)}}
        self._patch_node(f"label node {name}", name, body)

    def set_unschedulable(self, name: str, unschedulable: bool) -> None:
        verb = "cordon" if unschedulable else "uncordon"
        self._patch_node(f"{verb} node {name}", name, {"spec": {"unschedulable": unschedulable}})

    def evict(self, namespace: str, name: str) -> EvictionOutcome:
        body = V1Eviction(
            api_version="policy/v1", kind="Eviction", metadata=V1ObjectMeta(name=name, namespace=namespace)
        )
        try:
            answer = self._session.call(
                f"evict pod {namespace}/{name}",
                lambda: self._session.core.create_namespaced_pod_eviction(
                    name, namespace, body, _preload_content=False
                ),
                missing=None,
            )
        except ClusterError as exc:
            # A PodDisruptionBudget that allows no disruption now answers 429: a wait, not a failure.
            if exc.status == _TOO_MANY_REQUESTS:
                return EvictionOutcome.BLOCKED
            raise
        return EvictionOutcome.GONE if answer is None else EvictionOutcome.EVICTED

    def delete_pod(self, namespace: str, name: str) -> None:
        # A pod that is already gone is what was asked for.
        self._session.call(
            f"delete pod {namespace}/{name}",
            lambda: self._session.core.delete_namespaced_pod(name, namespace, _preload_content=False),
            missing=None,
        )

    def delete_node(self, name: str) -> None:
        self._session.call(
            f"delete node {name}",
            lambda: self._session.core.delete_node(name, _preload_content=False),
            missing=None,
        )

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(manifest)
        resource = self._session.required(str(manifest["apiVersion"]), ref.kind)
        path = self._session.path(resource, ref.namespace, None, ref.address)
        if resource.namespaced and not ref.namespace:
            raise BadInputError(f"create {ref}: a {ref.kind} lives in a namespace, and none is given")
        result = self._session.json(f"create {ref}", lambda: self._request("post", path, body=dict(manifest)))
        return dict(result)

    def pod_log(self, namespace: str, name: str, *, tail_lines: int = 50) -> str:
        response = self._session.call(
            f"log of pod {namespace}/{name}",
            lambda: self._session.core.read_namespaced_pod_log(
                name, namespace, tail_lines=tail_lines, _preload_content=False
            ),
        )
        return bytes(response.data or b"").decode("utf-8", errors="replace")

    # -- helpers ------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **params: Any) -> Any:
        dynamic = self._session.dynamic
        wanted = {key: value for key, value in params.items() if value is not None}
        return dynamic.request(method, path, serialize=False, **wanted)

    def _pages(self, doing: str, fetch: Callable[[str | None], Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._session.json(doing, functools.partial(fetch, token))
            items.extend(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def _patch_node(self, doing: str, name: str, body: dict[str, Any]) -> None:
        self._session.call(
            doing,
            lambda: self._session.core.patch_node(name, body, _content_type=MERGE_PATCH, _preload_content=False),
        )


def _is_missing_pod(body: bytes) -> bool:
    """Whether a 404 is the API server's own "pods NAME not found" (a Status about a pod), not the pod's
    server answering 404 for a path it does not serve."""
    try:
        status = json.loads(body)
    except ValueError:
        return False
    details = status.get("details") if isinstance(status, dict) and status.get("kind") == "Status" else None
    return isinstance(details, dict) and details.get("kind") == "pods"
