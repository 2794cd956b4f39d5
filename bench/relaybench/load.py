"""The two load generators: Postfix's smtp-source for throughput, a small client for latency.

smtp-source is written in C and costs almost no CPU, so on a 2-core machine the throughput it
measures is the server's, not the client's. It reports no per-message timings, though, so accept
latency comes from a second pass with ``timed_sessions``: ``concurrency`` sessions, each sending
its share of the messages one after another over one connection, timing the end of DATA (the
final ".") to the server's 250 reply. That is the time the server takes to make the message
durable and say so (RFC 5321 4.1.1.4), which is what a sending MTA waits on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from .procs import LOOPBACK, BenchError, run_bounded

SENDER = "from@bench.test"
REPLY_TIMEOUT_SECONDS = 60.0
"""Per reply from the server under test; a healthy server answers in milliseconds."""
LINE_LENGTH = 78
"""Body lines of the generated message, under RFC 5322's 78-character recommendation (2.1.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencySample:
    """Accept latencies of one pass (seconds, one per message) and how long the pass took."""

    latencies: tuple[float, ...]
    seconds: float


async def smtp_source(port: int, *, size: int, messages: int, concurrency: int, recipient: str,
                      timeout: float) -> float:
    """Send ``messages`` of ``size`` payload bytes over ``concurrency`` parallel sessions.

    smtp-source opens a new connection per message (its default; ``-d`` would reuse them), as
    many applications and MTAs without connection caching do. Returns the wall time in seconds.
    """
    argv = [
        "smtp-source", "-l", str(size), "-m", str(messages), "-s", str(concurrency),
        "-f", SENDER, "-t", recipient, f"{LOOPBACK}:{port}",
    ]
    finished = await run_bounded(argv, timeout=timeout)
    return finished.seconds


def message(size: int, *, recipient: str, number: int) -> bytes:
    """A message with a few headers and about ``size`` bytes of body in short lines, like smtp-source's."""
    header = (
        f"From: <{SENDER}>\r\nTo: <{recipient}>\r\nSubject: bench {number}\r\n"
        f"Message-ID: <{number}.{time.time_ns()}@bench.test>\r\n\r\n"
    ).encode()
    line = b"X" * LINE_LENGTH + b"\r\n"
    return header + line * max(1, round(size / len(line)))


class _Session:
    """One SMTP connection that speaks just enough of RFC 5321 to send messages and time them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int) -> _Session:
        async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
        session = cls(reader, writer)
        await session.expect(220)
        await session.command(b"EHLO client.bench.test", 250)
        return session

    async def expect(self, code: int) -> None:
        """Read one (possibly multi-line, RFC 5321 4.2.1) reply; it must carry ``code``."""
        async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
            while True:
                line = await self._reader.readline()
                if not line:
                    raise BenchError(f"server closed the connection, expected {code}")
                if line[3:4] != b"-":
                    break
        if not line.startswith(str(code).encode()):
            raise BenchError(f"expected {code}, got {line.decode(errors='replace').strip()!r}")

    async def command(self, line: bytes, code: int) -> None:
        self._writer.write(line + b"\r\n")
        await self.expect(code)

    async def send(self, recipient: str, data: bytes) -> float:
        """One transaction; returns seconds from the final "." to the 250."""
        await self.command(f"MAIL FROM:<{SENDER}>".encode(), 250)
        await self.command(f"RCPT TO:<{recipient}>".encode(), 250)
        await self.command(b"DATA", 354)
        self._writer.write(data)  # no line starts with ".", so no dot-stuffing is needed
        async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
            await self._writer.drain()
        started = time.perf_counter()
        self._writer.write(b".\r\n")
        await self.expect(250)
        return time.perf_counter() - started

    async def close(self) -> None:
        try:
            await self.command(b"QUIT", 221)
        finally:
            self._writer.close()
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                await self._writer.wait_closed()


async def _sender(port: int, *, size: int, count: int, first: int, recipient: str) -> list[float]:
    session = await _Session.open(port)
    try:
        return [
            await session.send(recipient, message(size, recipient=recipient, number=first + n))
            for n in range(count)
        ]
    finally:
        await session.close()


async def timed_sessions(port: int, *, size: int, messages: int, concurrency: int, recipient: str,
                         timeout: float) -> LatencySample:
    """Send ``messages`` over ``concurrency`` sequential sessions, timing every accept."""
    shares = [messages // concurrency + (1 if i < messages % concurrency else 0) for i in range(concurrency)]
    firsts = [sum(shares[:i]) for i in range(concurrency)]
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout), asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(_sender(port, size=size, count=share, first=first, recipient=recipient))
                for share, first in zip(shares, firsts, strict=True)
                if share
            ]
    except TimeoutError:
        raise BenchError(f"the latency pass did not finish within {timeout:g}s") from None
    except ExceptionGroup as failed:  # the first failure cancelled the other sessions
        raise BenchError(f"the latency pass failed: {failed.exceptions[0]!r}") from failed
    return LatencySample(
        latencies=tuple(t for task in tasks for t in task.result()),
        seconds=time.perf_counter() - started,
    )
