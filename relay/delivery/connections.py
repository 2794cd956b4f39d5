"""Reuse of idle SMTP connections per destination (Postfix's connection cache).

Opening a connection costs a TCP handshake, a greeting, EHLO and a TLS handshake; several
messages to one destination share one connection instead. Connections are reused only while
fresh (``idle_timeout``) and for at most ``max_messages`` transactions, so a long-lived
connection never pins one remote host forever.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from relay.clock import Clock
from relay.delivery.client import SmtpConnection


class ConnectionCache:
    def __init__(self, *, idle_timeout: float, max_messages: int, clock: Clock) -> None:
        self._idle_timeout = idle_timeout
        self._max_messages = max_messages
        self._clock = clock
        self._idle: dict[str, list[tuple[float, SmtpConnection]]] = defaultdict(list)

    def take(self, destination: str) -> SmtpConnection | None:
        """An idle connection to ``destination`` that may carry another message, if any."""
        idle = self._idle.get(destination)
        now = self._clock.monotonic()
        while idle:
            since, connection = idle.pop()
            if connection.is_connected and now - since < self._idle_timeout:
                return connection
            _close_soon(connection)
        return None

    def give_back(self, destination: str, connection: SmtpConnection) -> None:
        if connection.messages_sent >= self._max_messages or not connection.is_connected:
            _close_soon(connection)
            return
        self._idle[destination].append((self._clock.monotonic(), connection))

    def expire(self) -> None:
        """Close connections idle for longer than the timeout."""
        now = self._clock.monotonic()
        for destination in list(self._idle):
            keep = []
            for since, connection in self._idle[destination]:
                if now - since < self._idle_timeout and connection.is_connected:
                    keep.append((since, connection))
                else:
                    _close_soon(connection)
            if keep:
                self._idle[destination] = keep
            else:
                del self._idle[destination]

    async def close_all(self) -> None:
        connections = [c for idle in self._idle.values() for _, c in idle]
        self._idle.clear()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


_closing: set[asyncio.Task[None]] = set()


def _close_soon(connection: SmtpConnection) -> None:
    """QUIT politely in the background; the caller does not wait for the goodbye."""
    task = asyncio.get_running_loop().create_task(connection.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)
