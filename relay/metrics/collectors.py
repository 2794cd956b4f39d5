"""Values read at scrape time: queue depth from the spool, spool disk space, process figures.

``SpoolCollector`` opens the spool database read-only for each scrape (SQLite WAL readers never
block the writers) and closes it again, so the serving process holds no connection across the
supervisor's forks. Its queries are bounded by a time budget; a scrape that cannot read the
queue still answers, with ``relay_queue_scrape_success 0``.

``ProcessesCollector`` reports prometheus-client's standard ``process_*`` figures for the
serving process (``worker="main"``) and for every live worker (``worker="0"``, ``"1"`` ...),
read from /proc, as a worker cannot export its own through the multiprocess files. A single
process that serves and works lists itself as worker 0 and is reported once, as ``"0"``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector

from relay.metrics.labels import DEFAULT_POOL, LabelBounds
from relay.metrics.multiproc import WorkerProcess
from relay.model import QueueState

log = logging.getLogger("relay.metrics")

DB_NAME = "queue.db"
"""The spool database's file name (relay/spool/store.py; not imported, so the spool may count metrics)."""
STATES_BUDGET_SECONDS = 2.0
"""Counts by state read the state column only: ~0.1 s per 100,000 messages."""
POOLS_BUDGET_SECONDS = 3.0
"""The breakdown by pool reads every plan, ~2 s per 100,000 messages of 20 KB; past this the
scrape shows pool "unknown". Both budgets together stay under Prometheus' default 10 s scrape
timeout."""
POOLS_RETRY_SECONDS = 300.0
"""After the breakdown by pool ran out of time, scrapes skip it (pool "unknown") this long, so a
huge queue does not cost a full scan every scrape interval."""
BUSY_TIMEOUT_SECONDS = 1.0
"""Waiting for a lock only happens during a WAL checkpoint or recovery, both short."""
_PROGRESS_STEPS = 10_000
"""SQLite virtual-machine steps between two looks at the clock."""

MIXED_POOLS = "mixed"
"""The pool label of a message whose recipients leave through different pools."""
UNKNOWN_POOL = "unknown"
"""The pool label of every message when the breakdown by pool ran out of time."""

_BY_STATE = "SELECT state, COUNT(*), MIN(created_at) FROM messages GROUP BY state"
_BY_STATE_AND_POOL = """
SELECT state, CASE WHEN low IS high THEN low END AS pool, COUNT(*) FROM (
    SELECT m.state AS state,
           MIN(COALESCE(json_extract(r.value, '$.pool'), '')) AS low,
           MAX(COALESCE(json_extract(r.value, '$.pool'), '')) AS high
    FROM messages AS m LEFT JOIN json_each(m.plan, '$.recipients') AS r
    GROUP BY m.rowid
) GROUP BY state, pool
"""
"""One row per (state, pool); pool NULL for messages whose recipients use several pools."""

_multiprocess_collector: Callable[[CollectorRegistry, str], object] = MultiProcessCollector

WorkerList = Callable[[], Sequence[WorkerProcess]]


def no_workers() -> Sequence[WorkerProcess]:
    return ()


class SpoolCollector:
    """Queue depth by state and pool, age of the oldest message by state, spool disk space.

    Each message counts once: under the pool of its recipients' plans, ``default`` when they
    name none, ``mixed`` when they name several; so a sum over pools is the number of messages.
    """

    def __init__(self, spool: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._spool = spool
        self._clock = clock
        self._bounds = LabelBounds()
        self._pools_after = 0.0
        """Monotonic time before which the breakdown by pool is skipped."""

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        depth, oldest, success, free, total = self._families()
        try:
            by_state, by_state_and_pool = self._read_queue()
        except sqlite3.Error as exc:
            log.warning("event=metrics_queue_unreadable spool=%s error=%r", self._spool, str(exc))
            success.add_metric([], 0)
        else:
            success.add_metric([], 1)
            for (state, pool), count in sorted(by_state_and_pool.items()):
                depth.add_metric([state, pool], count)
            now = self._clock()
            for state, (_, created) in sorted(by_state.items()):
                oldest.add_metric([state], max(now - created, 0.0))
        try:
            usage = shutil.disk_usage(self._spool)
        except OSError as exc:
            log.warning("event=metrics_disk_unreadable spool=%s error=%r", self._spool, exc.strerror)
            return [depth, oldest, success]
        free.add_metric([], usage.free)
        total.add_metric([], usage.total)
        return [depth, oldest, success, free, total]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "relay_queue_messages",
                "Messages in the spool, by state and egress pool.",
                labels=["state", "pool"],
            ),
            GaugeMetricFamily(
                "relay_queue_oldest_message_age_seconds",
                "Age of the oldest message in each non-empty state.",
                labels=["state"],
            ),
            GaugeMetricFamily(
                "relay_queue_scrape_success", "1 when this scrape could read the spool database."
            ),
            GaugeMetricFamily(
                "relay_spool_free_bytes", "Free space on the spool's filesystem, for unprivileged users."
            ),
            GaugeMetricFamily("relay_spool_total_bytes", "Size of the spool's filesystem."),
        )

    def _read_queue(self) -> tuple[dict[str, tuple[int, float]], dict[tuple[str, str], int]]:
        """(count, oldest creation time) by state; count by state and pool."""
        uri = f"{(self._spool / DB_NAME).absolute().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        try:
            _Budget(db, STATES_BUDGET_SECONDS)
            by_state = {str(state): (int(n), float(oldest)) for state, n, oldest in db.execute(_BY_STATE)}
            rows = [(state, UNKNOWN_POOL, n) for state, (n, _) in by_state.items()]
            if time.monotonic() >= self._pools_after:
                budget = _Budget(db, POOLS_BUDGET_SECONDS)
                try:
                    rows = db.execute(_BY_STATE_AND_POOL).fetchall()
                except sqlite3.OperationalError:
                    if not budget.ran_out:
                        raise
                    self._pools_after = time.monotonic() + POOLS_RETRY_SECONDS
                    log.warning(
                        "event=metrics_queue_pools_skipped reason=time_budget retry_in=%.0fs",
                        POOLS_RETRY_SECONDS,
                    )
        finally:
            db.close()
        depth = {(state.value, DEFAULT_POOL): 0 for state in QueueState}
        for state, pool, count in rows:
            if pool is None:
                label = MIXED_POOLS
            elif pool == UNKNOWN_POOL:
                label = UNKNOWN_POOL
            else:
                label = self._bounds.pool(str(pool))
            key = (str(state), label)
            depth[key] = depth.get(key, 0) + int(count)
        return by_state, depth


class _Budget:
    """Interrupts the connection's statements once ``seconds`` have passed (sqlite3_progress_handler)."""

    def __init__(self, db: sqlite3.Connection, seconds: float) -> None:
        self.ran_out = False
        deadline = time.monotonic() + seconds

        def check() -> int:
            self.ran_out = time.monotonic() > deadline
            return int(self.ran_out)  # nonzero interrupts the running statement

        db.set_progress_handler(check, _PROGRESS_STEPS)


class ProcessesCollector:
    """prometheus-client's process figures for this process and each live worker, by ``worker``."""

    def __init__(self, workers: WorkerList = no_workers) -> None:
        self._workers = workers

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily("relay_workers_running", "Worker processes alive now.")]

    def collect(self) -> Iterable[Metric]:
        workers = list(self._workers())
        running = GaugeMetricFamily(
            "relay_workers_running", "Worker processes alive now.", value=len(workers)
        )
        merged: dict[str, Metric] = {}
        own = os.getpid()
        targets: list[tuple[str, int | str]] = [(str(w.index), w.pid) for w in workers]
        if all(w.pid != own for w in workers):  # with ``workers: 1`` this process is worker 0
            targets.insert(0, ("main", "self"))
        for worker, pid in targets:
            for family in _process_families(pid):
                into = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    into.add_sample(sample.name, {**sample.labels, "worker": worker}, sample.value)
        return [running, *merged.values()]


def _process_families(pid: int | str) -> Iterable[Metric]:
    return ProcessCollector(pid=lambda: pid, registry=None).collect()


def serving_registry(
    spool: Path,
    *,
    multiprocess_dir: Path | None,
    workers: WorkerList = no_workers,
) -> CollectorRegistry:
    """What ``/metrics`` shows: every worker's files merged (``multiprocess_dir``), the queue, processes.

    Without ``multiprocess_dir`` (tests, tools) register a ``Metrics`` in the returned registry.
    """
    registry = CollectorRegistry()
    if multiprocess_dir is not None:
        _multiprocess_collector(registry, str(multiprocess_dir))
    registry.register(SpoolCollector(spool))
    registry.register(ProcessesCollector(workers))
    return registry
