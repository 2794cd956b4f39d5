"""Several relay processes on one node: one per core, sharing the listener and the spool.

A Python process runs on one core. To use them all, ``workers: N`` forks N worker processes;
each opens its own listening socket with SO_REUSEPORT (the kernel spreads connections among
them) and its own delivery scheduler; they share the spool, where leases keep two workers from
delivering the same message. The supervisor itself only recovers the spool at start (so no
worker releases another's live leases), forwards SIGTERM/SIGINT, and restarts a worker that dies
unexpectedly (its leased messages return after the lease expires or at the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import time
from pathlib import Path

from relay.app import preflight, serve
from relay.config.schema import Config
from relay.errors import RelayError
from relay.metrics import (
    WorkerProcess,
    dns_check,
    enable_multiprocess,
    multiprocess_directory,
    serving_registry,
    spool_check,
    start_metrics_server,
    worker_exited,
    workers_policy_check,
)
from relay.spool import Spool
from relay.spool.lock import ServeLock

log = logging.getLogger("relay.supervisor")

RESTART_DELAY = 1.0
"""Pause before restarting a crashed worker, so a worker that dies at start cannot spin."""
EARLY_DEATH_SECONDS = 30.0
"""A worker that dies sooner than this after its start died of something a restart may not cure."""
MAX_EARLY_DEATHS = 3
"""Early deaths in a row of one worker after which the supervisor stops the node (exit 1),
instead of restarting it forever, as Postfix's master throttles a service that keeps failing."""
EXIT_REFUSED = 2
"""A worker's exit code when it refuses to start (the CLI's usage code): counted as an early
death whenever it happens, since the worker never served."""


def run(config: Config) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit code."""
    lock = ServeLock(config.spool)
    lock.acquire()
    children: dict[int, int] = {}
    count = config.processes()
    try:
        if count > 1:
            preflight(config)  # what would make every worker fail: one line and exit 2, now
        # The metrics endpoint lives in this process, the one that lives as long as the node
        # (docs/metrics.md); workers write their counters to files it adds up.
        metrics_dir = multiprocess_directory(config.spool)
        enable_multiprocess(metrics_dir, clean=True)

        def live_workers() -> list[WorkerProcess]:
            if count == 1:
                return [WorkerProcess(index=0, pid=os.getpid())]
            return [WorkerProcess(index=i, pid=p) for p, i in list(children.items())]

        registry = serving_registry(config.spool, multiprocess_dir=metrics_dir, workers=live_workers)
        checks = [
            spool_check(config.spool),
            workers_policy_check(metrics_dir, live_workers),
            dns_check(config.dns),
        ]
        server = start_metrics_server(config.listen.metrics, checks, registry)
        try:
            if count == 1:
                asyncio.run(serve(config))
                return 0
            return _supervise(config, count, children, metrics_dir)
        finally:
            server.stop()
    finally:
        lock.release()


def _supervise(config: Config, count: int, children: dict[int, int], metrics_dir: Path) -> int:
    spool = Spool(config.spool)
    with spool.transaction() as db:
        released = Spool.release_all_leases(db)
    spool.close()  # nothing inherited across fork: each worker opens its own connection
    log.info("event=supervisor_start workers=%d leases_released=%d", count, released)

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            _signal(pid, signal.SIGTERM)

    def on_hangup(signum: int, _frame: object) -> None:
        for pid in list(children):
            _signal(pid, signal.SIGHUP)  # each worker reloads its policy

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hangup)
    started: dict[int, float] = {}
    early_deaths = [0] * count
    for index in range(count):
        pid = _spawn(config)
        children[pid], started[pid] = index, time.monotonic()
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        index = children.pop(pid)
        lived = time.monotonic() - started.pop(pid)
        worker_exited(pid, metrics_dir)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            log.info("event=worker_stopped worker=%d pid=%d code=%d", index, pid, code)
            failed = failed or code != 0
            continue
        early = lived < EARLY_DEATH_SECONDS or code == EXIT_REFUSED
        early_deaths[index] = early_deaths[index] + 1 if early else 0
        if early_deaths[index] >= MAX_EARLY_DEATHS:
            log.error(
                "event=worker_died worker=%d pid=%d code=%d lived=%.1fs early_deaths=%d action=stop_node",
                index,
                pid,
                code,
                lived,
                early_deaths[index],
            )
            stopping = failed = True
            for other in list(children):
                _signal(other, signal.SIGTERM)
            continue
        log.error("event=worker_died worker=%d pid=%d code=%d action=restart", index, pid, code)
        time.sleep(RESTART_DELAY)
        if not stopping:
            pid = _spawn(config)
            children[pid], started[pid] = index, time.monotonic()
    log.info("event=stopped")
    return 1 if failed else 0


def _spawn(config: Config) -> int:
    pid = os.fork()
    if pid:
        return pid
    # In the worker: default signal dispositions, then the normal single-process server.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    _stop_with_parent()
    code = 0
    try:
        asyncio.run(serve(config, recover=False))
    except RelayError as exc:  # refused at start (a port taken since the preflight, a key gone)
        log.error("event=worker_refused reason=%s", " ".join(str(exc).split()))
        code = EXIT_REFUSED
    except BaseException:
        log.exception("event=worker_crashed")
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def _stop_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM when the supervisor dies (even by SIGKILL), so no
    orphaned worker keeps the port and the spool (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just exited on its own
        os.kill(pid, signum)
