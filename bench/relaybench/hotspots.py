"""Where the relay spends its time under load: py-spy samples during extra load passes.

py-spy reads the relay's stacks from outside (ptrace), so the relay runs unmodified; it pauses
the process for each sample, which is why profiling happens in passes of its own whose
throughput is not reported. Two views, one pass each:

- ``busy``: samples of threads that are running or runnable (py-spy drops threads that sleep,
  e.g. in epoll or on a lock). Includes time in system calls such as ``send`` and ``fsync``.
- ``gil``: only the thread holding the GIL, i.e. Python code actually executing. One process
  has one GIL, so for a single-worker relay this is the budget that caps throughput.

The raw output (collapsed stacks with line numbers, ``frame;frame;... count``) is kept for
flame-graph tools; the summary ranks functions by self time (the function itself was running),
by module, by line, and by total time (the function was anywhere on the stack).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .procs import BenchError, spawn, stop_process

SAMPLE_RATE = 100
"""Samples per second: py-spy's default; each sample pauses the relay for a few microseconds."""
ATTACH_SECONDS = 1.0
"""py-spy needs a moment to attach before the load starts."""
FLUSH_TIMEOUT_SECONDS = 30.0
TOP = 12

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Hotspot:
    name: str
    samples: int
    share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    mode: str
    samples: int
    possible: int
    """Samples one thread would give had it been busy the whole time (elapsed x rate)."""
    threads: tuple[Hotspot, ...]
    self_time: tuple[Hotspot, ...]
    by_area: tuple[Hotspot, ...]
    by_line: tuple[Hotspot, ...]
    total_time: tuple[Hotspot, ...]
    raw_path: Path


def py_spy() -> str:
    """py-spy next to this interpreter (``pip install py-spy`` into the venv) or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise BenchError("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


async def record(pid: int, output: Path, load: Callable[[], Awaitable[None]], *, gil: bool) -> Profile:
    """Sample ``pid`` (and its worker processes) while ``load`` runs; return the hotspots."""
    argv = [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--output", str(output),
            "--rate", str(SAMPLE_RATE), "--subprocesses", "--threads", *(["--gil"] if gil else [])]
    proc = await spawn(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        await asyncio.sleep(ATTACH_SECONDS)
        await load()
    finally:
        elapsed = time.perf_counter() - started
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)  # py-spy stops sampling and writes its output
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_TIMEOUT_SECONDS):
                await proc.wait()
        await stop_process(proc)  # only if it ignored SIGINT
    if not output.exists():
        raise BenchError(f"py-spy wrote no profile (exit {proc.returncode}); is ptrace allowed?")
    return summarise(output, mode="gil" if gil else "busy", possible=round(elapsed * SAMPLE_RATE))


def _function(frame: str) -> str:
    """``name (file:line)`` -> ``name (file)``: samples anywhere in a function count for it."""
    match = _FRAME.match(frame)
    return f"{match.group('function')} ({match.group('file')})" if match else frame


def _area(frame: str) -> str:
    """Where a frame's code lives: a relay module, a library, or a stdlib module."""
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    if path.startswith("relay/"):
        return path.removesuffix(".py").replace("/", ".")
    return path.split("/", 1)[0].removesuffix(".py") or frame


def _ranked(counter: Counter[str], total: int, top: int = TOP) -> tuple[Hotspot, ...]:
    return tuple(
        Hotspot(name=name, samples=n, share=n / max(total, 1)) for name, n in counter.most_common(top)
    )


def _stacks(raw: Path) -> Iterable[tuple[str, list[str], int]]:
    """(thread, frames root first, samples) for each line of py-spy's raw output."""
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread ")), "thread (?)")
        code = [f for f in frames if not f.startswith(("thread ", "process "))]
        if code:
            yield thread, code, int(count)


OWN_CODE = ("relay/", "aiosmtpd/", "aiosmtplib/")
"""Total time is ranked for these only: the relay and the SMTP libraries it drives. Event-loop
frames are on nearly every stack and would fill the table without saying anything."""


def _is_own(function: str) -> bool:
    match = _FRAME.match(function)
    return match is not None and match.group("file").startswith(OWN_CODE)


def summarise(raw: Path, *, mode: str, possible: int) -> Profile:
    threads: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    per_thread: Counter[tuple[str, str]] = Counter()
    samples = 0
    for thread, frames, count in _stacks(raw):
        samples += count
        threads[thread] += count
        self_time[_function(frames[-1])] += count
        areas[_area(frames[-1])] += count
        lines[frames[-1]] += count
        for function in {_function(f) for f in frames}:
            total_time[function] += count
            per_thread[thread, function] += count
    if samples == 0:
        raise BenchError(f"the profile {raw} holds no samples")
    # A function on every stack of its thread (main, serve, Thread.run) is a root, not a cost.
    roots = {function for (thread, function), n in per_thread.items() if n == threads[thread]}
    inclusive = Counter({f: n for f, n in total_time.items() if f not in roots and _is_own(f)})
    return Profile(
        mode=mode, samples=samples, possible=possible,
        threads=_ranked(threads, possible, top=len(threads)),
        self_time=_ranked(self_time, samples), by_area=_ranked(areas, samples),
        by_line=_ranked(lines, samples), total_time=_ranked(inclusive, samples),
        raw_path=raw,
    )


def _table(title: str, rows: Iterable[Hotspot], share_title: str = "share") -> list[str]:
    body = [f"| {h.share:.1%} | {h.samples} | `{h.name}` |" for h in rows]
    return ["", f"{title}:", "", f"| {share_title} | samples | where |", "| ---: | ---: | --- |", *body]


def report(profile: Profile) -> str:
    """Markdown: how busy each thread was, then the hotspots as shares of all samples."""
    what = ("holding the GIL" if profile.mode == "gil"
            else "running or waiting for a CPU (not sleeping)")
    parts = [f"py-spy, {profile.mode} view: {profile.samples} samples of threads {what}; "
             f"raw stacks in {profile.raw_path}"]
    parts += _table("Threads (share of the elapsed time)", profile.threads, "of elapsed")
    parts += _table("Self time by function", profile.self_time)
    parts += _table("Self time by module or library", profile.by_area)
    parts += _table("Self time by line", profile.by_line)
    parts += _table("Total time of relay and SMTP-library functions (anywhere on the stack)",
                    profile.total_time)
    return "\n".join(parts)
