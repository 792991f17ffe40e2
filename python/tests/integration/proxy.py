"""
An HTTP proxy between Python workers and the engine, for the tests that need to come between them: it forwards each
request to the engine's current origin (`upstream`, which a test moves when it restarts the engine on another port),
and on `partition()` holds every request it receives instead, until `heal()` forwards the held ones in the order they
came, and records each held request's answer. A worker behind it is a real process that sees only the network.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

# Longer than any long poll (25 s) plus the worker's margin: the proxy never cuts a request short.
FORWARD_TIMEOUT_SECONDS = 60.0


@dataclass
class Held:
    """A request the proxy held during a partition, and the engine's answer once healed."""

    path: str
    body: bytes
    released: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    answer: bytes = b""


class WorkerProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.held: list[Held] = []
        self._partitioned = False
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=FORWARD_TIMEOUT_SECONDS, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name: value for name, value in self.headers.items() if name.lower() in ("authorization", "content-type")}
                status, answer, content_type = proxy._forward(self.path, body, headers)
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(answer)))
                    if content_type:
                        self.send_header("content-type", content_type)
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the worker was killed while it waited: nobody to answer

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the tests read what they need from `held`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="worker-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def partition(self) -> None:
        """From now on, requests are held, not forwarded: to the engine, the workers behind the proxy went quiet."""
        with self._lock:
            self._partitioned = True

    def heal(self) -> None:
        """
        Forwards the held requests in the order they came, each instance request once the one before is answered
        (claims, long polls for new work, do not hold up the others), then forwards as before.
        """
        with self._lock:
            self._partitioned = False
            held = list(self.held)
        for request in held:
            request.released.set()
            if not request.path.endswith("/claim"):
                request.answered.wait(FORWARD_TIMEOUT_SECONDS)

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        with self._lock:
            hold = Held(path, body) if self._partitioned else None
            if hold is not None:
                self.held.append(hold)
        if hold is not None:
            hold.released.wait()
        try:
            response = self._client.post(f"{self.upstream}{path}", content=body, headers=headers)
            status, answer, content_type = response.status_code, response.content, response.headers.get("content-type")
        except httpx.HTTPError as error:
            # The engine is down (killed, restarting): the worker sees a gateway error, as behind any proxy.
            status, answer, content_type = 502, f"engine unreachable: {error}".encode(), "text/plain"
        if hold is not None:
            hold.answer, hold.status = answer, status
            hold.answered.set()
        return status, answer, content_type

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
