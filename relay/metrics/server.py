"""The HTTP endpoint on ``listen.metrics``: ``/metrics``, ``/healthz`` and ``/readyz``.

prometheus-client's WSGI app renders ``/metrics`` (text format, or OpenMetrics when asked, gzip
when accepted); the standard library's wsgiref serves it from a background thread, one thread
per request, at most ``MAX_CONCURRENT_REQUESTS`` at once and each bounded by
``REQUEST_TIMEOUT``. It listens on loopback unless configured otherwise: the figures are not
secret, but nothing outside the host needs them unless an admin says so.

``/healthz`` is 200 while the serving thread runs (liveness). ``/readyz`` runs the injected
checks in order and is 200 only when all pass, else 503 with the first failure's one-line
reason (``spool: cannot write in ...``).

The serving process forks workers while this thread runs; in a child the listening socket and
any open connection are closed at once (``os.register_at_fork``), so a worker never holds the
port or keeps a scraper's connection open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

from relay.config.schema import HostPort
from relay.errors import ConfigError
from relay.metrics.checks import ReadinessCheck

log = logging.getLogger("relay.metrics")

MAX_CONCURRENT_REQUESTS = 8
"""Prometheus scrapes a target one request at a time; two HA servers, probes and a curl fit."""
REQUEST_TIMEOUT = 10.0
"""Socket timeout per connection: a client that stops sending or reading is dropped."""
MAX_REASON_LENGTH = 200
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.2
"""How often the serving loop looks for stop(): the longest stop() waits for it."""

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n"


def readiness(checks: Sequence[ReadinessCheck]) -> str | None:
    """The first failing check as ``name: reason`` (one line), or None when all pass."""
    for check in checks:
        try:
            reason = check.probe()
        except Exception as exc:  # a probe's bug must answer 503, not kill the request thread
            log.exception("event=readiness_probe_failed check=%s", check.name)
            reason = f"check failed: {type(exc).__name__}"
        if reason is not None:
            line = " ".join(reason.split())
            return f"{check.name}: {line}"[:MAX_REASON_LENGTH]
    return None


def relay_app(registry: CollectorRegistry, checks: Sequence[ReadinessCheck]) -> WsgiApp:
    """The WSGI application: route to the exposition or to the health answers."""
    metrics_app: WsgiApp = make_wsgi_app(registry)
    checks = tuple(checks)
    last_reason: list[str | None] = [None]
    """Logged on change only: probes ask every few seconds."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/metrics":
            return metrics_app(environ, start_response)
        if path not in ("/healthz", "/readyz"):
            return _text(start_response, "404 Not Found", "not found: try /metrics, /healthz or /readyz")
        if method not in ("GET", "HEAD"):
            return _text(start_response, "405 Method Not Allowed", "use GET", allow="GET, HEAD")
        head = method == "HEAD"
        if path == "/healthz":
            return _text(start_response, "200 OK", "ok", head=head)
        reason = readiness(checks)
        if reason != last_reason[0]:
            last_reason[0] = reason
            if reason is None:
                log.info("event=ready")
            else:
                log.warning("event=not_ready reason=%r", reason)
        if reason is None:
            return _text(start_response, "200 OK", "ok", head=head)
        return _text(start_response, "503 Service Unavailable", f"not ready: {reason}", head=head)

    return app


def _text(
    start_response: StartResponse, status: str, body: str, *, allow: str = "", head: bool = False
) -> list[bytes]:
    payload = (body + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(payload))),
        ("Cache-Control", "no-store"),
    ]
    if allow:
        headers.append(("Allow", allow))
    start_response(status, headers)
    return [b""] if head else [payload]


class _Handler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("event=metrics_request %s", format % args)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False
    """stop() does not wait for a slow client; REQUEST_TIMEOUT ends it."""

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_REQUESTS)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves our own address with getfqdn(): a DNS lookup that can
        # hang start-up when the resolver is down, for a name nothing here uses.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):  # the client went away: nothing to tell it
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(request)
        self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, TimeoutError | ConnectionError):  # the client's doing, not ours
            log.info(
                "event=metrics_client_dropped client=%s reason=%s", client_address[0], type(error).__name__
            )
        else:
            log.warning("event=metrics_request_failed client=%s", client_address[0], exc_info=True)

    def close_inherited(self) -> None:
        """In a forked child: drop this process's copies of the sockets (the parent keeps its own)."""
        for sock in [self.socket, *self._open]:
            sock.close()


class MetricsServer:
    """A running endpoint: its bound address (port 0 becomes a real port) and ``stop()``."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._stopped = False
        host, port = server.server_address[:2]
        self.address = HostPort(host=str(host), port=int(port))

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(STOP_TIMEOUT)
        log.info("event=metrics_stopped")


def start_metrics_server(
    address: HostPort, checks: Sequence[ReadinessCheck], registry: CollectorRegistry
) -> MetricsServer:
    """Listen on ``address`` and serve from a daemon thread until ``stop()``."""
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    try:
        server = _Server((address.host, address.port), family)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc.strerror}", key="listen.metrics") from exc
    server.set_app(relay_app(registry, checks))
    _close_in_children(server)
    thread = threading.Thread(
        target=server.serve_forever, args=(POLL_INTERVAL,), name="relay-metrics", daemon=True
    )
    thread.start()
    handle = MetricsServer(server, thread)
    log.info("event=metrics_listening address=%s", handle.address)
    return handle


def _close_in_children(server: _Server) -> None:
    ref = weakref.ref(server)

    def after_fork_in_child() -> None:
        alive = ref()
        if alive is not None and alive.socket.fileno() != -1:
            alive.close_inherited()

    os.register_at_fork(after_in_child=after_fork_in_child)
