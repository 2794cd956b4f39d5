"""The server's side of the audit log: recording never blocks an SMTP session.

Sessions and deliveries call ``record`` (a queue put, no I/O). One thread takes what has
queued up and appends it in one batch with one fsync, so the log keeps up with the mail rate;
it also seals the log when a seal is due on a quiet node. ``stop`` drains the queue before the
log is closed, so a clean stop loses no event.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable

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


class AuditTrail:
    def __init__(self, audit_log: AuditLog, *, on_failure: Callable[[], None] = lambda: None) -> None:
        self._log = audit_log
        self._on_failure = on_failure
        """Told of every failed write (from the trail's thread), for the internal-errors metric."""
        self._events: queue.SimpleQueue[AuditEvent | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-trail", daemon=True)
        self.failures = 0
        self._next_prune = 0.0

    def start(self) -> None:
        self._log.start()
        self._thread.start()

    def record(self, event: AuditEvent) -> None:
        self._events.put(event)

    def stop(self) -> None:
        self._events.put(_STOP)
        self._thread.join()
        self._log.close()

    def _run(self) -> None:
        while True:
            try:
                first = self._events.get(timeout=SEAL_CHECK_SECONDS)
            except queue.Empty:
                self._guarded(self._log.maybe_seal)
                self._housekeeping()
                continue
            batch: list[AuditEvent] = []
            stopping = first is _STOP
            if not stopping:
                batch.append(first)  # type: ignore[arg-type]
            while len(batch) < MAX_BATCH and not stopping:
                try:
                    item = self._events.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)  # type: ignore[arg-type]
            if batch:
                self._guarded(functools.partial(self._log.append_many, batch))
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
