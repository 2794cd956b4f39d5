"""Hot reload of the policy directory: on SIGHUP and when a policy file changes.

The new policy set is validated before it replaces the active one; an invalid set leaves the old
one in force and says why in the log (one line with file:line). Messages already decided keep
the policy version recorded in their plan. Change detection compares each ``*.yaml`` file's
name, size and modification time every ``interval`` seconds: cheap, and needs no inotify.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from relay.audit.events import AuditEvent, AuditKind, DetailValue, Recorder
from relay.metrics import Metrics
from relay.policy import PolicyStore, ReloadStatus

log = logging.getLogger("relay.policy")

WATCH_INTERVAL = 2.0
"""Seconds between looks at the policy directory; an edit is live within this."""

Signature = tuple[tuple[str, int, int], ...]


def directory_signature(directory: Path) -> Signature:
    try:
        entries = sorted(directory.glob("*.yaml"))
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in entries)
    except OSError:
        return ()


class PolicyReloader:
    def __init__(
        self,
        store: PolicyStore,
        directory: Path,
        *,
        audit: Recorder,
        metrics: Metrics,
        interval: float = WATCH_INTERVAL,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._audit = audit
        self._directory = directory
        self._interval = interval
        self._seen = directory_signature(directory)
        self._task: asyncio.Task[None] | None = None
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="policy-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reload(self, reason: str) -> None:
        self._seen = directory_signature(self._directory)
        result = self._store.try_reload(self._directory)
        self._metrics.policy_reload(result.status is not ReloadStatus.INVALID, timestamp=time.time())
        if result.status is not ReloadStatus.UNCHANGED:
            ok = result.status is ReloadStatus.RELOADED
            details: dict[str, DetailValue] = {"reason": reason, "ok": ok, "version": result.version}
            if not ok:
                details["error"] = str(result.error)[:400]
            self._audit.record(AuditEvent(kind=AuditKind.POLICY_RELOAD, actor="policy", details=details))
        if result.status is ReloadStatus.INVALID:
            self.failures += 1
            log.error(
                "event=policy_reload_failed reason=%s kept=%s error=%r",
                reason,
                result.version,
                str(result.error),
            )
        elif result.status is ReloadStatus.RELOADED:
            log.info(
                "event=policy_reloaded reason=%s version=%s previous=%s",
                reason,
                result.version,
                result.previous_version,
            )

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if directory_signature(self._directory) != self._seen:
                self.reload("file_change")
