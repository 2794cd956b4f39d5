"""Child processes and loopback ports for the benchmark; every start and every wait is bounded.

The benchmark drives Postfix, smtp-sink, smtp-source and the relay. A child that hangs must end
the run with an error naming it, never hang the run. Children start in their own session, so a
Ctrl-C in the terminal reaches only the benchmark, which then stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
"""Everything listens and connects here only: the benchmark must not touch the network."""

STOP_GRACE_SECONDS = 15.0
"""A child gets this long after SIGTERM to exit before it is killed."""


class BenchError(Exception):
    """The benchmark cannot go on: a child failed, timed out or answered unexpectedly."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    """What a bounded command left behind."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


def free_port() -> int:
    """A port the kernel just handed out on loopback (tiny race, acceptable on a test box)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


async def spawn(*argv: str, **options: Any) -> asyncio.subprocess.Process:
    """Start a child in its own session (Ctrl-C reaches only us); a missing program is a BenchError."""
    try:
        return await asyncio.create_subprocess_exec(*argv, start_new_session=True, **options)
    except OSError as exc:
        raise BenchError(f"cannot run {argv[0]}: {exc.strerror} (Postfix's tools: make debs-bench)") from exc


async def run_bounded(argv: Sequence[str], *, timeout: float, check: bool = True) -> Finished:
    """Run a command to completion within ``timeout``; kill it and raise if it takes longer."""
    started = time.perf_counter()
    proc = await spawn(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        await stop_process(proc, grace=0.0)
        raise BenchError(f"{argv[0]} did not finish within {timeout:g}s") from None
    except asyncio.CancelledError:
        await stop_process(proc, grace=0.0)
        raise
    result = Finished(
        returncode=proc.returncode if proc.returncode is not None else -1,
        stdout=out.decode(errors="replace"),
        stderr=err.decode(errors="replace"),
        seconds=time.perf_counter() - started,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BenchError(f"{' '.join(argv)} exited {result.returncode}: {detail}")
    return result


async def stop_process(proc: asyncio.subprocess.Process, *, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns once the child is reaped."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM if grace > 0 else signal.SIGKILL)
    try:
        async with asyncio.timeout(grace if grace > 0 else STOP_GRACE_SECONDS):
            await proc.wait()
        return
    except TimeoutError:
        pass
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    async with asyncio.timeout(STOP_GRACE_SECONDS):
        await proc.wait()


async def wait_for_greeting(port: int, *, timeout: float, alive: Callable[[], bool]) -> None:
    """Wait until an SMTP server on ``port`` sends its 220 greeting (it is ready for load)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise BenchError(f"the server for port {port} exited while starting")
        try:
            async with asyncio.timeout(2.0):
                reader, writer = await asyncio.open_connection(LOOPBACK, port)
                greeting = await reader.readline()
                writer.write(b"QUIT\r\n")
                await writer.drain()
                await reader.readline()
                writer.close()
                await writer.wait_closed()
            if greeting.startswith(b"220"):
                return
        except (OSError, TimeoutError):
            pass
        await asyncio.sleep(0.05)
    raise BenchError(f"no SMTP greeting on {LOOPBACK}:{port} within {timeout:g}s")


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, for error messages (empty if it does not exist)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
