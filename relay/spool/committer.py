"""Group commit: many concurrent sessions, one transaction and one fsync.

Every spool write of the server goes through one thread that owns the database connection.
The thread takes the first waiting operation, then everything else that queued up meanwhile
(up to ``MAX_BATCH``), runs them in one transaction and commits once. Under load the batch
grows by itself, so the cost of the fsync is shared; when idle a write commits at once, so
latency is one fsync. Each operation runs under its own savepoint: one bad operation fails
alone, the rest of the batch still commits.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from relay.errors import SpoolError
from relay.spool.store import Spool

T = TypeVar("T")

MAX_BATCH = 512
"""Operations per transaction; bounds the time one commit holds the write lock."""

Operation = Callable[[sqlite3.Connection], Any]


@dataclass(slots=True)
class _Job:
    operation: Operation
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


_STOP = object()


class GroupCommitter:
    """Runs spool operations in batched, durable transactions on a dedicated thread."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._jobs: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="spool-commit", daemon=True)
        # Guards _stopped and the queue together, so no job can ever be queued behind _STOP
        # (it would wait for a commit that never comes).
        self._lock = threading.Lock()
        self._stopped = False
        self.commits = 0
        self.operations = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then end the thread; later ``run`` calls raise SpoolError."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._jobs.put(_STOP)
        self._thread.join()

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` inside a transaction; returns once that transaction is durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._stopped:
                raise SpoolError("spool writer is stopped")
            self._jobs.put(_Job(operation, loop, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is _STOP:
                break
            batch: list[_Job] = [first]  # type: ignore[list-item]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._spool.transaction() as db:
                for index, job in enumerate(batch):
                    db.execute(f"SAVEPOINT op{index}")
                    try:
                        outcomes.append((True, job.operation(db)))
                        db.execute(f"RELEASE op{index}")
                    except Exception as exc:  # one failed operation must not sink the batch
                        db.execute(f"ROLLBACK TO op{index}")
                        db.execute(f"RELEASE op{index}")
                        outcomes.append((False, exc))
        except Exception as exc:
            error = exc if isinstance(exc, SpoolError) else SpoolError(f"spool write failed: {exc}")
            outcomes = [(False, error)] * len(batch)
        self.commits += 1
        self.operations += len(batch)
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            try:
                job.loop.call_soon_threadsafe(_settle, job.future, ok, value)
            except RuntimeError:
                # The waiting loop is gone (shutdown); the write itself is committed or not.
                continue


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
