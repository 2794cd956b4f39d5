"""The tip of the chain on disk: the current file, its size, the last seq and digest.

``ChainTip`` knows how to find where the chain ends (the newest file's last complete line), how
to step over the damage a crash can leave (a torn last line, a file created but never written),
and how to append a line or start the next file. It takes no locks: ``AuditLog`` calls it only
while it holds both its thread lock and the inter-process flock.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from relay.audit import files
from relay.audit.events import AuditKind
from relay.audit.record import FORMAT_VERSION, GENESIS, build_line, internal_fields, line_digest
from relay.errors import AuditError


class ChainTip:
    """Where the next record goes and what it must point back to."""

    def __init__(self, directory: Path, *, node: str) -> None:
        self.directory = directory
        self.node = node
        self.fd = -1
        self.file = ""
        self.end = -1
        """Size of the current file after our last write; any other size means re-read the tail."""
        self.seq = 0
        self.digest = GENESIS
        self.written = 0
        """Highest seq this process wrote; ``synced`` is the highest known to be on disk."""
        self.synced = 0

    def open_newest(self, ts: str, *, may_create: bool) -> list[dict[str, Any]]:
        """Make the newest file current (creating the first one if allowed); returns recoveries."""
        recoveries: list[dict[str, Any]] = []
        while True:
            log_files = files.list_files(self.directory)
            if not log_files:
                if not may_create:
                    raise AuditError(
                        f"audit: {self.directory} holds a head but no log files (docs/audit.md, Recovery)"
                    )
                self.start_file(ts, previous="")
                return recoveries
            newest = log_files[-1]
            if newest.name == self.file:
                return recoveries + self.catch_up()
            fd = os.open(newest.path, os.O_RDWR | os.O_APPEND)
            size = os.fstat(fd).st_size
            _, complete = files.read_tail(fd, size)
            if complete == 0:
                # Created but never given a whole record: a rotation that a crash interrupted.
                os.close(fd)
                newest.path.unlink()
                files.fsync_directory(self.directory)
                if size:
                    recoveries.append(
                        {"reason": "interrupted_rotation", "file": newest.name, "discarded_bytes": size}
                    )
                continue
            self._switch_to(fd, newest.name)
            self.end = -1
            return recoveries + self.catch_up()

    def catch_up(self) -> list[dict[str, Any]]:
        """Re-read the tail if someone else appended; cut off (and report) a torn partial line."""
        size = os.fstat(self.fd).st_size
        if size == self.end:
            return []
        recoveries: list[dict[str, Any]] = []
        line, complete = files.read_tail(self.fd, size)
        if complete < size:
            torn = os.pread(self.fd, size - complete, complete)
            os.ftruncate(self.fd, complete)
            os.fsync(self.fd)
            recoveries.append(
                {
                    "reason": "torn_record",
                    "file": self.file,
                    "offset": complete,
                    "discarded_bytes": len(torn),
                    "discarded_sha256": hashlib.sha256(torn).hexdigest(),
                }
            )
        self.seq = int(last_field(line, "seq", self.file))
        self.digest = line_digest(line)
        self.end = complete
        return recoveries

    def append(self, line: bytes) -> int:
        """Write one record line with a single ``write`` (whole under O_APPEND); returns its seq."""
        data = line + b"\n"
        try:
            written = os.write(self.fd, data)
        except OSError as exc:
            self.end = -1
            raise AuditError(f"audit: cannot write {self.file}: {exc.strerror}") from exc
        if written != len(data):
            self.end = -1  # the torn piece is cut off and recorded at the next catch-up
            raise AuditError(f"audit: short write to {self.file} (disk full?)")
        self.end += written
        self.seq += 1
        self.digest = line_digest(line)
        self.written = self.seq
        return self.seq

    def start_file(self, ts: str, *, previous: str) -> None:
        """Create the next file; its first record names the file before it and that file's end."""
        name = files.file_name(self.seq + 1, ts)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        self._switch_to(fd, name)
        self.end = 0
        details = {
            "format": FORMAT_VERSION,
            "node": self.node,
            "previous_file": previous,
            "previous_seq": self.seq,
        }
        fields = internal_fields(AuditKind.FILE_START.value, details)
        self.append(build_line(fields, seq=self.seq + 1, ts=ts, prev=self.digest))
        self.fsync()
        files.fsync_directory(self.directory)

    def fsync(self) -> None:
        os.fsync(self.fd)
        self.synced = self.written

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _switch_to(self, fd: int, name: str) -> None:
        if self.fd >= 0:
            if self.written > self.synced:
                self.fsync()
            os.close(self.fd)
        self.fd, self.file = fd, name


def last_field(line: bytes, key: str, name: str) -> Any:
    try:
        return json.loads(line)[key]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"audit: the last record of {name} is unreadable; run `relay audit verify`") from exc
