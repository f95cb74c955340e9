"""A local HTTP server for vendor fakes: routes, scripted faults and a record of every request.

A fake subclasses :class:`VendorServer`, checks the key in :meth:`authorised` and answers GET
paths in :meth:`answer` with ``(status, JSON-able body)``. Faults are scripted per path prefix
with :meth:`VendorServer.fail`: ``"429"`` (with ``Retry-After`` when given), ``"500"``,
``"malformed"`` (a 200 whose body is not JSON) or ``"401"``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    status: int = 0
    fault: str | None = None


@dataclass
class Fault:
    kind: str
    path: str | None  # a path prefix; None: any
    times: int | None = 1  # None: always
    retry_after: int | str | None = None
    skip: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # the answer's JSON body (default: a short error object)


@dataclass
class VendorServer:
    """Use as a context manager; ``url`` is the base URL to hand the client."""

    prefix: str = ""  # e.g. "/api/v1": the base path the client is given
    requests: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- for subclasses --------------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        return True

    def answer(self, request: Request) -> tuple[int, Any]:
        return 404, {"error": "not found"}

    def answer_headers(self, request: Request) -> dict[str, str]:
        """Headers added to every successful answer (a vendor's rate-limit headers)."""
        return {}

    # ---- scripting and inspection ----------------------------------------------------------

    def fail(
        self,
        kind: str,
        path: str | None = None,
        times: int | None = 1,
        retry_after: int | str | None = None,
        skip: int = 0,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> VendorServer:
        assert kind in {"429", "500", "malformed", "401"}, kind
        self.faults.append(Fault(kind, path, times, retry_after, skip, dict(headers or {}), body))
        return self

    def calls(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def __enter__(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ---- serving ---------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if (fault.path is not None and not path.startswith(fault.path)) or fault.times == 0:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.times is not None:
                fault.times -= 1
            return fault
        return None

    def respond(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(request.path)
        if fault is not None:
            request.fault = fault.kind
            if fault.kind == "malformed":
                return 200, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>"
            status = int(fault.kind)
            headers = {"Content-Type": "application/json", **fault.headers}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body = fault.body if fault.body is not None else {"error": f"scripted {fault.kind}"}
            return status, headers, json.dumps(body).encode()
        if not self.authorised(request):
            return 401, {"Content-Type": "application/json"}, b'{"message": "Unauthorized"}'
        status, body = self.answer(request)
        headers = {"Content-Type": "application/json", **self.answer_headers(request)}
        return status, headers, json.dumps(body).encode()


def _handler(server: VendorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(server.prefix)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(path, query, headers)
            status, out_headers, body = server.respond(request)
            request.status = status
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from or during, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def cause_of(exc: BaseException, kind: type[BaseException]) -> BaseException:
    """The first exception of ``kind`` in ``exc``'s chain (the test fails when there is none)."""
    found = [e for e in causes(exc) if isinstance(e, kind)]
    assert found, f"no {kind.__name__} in the cause chain: {[repr(e) for e in causes(exc)]}"
    return found[0]
