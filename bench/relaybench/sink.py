"""Postfix's smtp-sink on loopback, and how many messages it has received so far.

End-to-end throughput needs the moment the last of N messages reached the far side. smtp-sink
with ``-c`` writes running counters (``sess=N quit=N mesg=N``, each record ended by CR) to
stdout whenever a session ends, QUIT arrives or a message's final "." arrives. Reading the last
``mesg=`` gives the count with no dump files: writing each message to disk (``-d``/``-D``) would
make the sink, not the system under test, the bottleneck. The counter is cumulative, so one
sink serves a whole benchmark: a pass waits for ``count before + N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re

from .procs import LOOPBACK, BenchError, spawn, stop_process, wait_for_greeting

SINK_BACKLOG = 1024
"""listen(2) backlog; above the benchmark's concurrency so connects never wait on the kernel."""
SINK_MAX_SESSIONS = 512
"""smtp-sink ``-m``: simultaneous sessions it serves (its own default is 256)."""
SINK_USER = "nobody"
"""smtp-sink refuses to run as root without ``-u``; it writes nothing, so nobody will do."""
SINK_TIMEOUT_SECONDS = 100
"""smtp-sink ``-t``: per-command read/write limit (its default), so a stuck client is dropped."""

START_TIMEOUT_SECONDS = 10.0

_MESSAGES = re.compile(rb"mesg=(\d+)")


class SmtpSink:
    """One smtp-sink process; ``count`` is the number of messages it has received."""

    def __init__(self, *, port: int, binary: str = "smtp-sink") -> None:
        self.port = port
        self._binary = binary
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.count = 0

    def _argv(self) -> list[str]:
        argv = [self._binary, "-c", "-m", str(SINK_MAX_SESSIONS), "-t", str(SINK_TIMEOUT_SECONDS)]
        if os.geteuid() == 0:
            argv += ["-u", SINK_USER]
        return [*argv, f"{LOOPBACK}:{self.port}", str(SINK_BACKLOG)]

    async def start(self) -> None:
        self._proc = await spawn(
            *self._argv(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self._reader = asyncio.create_task(self._follow(), name=f"smtp-sink-{self.port}")
        await wait_for_greeting(self.port, timeout=START_TIMEOUT_SECONDS, alive=lambda: self.alive)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def _follow(self) -> None:
        """Keep ``count`` at the last complete counter record smtp-sink wrote."""
        assert self._proc is not None and self._proc.stdout is not None
        pending = b""
        while chunk := await self._proc.stdout.read(65536):
            pending += chunk
            complete, _, pending = pending.rpartition(b"\r")
            found = _MESSAGES.findall(complete)
            if found:
                self.count = int(found[-1])
                self._changed.set()
        self._changed.set()  # end of output: wake any waiter so it notices the exit

    async def wait_for(self, target: int, *, timeout: float) -> None:
        """Return once ``count >= target``; raise if that takes longer than ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while self.count < target:
                    if not self.alive:
                        raise BenchError(f"smtp-sink on port {self.port} exited")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise BenchError(
                f"smtp-sink on port {self.port} has {self.count} of {target} messages after {timeout:g}s"
            ) from None

    async def stop(self) -> None:
        if self._proc is not None:
            await stop_process(self._proc)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
