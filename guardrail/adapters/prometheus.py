"""The PromQL gates' source: a Prometheus (or compatible) HTTP API, asked `GET /api/v1/query` with a
timeout over urllib3 (the transport the kubernetes client already brings). Anything but a successful
vector or scalar of numbers is a PromqlError, which fails the gate: never a guess, never a retry that
would stretch an observation past its interval."""

from __future__ import annotations

import json
import math
from typing import Any

import urllib3

from guardrail.core.rollout.promql import PromqlError

QUERY_PATH = "/api/v1/query"


class PrometheusApi:
    """A PromqlSource (guardrail.core.rollout.promql) on one Prometheus base URL."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url.rstrip("/")
        self._timeout = urllib3.Timeout(total=timeout)
        self._pool = urllib3.PoolManager(retries=False)

    def query(self, promql: str) -> tuple[float, ...]:
        where = f"{self.url}{QUERY_PATH}"
        try:
            response = self._pool.request("GET", where, fields={"query": promql}, timeout=self._timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise PromqlError(f"{where}: no answer ({type(exc).__name__}: {exc})") from None
        body = _json(response.data)
        if response.status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PromqlError(f"{where}: HTTP {response.status}" + (f": {error}" if error else ""))
        return _values(where, body.get("data"))

    def close(self) -> None:
        self._pool.clear()


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _values(where: str, data: Any) -> tuple[float, ...]:
    kind = data.get("resultType") if isinstance(data, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    samples: list[Any]
    if kind == "scalar" and isinstance(result, list):
        samples = [result]
    elif kind == "vector" and isinstance(result, list):
        samples = [s.get("value") for s in result if isinstance(s, dict)]
    else:
        raise PromqlError(f"{where}: the answer is a {kind or 'something'}, not a vector or scalar")
    values = []
    for sample in samples:
        try:
            value = float(sample[1])
        except (TypeError, ValueError, IndexError):
            raise PromqlError(f"{where}: a sample without a number: {sample!r}"[:200]) from None
        if math.isnan(value):
            raise PromqlError(f"{where}: the query gives NaN")
        values.append(value)
    return tuple(values)
