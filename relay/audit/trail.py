"""The server's side of the audit log: recording never blocks an SMTP session.

Sessions and deliveries call ``record`` (a queue put, no I/O). One thread takes what has
queued up and appends it in one batch with one fsync, so the log keeps up with the mail rate;
it also seals the log when a seal is due on a quiet node. ``stop`` drains the queue before the
log is closed, so a clean stop loses no event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from relay.audit.events import AuditEvent
from relay.audit.writer import AuditLog

log = logging.getLogger("relay.audit")

MAX_BATCH = 1000
"""Events per append: bounds how long one batch holds the log's lock."""
SEAL_CHECK_SECONDS = 5.0
"""How often an idle trail asks the log whether a time-based seal is due."""
PRUNE_EVERY_SECONDS = 86400.0
"""Retention housekeeping runs once a day (and once at start)."""

_STOP = object()


@dataclass(frozen=True, slots=True)
class _Entry:
    events: tuple[AuditEvent, ...]
    written: asyncio.Future[None] | None = None
    """Resolved (in its loop) once the batch holding these events has been appended."""


class AuditTrail:
    def __init__(self, audit_log: AuditLog, *, on_failure: Callable[[], None] = lambda: None) -> None:
        self._log = audit_log
        self._on_failure = on_failure
        """Told of every failed write (from the trail's thread), for the internal-errors metric."""
        self._entries: queue.SimpleQueue[_Entry | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-trail", daemon=True)
        self.failures = 0
        self._next_prune = 0.0

    def start(self) -> None:
        self._log.start()
        self._thread.start()

    def record(self, event: AuditEvent) -> None:
        """Queue ``event``; it is written with the next batch (no waiting)."""
        self._entries.put(_Entry((event,)))

    async def persist(self, *events: AuditEvent) -> None:
        """Write ``events`` and return once they are on disk as ``audit.fsync`` promises: the
        server calls this before it acts on an event (the 250 of an accept, the spool update
        after a delivery), so a crash cannot leave an act without its record. Concurrent
        callers share the batch and its fsync. A failed write is logged and counted
        (``relay_internal_errors_total{component="audit"}``), and the caller goes on: mail is
        not held hostage to the audit disk."""
        if not self._thread.is_alive():  # not started, or stopped: nothing would ever answer
            self._entries.put(_Entry(events))
            return
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._entries.put(_Entry(events, written))
        await written

    def stop(self) -> None:
        self._entries.put(_STOP)
        self._thread.join()
        self._log.close()

    def _run(self) -> None:
        while True:
            try:
                first = self._entries.get(timeout=SEAL_CHECK_SECONDS)
            except queue.Empty:
                self._guarded(self._log.maybe_seal)
                self._housekeeping()
                continue
            batch: list[_Entry] = []
            stopping = first is _STOP
            if isinstance(first, _Entry):
                batch.append(first)
            while sum(len(e.events) for e in batch) < MAX_BATCH and not stopping:
                try:
                    item = self._entries.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Entry):
                    batch.append(item)
                else:
                    stopping = True
            if batch:
                events = [event for entry in batch for event in entry.events]
                self._guarded(functools.partial(self._log.append_many, events))
                _wake([entry.written for entry in batch if entry.written is not None])
            if stopping:
                return

    def _housekeeping(self) -> None:
        """Delete files past ``audit.retention_days`` (the prune itself is recorded in the log)."""
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY_SECONDS
        self._guarded(self._log.prune)

    def _guarded(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:  # the root of the audit thread: log it, count it, keep going
            self.failures += 1
            log.exception("event=audit_write_failed")
            self._on_failure()


def _wake(futures: list[asyncio.Future[None]]) -> None:
    """Resolve ``futures`` from the trail's thread: one call into each event loop per batch (each
    call writes to the loop's wake-up pipe), not one per waiting session."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in futures:
        by_loop.setdefault(future.get_loop(), []).append(future)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a session may have gone (cancelled) meanwhile
            future.set_result(None)
