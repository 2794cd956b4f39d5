"""``AuditLog``: appends records to the node's chain, seals it, rotates and prunes its files.

Several worker processes of a node write one chain. Every change happens under ``flock(2)`` on
``audit.lock``: take the lock, catch up with what other processes did (the lock file holds a
generation number that every rotation, seal or prune bumps; a grown file means another process
appended), write one line with a single ``os.write`` on an ``O_APPEND`` descriptor, release.
Within the process a thread lock comes first, so threads (``asyncio.to_thread``) are safe too.
Open the log after forking, never before: an inherited descriptor shares its flock.

Durability (``fsync``): ``every`` (the default) makes ``append`` return only once its record is
on disk, the promise the spool already makes for messages: an event the relay acted on is
never lost to a power cut. Appenders in several threads share one fsync (group commit), so the
cost is one fsync per burst, not per record. ``seal`` syncs only at seals, rotation and close:
up to ``seal_every_records`` records or ``seal_every_seconds`` can vanish in a power loss (a
process crash loses nothing: the kernel has the bytes). Either way a seal is on disk before
``audit.head`` names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.audit import files
from relay.audit.chain import ChainTip, last_field
from relay.audit.events import AuditEvent, AuditKind, DetailValue
from relay.audit.keys import fingerprint, load_privacy, load_signing_key
from relay.audit.privacy import AuditPrivacy, redact
from relay.audit.record import build_line, format_ts, internal_fields, line_digest, parse_ts, seal_details
from relay.audit.settings import AuditConfig, FsyncPolicy
from relay.clock import Clock, SystemClock
from relay.errors import AuditError

DAY = 86400.0
_GENERATION_WIDTH = 20


class AuditLog:
    """The writer of one node's audit chain. ``start()`` before use, ``close()`` at the end."""

    def __init__(
        self,
        config: AuditConfig,
        *,
        clock: Clock,
        privacy: AuditPrivacy,
        signing_key: Ed25519PrivateKey | None = None,
        node: str | None = None,
    ) -> None:
        self._config = config
        self._dir = config.directory
        self._clock = clock
        self._privacy = privacy
        self._key = signing_key
        self._fingerprint = fingerprint(signing_key.public_key()) if signing_key else ""
        self._tip = ChainTip(config.directory, node=node or socket.gethostname())
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._lock_fd = -1
        self._generation = -1
        """The lock file's counter when we last caught up; every head change bumps it."""
        self._head_seal: bytes | None = None
        self._sealed_seq = 0
        self._sealed_at = 0.0
        self._closed = False

    @classmethod
    def from_config(cls, config: AuditConfig, *, clock: Clock | None = None) -> AuditLog:
        """Load the keys the configuration names (``ConfigError`` if one is unusable)."""
        key = load_signing_key(config.signing_key) if config.signing_key is not None else None
        return cls(config, clock=clock or SystemClock(), privacy=load_privacy(config), signing_key=key)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open (or create) the chain and resume it from the last record on disk."""
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock_fd = os.open(self._dir / files.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditError(f"audit: cannot open {self._dir}: {exc.strerror}") from exc
        self._sealed_at = self._clock.now()
        try:
            with self._locked():
                pass  # catching up is all there is to do
        except BaseException:
            self._tip.close()
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise

    def close(self) -> None:
        """Seal what is unsealed, sync, and release the files. Safe to call twice."""
        with self._lock:
            if self._closed or self._lock_fd < 0:
                self._closed = True
                return
            try:
                with self._flock():
                    self._catch_up()
                    if self._unsealed():
                        self._seal(update_head=True)
                    self._tip.fsync()
            finally:
                self._closed = True
                self._tip.close()
                os.close(self._lock_fd)
                self._lock_fd = -1

    def __enter__(self) -> AuditLog:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> int:
        """Write one event; returns its seq. Blocks for an fsync under ``fsync: every``."""
        fields = redact(event, self._privacy)
        with self._locked():
            seq = self._write(fields)
            if self._seal_due():
                self._seal(update_head=True)
        if self._config.fsync is FsyncPolicy.EVERY:
            self._sync(seq)
        return seq

    def append_many(self, events: Sequence[AuditEvent]) -> int:
        """Write several events under one lock and (``fsync: every``) one fsync; returns the
        last seq. The server's audit thread uses this to keep up with mail at any rate."""
        batch = [redact(event, self._privacy) for event in events]
        seq = 0
        with self._locked():
            for fields in batch:
                seq = self._write(fields)
                if self._seal_due():
                    self._seal(update_head=True)
        if seq and self._config.fsync is FsyncPolicy.EVERY:
            self._sync(seq)
        return seq

    async def append_async(self, event: AuditEvent) -> int:
        """``append`` in a thread, so its fsync does not stall the event loop."""
        return await asyncio.to_thread(self.append, event)

    def maybe_seal(self) -> bool:
        """Seal if ``seal_every_seconds`` has passed with records unsealed; call it periodically."""
        with self._locked():
            if not self._seal_due():
                return False
            self._seal(update_head=True)
            return True

    def seal(self) -> bool:
        """Seal now if anything is unsealed (and a signing key is configured)."""
        with self._locked():
            if not self._unsealed():
                return False
            self._seal(update_head=True)
            return True

    def prune(self, now: float | None = None, *, actor: str = "retention") -> tuple[str, ...]:
        """Delete the oldest files whose last record is older than ``retention_days``.

        Only a run of the oldest files goes, never the newest, so what remains is one unbroken
        chain. The deletion is recorded (and synced) before any file is removed: an
        ``admin_action`` with ``action=prune`` naming the last deleted file, its last seq and
        the digest of its last line, exactly what the first remaining file's first record points
        back to. That is how the verifier accepts a chain that no longer starts at seq 1.
        """
        cutoff = format_ts((self._clock.now() if now is None else now) - self._config.retention_days * DAY)
        with self._locked():
            candidates = files.list_files(self._dir)[:-1]
            expired: list[files.LogFile] = []
            last = b""
            for log_file in candidates:
                line = files.last_line(log_file.path)
                if last_field(line, "ts", log_file.name) >= cutoff:
                    break
                expired.append(log_file)
                last = line
            if not expired:
                return ()
            details: dict[str, DetailValue] = {
                "action": "prune",
                "retention_days": self._config.retention_days,
                "cutoff": cutoff,
                "deleted_files": len(expired),
                "first_deleted_file": expired[0].name,
                "last_deleted_file": expired[-1].name,
                "last_deleted_seq": int(last_field(last, "seq", expired[-1].name)),
                "last_deleted_hash": line_digest(last),
            }
            event = AuditEvent(kind=AuditKind.ADMIN_ACTION, actor=actor, details=details)
            self._write(redact(event, self._privacy))
            self._tip.fsync()
            for log_file in expired:
                log_file.path.unlink()
            files.fsync_directory(self._dir)
            self._bump_generation()
        return tuple(f.name for f in expired)

    # -- under the locks -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if self._closed or self._lock_fd < 0:
                raise AuditError("audit: the log is not open")
            with self._flock():
                self._catch_up()
                yield

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        """Bring our view of the chain up to date with what every process wrote."""
        try:
            generation = self._read_generation()
            if generation != self._generation or self._tip.fd < 0:
                head = files.read_head(self._dir)
                recoveries = self._adopt_head(head)
                recoveries += self._tip.open_newest(format_ts(self._clock.now()), may_create=head is None)
                self._generation = generation
                self._check_not_truncated()
                if head is None or head.file != self._tip.file:
                    self._write_head()  # a new log, or a crash between a rotation and its head
            else:
                recoveries = self._tip.catch_up()
            if recoveries:
                for details in recoveries:
                    self._write(internal_fields(AuditKind.RECOVERED.value, details))
                self._tip.fsync()
                self._write_head()
        except OSError as exc:
            raise AuditError(f"audit: cannot use {self._dir}: {exc.strerror}") from exc

    def _adopt_head(self, head: files.Head | None) -> list[dict[str, Any]]:
        self._head_seal = head.seal if head else None
        if head is not None and head.seal is not None:
            self._sealed_seq = head.seal_seq
            self._sealed_at = parse_ts(head.seal_ts).timestamp()
        present = [f.name for f in files.list_files(self._dir)]
        if head is None:
            # Deleting the head is how truncation would be hidden: say in the chain that it went.
            return [{"reason": "head_missing"}] if present else []
        if head.file not in present:
            raise AuditError(
                f"audit: {files.HEAD_NAME} names {head.file}, which is missing: files were removed;"
                " run `relay audit verify` (docs/audit.md, Recovery)"
            )
        return []

    def _check_not_truncated(self) -> None:
        if self._head_seal is not None and self._tip.seq < self._sealed_seq:
            raise AuditError(
                f"audit: the log ends at seq {self._tip.seq} but {files.HEAD_NAME} holds a seal at seq"
                f" {self._sealed_seq}: sealed records were removed; run `relay audit verify`"
                " (docs/audit.md, Recovery)"
            )

    def _write(self, fields: Mapping[str, Any]) -> int:
        tip = self._tip
        ts = format_ts(self._clock.now())
        if tip.end >= self._config.rotate_bytes or files.utc_day(ts) != files.day_of(tip.file):
            if self._unsealed():
                self._seal(update_head=False)  # every finished file ends signed
            tip.start_file(ts, previous=tip.file)
            self._write_head()
        return tip.append(build_line(fields, seq=tip.seq + 1, ts=ts, prev=tip.digest))

    def _unsealed(self) -> bool:
        return self._key is not None and self._tip.seq > self._sealed_seq

    def _seal_due(self) -> bool:
        if not self._unsealed():
            return False
        if self._tip.seq - self._sealed_seq >= self._config.seal_every_records:
            return True
        return self._clock.now() - self._sealed_at >= self._config.seal_every_seconds

    def _seal(self, *, update_head: bool) -> None:
        assert self._key is not None
        tip, now = self._tip, self._clock.now()
        fields = internal_fields(
            AuditKind.SEAL.value, seal_details(tip.seq, tip.digest, self._key, self._fingerprint)
        )
        line = build_line(fields, seq=tip.seq + 1, ts=format_ts(now), prev=tip.digest)
        tip.append(line)
        tip.fsync()  # the seal is on disk before the head may name it
        self._sealed_seq, self._sealed_at, self._head_seal = tip.seq, now, line
        if update_head:
            self._write_head()

    def _write_head(self) -> None:
        files.write_head(self._dir, files.Head(file=self._tip.file, seal=self._head_seal))
        self._bump_generation()

    def _read_generation(self) -> int:
        raw = os.pread(self._lock_fd, _GENERATION_WIDTH, 0)
        return int(raw) if raw.strip().isdigit() else 0

    def _bump_generation(self) -> None:
        self._generation = self._read_generation() + 1
        os.pwrite(self._lock_fd, b"%0*d" % (_GENERATION_WIDTH, self._generation), 0)

    # -- group commit ----------------------------------------------------------------------------

    def _sync(self, seq: int) -> None:
        """Return once record ``seq`` is on disk; one fsync serves every thread waiting for it."""
        with self._sync_lock:
            with self._lock:
                if self._tip.synced >= seq or self._tip.fd < 0:
                    return
                target, fd = self._tip.written, os.dup(self._tip.fd)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            with self._lock:
                self._tip.synced = max(self._tip.synced, target)
