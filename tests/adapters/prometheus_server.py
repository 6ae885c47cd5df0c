"""A Prometheus HTTP API for tests: Python's http.server in a thread of its own, on a free port of
127.0.0.1, answering /api/v1/query with what the test sets for each query (and holding a request, never
answering, while `hold` is set: for timeouts, without sleeping)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def vector(*values: float) -> tuple[int, bytes]:
    """A successful instant-vector answer, one series per value."""
    result = [{"metric": {"instance": f"i{i}"}, "value": [1700000000.0, str(v)]} for i, v in enumerate(values)]
    return 200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


@dataclass
class FakePrometheus:
    """What the server answers, per query; queries it was asked, in order."""

    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)  # set: requests wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self, query: str, status: int, body: Any) -> None:
        self.answers[query] = (status, body if isinstance(body, bytes) else json.dumps(body).encode())


@contextmanager
def served_prometheus() -> Iterator[FakePrometheus]:
    state = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query).get("query", [""])[0]
            state.asked.append(query)
            if state.hold.is_set():
                state.release.wait()
                return
            status, body = state.answers.get(query, (404, b'{"status":"error","error":"unknown query"}'))
            if parts.path != "/api/v1/query":
                status, body = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="prometheus", daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
