"""Counters that add up across the worker processes of one node (prometheus-client multiprocess mode).

With ``workers: N`` each worker counts in its own memory-mapped files, one set per process id,
in ``<spool>/metrics/``; the serving process merges them at scrape time, so counters of all
workers (including workers that died and were restarted: their files stay) add up, and the
``live*`` gauges cover only the workers alive now once ``worker_exited`` has removed a dead
one's. The directory is emptied when the node starts, under the spool's serve lock, so two
runs never mix.

prometheus-client picks its value store when it is imported, from PROMETHEUS_MULTIPROC_DIR in
the environment; the relay learns its spool only from the configuration, later. So
``enable_multiprocess`` sets the variable (forked and spawned workers inherit it) and swaps the
store class in ``prometheus_client.values``, the seam the library's own multiprocess tests use.
It must run before the process creates its first ``Metrics``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess, values
from prometheus_client.metrics_core import Metric

log = logging.getLogger("relay.metrics")

DIRECTORY_NAME = "metrics"
ENV = "PROMETHEUS_MULTIPROC_DIR"

_new_value_class: Callable[[], Any] = values.MultiProcessValue
_mark_process_dead: Callable[[int, str], None] = multiprocess.mark_process_dead
_merge: Callable[..., Iterable[Metric]] = multiprocess.MultiProcessCollector.merge


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerProcess:
    """A live worker as the supervisor knows it: its stable index and current process id."""

    index: int
    pid: int


def multiprocess_directory(spool: Path) -> Path:
    return spool / DIRECTORY_NAME


def enable_multiprocess(directory: Path, *, clean: bool) -> None:
    """Count in files under ``directory`` from now on (and in every child this process starts).

    ``clean``: remove the files of a previous run; only the process that owns the spool's serve
    lock, before it starts any worker, may do this.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if clean:
        removed = 0
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
            removed += 1
        log.info("event=metrics_multiprocess dir=%s stale_files_removed=%d", directory, removed)
    os.environ[ENV] = str(directory)
    values.ValueClass = _new_value_class()


def multiprocess_enabled() -> bool:
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def worker_exited(pid: int, directory: Path) -> None:
    """Forget a dead worker's ``live*`` gauges; its counters stay and keep adding up."""
    _mark_process_dead(pid, str(directory))


def live_gauge_files(directory: Path, workers: Sequence[WorkerProcess]) -> dict[int, list[Path]]:
    """The ``live*`` gauge files of each live worker, by worker index."""
    return {worker.index: sorted(directory.glob(f"gauge_live*_{worker.pid}.db")) for worker in workers}


def read_gauge(files: Sequence[Path], name: str) -> float | None:
    """An unlabelled gauge's value in one process's files; None when they do not hold it."""
    for family in _merge([str(path) for path in files], accumulate=False):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None
