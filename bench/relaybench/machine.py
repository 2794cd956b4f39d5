"""What the numbers were measured on, recorded with them (a throughput without its machine is
meaningless, and the load average shows whether something else was competing for the CPUs)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

COMMAND_TIMEOUT_SECONDS = 10.0


def _first(path: str, key: str) -> str:
    """The value of the first ``key: value`` line of a /proc file, or '' if there is none."""
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return ""


def postfix_version() -> str:
    """``postconf -d mail_version`` (-d: the compiled-in value; there may be no main.cf)."""
    try:
        out = subprocess.run(
            ["postconf", "-d", "-h", "mail_version"],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe() -> dict[str, str]:
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postfix": postfix_version(),
        "load_average_at_start": load_average(),
    }
