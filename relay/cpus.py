"""How many CPU cores this process may use: the unit both process counts are sized by."""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores the scheduler lets this process run on (a container's or taskset's limit), which
    can be fewer than the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
