"""CPU accounting around a pass, from /proc: how many cores each system used, and the machine.

Throughput alone does not say whether a single-process relay is limited by one core (more
workers would help) or by something else (fsync, the sink, the client). CPU time per message is
also the figure least disturbed by other load on a shared machine: a system starved of CPU is
slower, but does not spend more CPU per message. The machine-wide figure shows how busy the
machine was in all, the benchmark's own load generator and sinks included.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuMark:
    """A point in time: wall clock, machine busy ticks, and one process's ticks (if watched)."""

    wall: float
    machine_busy: int
    process: int | None


def _machine_busy_ticks() -> int:
    """All non-idle time of all CPUs (the first line of /proc/stat, minus idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return sum(fields[:8]) - idle - iowait


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (relay workers are forked children of a supervisor)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return found


def _process_ticks(pid: int) -> int | None:
    """CPU ticks of a process tree, or None if the process is gone.

    Each live member counts its own time (utime, stime: all its threads) plus that of children
    it has already reaped (cutime, cstime): Postfix's master reaps an smtpd after its 100th
    session, and that smtpd's time must not vanish from the total when it does.
    """
    total = 0
    for member in _descendants(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            if member == pid:
                return None
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime: proc(5) 14-17
    return total


def mark(pid: int | None = None) -> CpuMark:
    return CpuMark(
        wall=time.perf_counter(),
        machine_busy=_machine_busy_ticks(),
        process=_process_ticks(pid) if pid is not None else None,
    )


def cores_used(start: CpuMark, end: CpuMark) -> tuple[float, float | None]:
    """Average cores busy between two marks: machine-wide, and the watched process's."""
    wall = max(end.wall - start.wall, 1e-9)
    machine = (end.machine_busy - start.machine_busy) / _TICKS / wall
    if start.process is None or end.process is None:
        return machine, None
    return machine, (end.process - start.process) / _TICKS / wall
