"""The official client, made safe to wait on: a timeout on every request, no retries hidden inside,
discovery kept in memory, and every failure turned into guardrail's ClusterError family.

The generated client waits forever unless each call passes a timeout, and urllib3 retries reads by
default (a 2 s timeout becomes 8 s); the dynamic client's discovery writes a cache file to /tmp that
another run against a different server on the same port would read back. None of that here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.discovery import LazyDiscoverer

from guardrail.core.errors import ClusterError, ClusterUnreachableError

# A path that cannot exist (a file under /dev/null): the discoverer then never reads a stale cache.
_NO_CACHE_FILE = "/dev/null/guardrail-discovery"


class TimedApiClient(ApiClient):
    """An ApiClient whose every request, typed or dynamic, has a timeout (seconds) unless it sets one."""

    def __init__(self, configuration: Configuration, timeout: float) -> None:
        configuration.retries = False  # one attempt: the caller decides whether to retry
        super().__init__(configuration)
        self.timeout = timeout

    def call_api(
        self,
        method: str,
        url: str,
        header_params: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        return super().call_api(
            method, url, header_params, body, post_params, _request_timeout=_request_timeout or self.timeout
        )

    def close(self) -> None:
        super().close()  # type: ignore[no-untyped-call]  # generated without annotations


class _MemoryDiscoverer(LazyDiscoverer):
    """Lazy discovery that lives and dies with its adapter (one adapter, one server)."""

    def _write_cache(self) -> None:
        return


def dynamic_client(api: ApiClient) -> DynamicClient:
    """A dynamic client over `api`. Its construction already asks /version and /apis: call it inside
    `translated`."""
    return DynamicClient(api, cache_file=_NO_CACHE_FILE, discoverer=_MemoryDiscoverer)


@contextmanager
def translated(cluster: str, server: str, doing: str) -> Iterator[None]:
    """Run a request, turning the client's failures into ClusterUnreachableError (no answer, 5xx) or
    ClusterError (a 4xx refusal, with the API's reason and message)."""
    try:
        yield
    except ApiException as exc:
        raise refusal(cluster, doing, exc) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterUnreachableError(cluster, f"{doing}: {server} did not answer ({_cause(exc)})") from exc


def refusal(cluster: str, doing: str, exc: ApiException) -> ClusterError:
    """The ClusterError for an HTTP error answer (status 0 is the client's own TLS failure)."""
    status = int(exc.status or 0)
    reason, message = status_of(exc)
    if status == 0:
        return ClusterError(cluster, f"{doing}: {message or reason or 'TLS failure'}")
    text = f"{doing}: {status} {reason}" + (f": {message}" if message else "")
    if status >= 500:
        return ClusterUnreachableError(cluster, text, status=status, reason=reason)
    return ClusterError(cluster, text, status=status, reason=reason)


def status_of(exc: ApiException) -> tuple[str, str]:
    """(reason, message) of the API's Status object in the error body, else the HTTP reason."""
    body = exc.body
    try:
        decoded = json.loads(body) if body else None
    except (ValueError, TypeError):
        decoded = None
    if isinstance(decoded, dict):
        return str(decoded.get("reason") or exc.reason or ""), str(decoded.get("message") or "")
    return str(exc.reason or ""), ""


def _cause(exc: BaseException) -> str:
    # urllib3 wraps the socket error (refused, timed out) in its reason; say the innermost words.
    reason = getattr(exc, "reason", None)
    inner = reason if isinstance(reason, BaseException) else exc
    text = str(inner)
    if "timed out" in text.lower():
        return "timed out"
    if "refused" in text.lower():
        return "connection refused"
    return text.rsplit(": ", 1)[-1] or type(inner).__name__
