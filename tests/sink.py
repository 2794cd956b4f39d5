"""A real SMTP server for tests to deliver to: aiosmtpd on loopback, in its own thread.

It records every message it accepts and answers as told: ``sink.script("rcpt", "x@d.test",
"451 4.3.0 later", "250 OK")`` makes RCPT TO:<x@d.test> fail once then succeed (the last reply
repeats). Phases are ``mail``, ``rcpt`` (per address) and ``data`` (per first recipient). It can
offer STARTTLS with a certificate from tests/certs.py, and counts connections so tests can see
connection reuse.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    peer: str
    tls: bool


class _Handler:
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
        reply = self._sink._next("data", envelope.rcpt_tos[0])
        if reply.startswith("250"):
            with self._sink._lock:
                self._sink.messages.append(
                    Received(
                        sender=envelope.mail_from,
                        recipients=tuple(envelope.rcpt_tos),
                        data=envelope.original_content,
                        peer=session.peer[0],
                        tls=session.ssl is not None,
                    )
                )
        return reply


class _CountingSMTP(SMTP):
    def __init__(self, sink: Sink, *args: Any, **kwargs: Any) -> None:
        self._counted_sink = sink
        super().__init__(*args, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self._counted_sink._lock:
            self._counted_sink.connections += 1
        super().connection_made(transport)


class Sink:
    """An SMTP sink on ``host``:``port`` (port 0 picks a free one)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.tls_context = tls_context
        self.messages: list[Received] = []
        self.connections = 0
        self._scripts: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

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

    def start(self) -> Sink:
        self._thread.start()
        handler = _Handler(self)

        async def serve() -> asyncio.AbstractServer:
            return await self._loop.create_server(
                lambda: _CountingSMTP(
                    self, handler, hostname="sink.test", tls_context=self.tls_context,
                    enable_SMTPUTF8=True,
                ),
                self.host,
                self.port,
            )

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
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

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Block until ``count`` messages arrived (or fail the test)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            got = len(self.messages)
        raise AssertionError(f"sink got {got} message(s), expected {count} within {timeout}s")


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as server:
        yield server
