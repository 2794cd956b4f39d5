"""A real SMTP server for tests to deliver to: aiosmtpd on loopback, in its own thread.

It records every message it accepts and answers as told: ``sink.script("rcpt", "x@d.test",
"451 4.3.0 later", "250 OK")`` makes RCPT TO:<x@d.test> fail once then succeed (the last reply
repeats). Phases are ``mail``, ``rcpt`` (per address) and ``data`` (per first recipient).

Faults are injected by changing what the server does, not by patching the relay: a ``greeting``
other than 220 (RFC 5321 section 3.1) refuses every connection; a ``data_delay`` answers the end
of DATA late, after the message was taken (the window in which a sender crash makes a
duplicate, as with a real MTA that fsyncs and then answers); ``drop_sessions()`` hangs up on
every client, as a crashing server would. It can offer STARTTLS with a certificate from
tests/certs.py.

What tests observe: ``messages``, ``connections`` (TCP connections, so reuse shows), how many
sessions are open now and at most (``open_sessions``, ``max_open_sessions``), and how many DATA
commands began (``data_started``). ``stop()`` closes the sessions before the loop ends: a
just-QUIT session's socket left open would be a ResourceWarning, an error in this suite.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

START_TIMEOUT = 5.0
"""Bound on binding the listener and on joining the loop thread."""
SESSION_CLOSE_TIMEOUT = 15.0
"""How long ``drop_sessions`` waits for the hung-up sessions to be gone."""
POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    peer: str
    tls: bool


class _Handler:
    """The aiosmtpd handler: scripted replies, recorded messages, the late DATA reply."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        reply = self._sink._next("mail", "*")
        if reply.startswith("250"):
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        reply = self._sink._next("rcpt", address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        sink = self._sink
        with sink._lock:
            sink.data_started += 1
        reply = sink._next("data", envelope.rcpt_tos[0])
        if reply.startswith("250"):
            with sink._lock:
                sink.messages.append(
                    Received(
                        sender=envelope.mail_from,
                        recipients=tuple(envelope.rcpt_tos),
                        data=envelope.original_content,
                        peer=session.peer[0],
                        tls=session.ssl is not None,
                    )
                )
        if sink.data_delay:
            await asyncio.sleep(sink.data_delay)  # taken first, answered late
        return reply


class _Session(SMTP):
    """aiosmtpd's SMTP protocol, reporting when a client connection opens and closes."""

    def __init__(self, sink: Sink, *args: Any, **kwargs: Any) -> None:
        self._sink = sink
        super().__init__(*args, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starttls = self._original_transport is not None  # called again after STARTTLS
        if not starttls:
            self._sink._opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self._sink._closed(self)


class _Greeter(asyncio.Protocol):
    """A server that answers the connection with a fixed reply and hangs up (RFC 5321 3.1)."""

    def __init__(self, sink: Sink, greeting: str) -> None:
        self._sink = sink
        self._greeting = greeting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._sink._opened(self)
        transport.write(self._greeting.encode() + b"\r\n")
        transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._sink._closed(self)


class Sink:
    """An SMTP sink on ``host``:``port`` (port 0 picks a free one)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        greeting: str | None = None,
        data_delay: float = 0.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.greeting = greeting
        """If set, every connection gets this reply instead of a 220 and is closed."""
        self.data_delay = data_delay
        """Seconds between taking a message and answering its DATA; tests may change it."""
        self.tls_context = tls_context
        self.messages: list[Received] = []
        self.connections = 0
        self.max_open_sessions = 0
        self.data_started = 0
        self._scripts: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._sessions: set[asyncio.BaseProtocol] = set()
        self._all_closed = threading.Event()
        self._all_closed.set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def script(self, phase: str, key: str, *replies: str) -> None:
        """Answer ``phase`` for ``key`` (an address, or ``*`` for MAIL) with these replies in turn."""
        with self._lock:
            self._scripts[(phase, key.lower())] = list(replies)

    def _next(self, phase: str, key: str) -> str:
        with self._lock:
            replies = self._scripts.get((phase, key.lower()))
            if not replies:
                return "250 OK"
            return replies.pop(0) if len(replies) > 1 else replies[0]

    @property
    def open_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _opened(self, session: asyncio.BaseProtocol) -> None:
        with self._lock:
            self.connections += 1
            self._sessions.add(session)
            self.max_open_sessions = max(self.max_open_sessions, len(self._sessions))
            self._all_closed.clear()

    def _closed(self, session: asyncio.BaseProtocol) -> None:
        with self._lock:
            self._sessions.discard(session)
            if not self._sessions:
                self._all_closed.set()

    def start(self) -> Sink:
        self._thread.start()
        handler = _Handler(self)

        def session() -> asyncio.BaseProtocol:
            if self.greeting is not None:
                return _Greeter(self, self.greeting)
            return _Session(
                self, handler, hostname="sink.test", tls_context=self.tls_context, enable_SMTPUTF8=True
            )

        async def serve() -> asyncio.Server:
            return await self._loop.create_server(session, self.host, self.port)

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(START_TIMEOUT)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def drop_sessions(self) -> None:
        """Close every open session from the server side, as a crashing server would."""

        def close_all() -> None:
            with self._lock:
                sessions = list(self._sessions)
            for session in sessions:
                transport = getattr(session, "transport", None)
                if transport is not None:
                    transport.close()

        if self._loop.is_running():
            self._loop.call_soon_threadsafe(close_all)
        if not self._all_closed.wait(SESSION_CLOSE_TIMEOUT):
            raise AssertionError(f"{self.open_sessions} sink session(s) did not close")

    def stop(self) -> None:
        try:
            if self._server is not None and self._loop.is_running():
                self._loop.call_soon_threadsafe(self._server.close)
                self.drop_sessions()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT)
            # Only now, with the loop stopped: asyncio.Server is not thread-safe, and a close()
            # racing the loop thread's own close() woke its waiters twice (TypeError in CI).
            if self._server is not None:
                self._server.close()
            self._loop.close()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def snapshot(self) -> list[Received]:
        """The messages taken so far, copied while the server thread may be adding more."""
        with self._lock:
            return list(self.messages)

    def delivered_to(self, address: str) -> list[Received]:
        return [m for m in self.snapshot() if address in m.recipients]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Block until ``count`` messages arrived (or fail the test)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(received := self.snapshot()) >= count:
                return received
            time.sleep(POLL_INTERVAL)
        got = len(self.snapshot())
        raise AssertionError(f"sink got {got} message(s), expected {count} within {timeout}s")

    def wait_delivered(self, address: str, timeout: float = 15.0) -> list[Received]:
        """Block until a message for ``address`` arrived (or fail the test); returns those."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.delivered_to(address):
                return found
            time.sleep(POLL_INTERVAL)
        raise AssertionError(f"nothing delivered to {address} within {timeout}s")


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The recipients' server."""
    with Sink() as server:
        yield server


@pytest.fixture
def sender_sink() -> Iterator[Sink]:
    """The sender's server (a route for the sender's domain): DSNs land here."""
    with Sink() as server:
        yield server


@pytest.fixture(scope="module")
def sink_m() -> Iterator[Sink]:
    """One sink for a module's tests, which keep apart by their addresses."""
    with Sink() as server:
        yield server
