"""The audit directory on disk: file names, listing, reading a file's last line, the head file.

A node's directory holds::

    audit-20250131-235959-000000123457.jsonl   records; the number is the first record's seq
    audit.head                                 the newest seal (JSON), replaced atomically
    audit.lock                                 writers take flock(2) on it; holds a change counter

Names sort by time, but order is decided by the seq in the name, which never goes backward even
when the wall clock does. ``audit.head`` copies the latest seal line out of the log: cutting
sealed records off the end of the log then shows up as a seal that the log no longer holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from relay.audit.record import parse_ts
from relay.errors import AuditError

HEAD_NAME = "audit.head"
LOCK_NAME = "audit.lock"
_FILE_NAME = re.compile(r"audit-(\d{8})-(\d{6})-(\d{12})\.jsonl\Z")
_TAIL_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFile:
    """One ``audit-*.jsonl`` file, known from its name alone."""

    path: Path
    first_seq: int
    started: str
    """When its first record was written, whole seconds, in the records' ``ts`` format."""

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    """The contents of ``audit.head``: the current file's name and the newest seal line."""

    file: str
    seal: bytes | None = None
    seal_seq: int = 0
    """The seal record's own seq (0 without a seal)."""
    seal_ts: str = ""


def file_name(first_seq: int, ts: str) -> str:
    """``audit-YYYYMMDD-HHMMSS-<seq>.jsonl`` for a file whose first record has ``ts`` and ``seq``."""
    when = ts[0:4] + ts[5:7] + ts[8:10] + "-" + ts[11:13] + ts[14:16] + ts[17:19]
    return f"audit-{when}-{first_seq:012d}.jsonl"


def parse_name(path: Path) -> LogFile | None:
    match = _FILE_NAME.match(path.name)
    if match is None:
        return None
    day, time, seq = match.groups()
    started = f"{day[:4]}-{day[4:6]}-{day[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}.000000Z"
    return LogFile(path=path, first_seq=int(seq), started=started)


def list_files(directory: Path) -> list[LogFile]:
    """The log files in chain order (by first seq); other names are not ours and are ignored."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditError(f"audit: cannot list {directory}: {exc.strerror}") from exc
    found = (parse_name(directory / name) for name in names)
    return sorted((f for f in found if f is not None), key=lambda f: f.first_seq)


def day_of(name: str) -> str:
    """``YYYYMMDD`` of a log file name (its first record's UTC day)."""
    return name[6:14]


def read_tail(fd: int, size: int) -> tuple[bytes, int]:
    """The last complete line of an open file (without newline) and the offset just after it.

    The offset equals ``size`` unless a crash left a torn, newline-less piece after it; it is 0
    (and the line empty) when the file holds no complete line at all.
    """
    pos = size
    data = b""
    while True:
        if pos > 0:
            start = max(0, pos - _TAIL_CHUNK)
            data = os.pread(fd, pos - start, start) + data
            pos = start
        last = data.rfind(b"\n")
        if last < 0:
            if pos == 0:
                return b"", 0
            continue
        before = data.rfind(b"\n", 0, last)
        if before >= 0:
            return data[before + 1 : last], pos + last + 1
        if pos == 0:
            return data[:last], last + 1


def last_line(path: Path) -> bytes:
    """The last complete line of a closed file (used by prune to date a file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        line, _ = read_tail(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)
    return line


def read_head(directory: Path) -> Head | None:
    path = directory / HEAD_NAME
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or not isinstance(data.get("file"), str):
            raise ValueError("not an audit head")
        if data.get("seal") is None:
            return Head(file=data["file"])
        seal = data["seal"].encode("utf-8")
        record = json.loads(seal)
        seq, ts = record["seq"], record["ts"]
        if not isinstance(seq, int) or not isinstance(ts, str):
            raise ValueError("its seal is not a record")
        parse_ts(ts)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditError(f"audit: {path} is unreadable: {exc}") from exc
    return Head(file=data["file"], seal=seal, seal_seq=seq, seal_ts=ts)


def write_head(directory: Path, head: Head) -> None:
    """Replace ``audit.head`` atomically (temporary file, fsync, rename, fsync of the directory)."""
    body = {"file": head.file, "seal": head.seal.decode("utf-8") if head.seal else None}
    data = json.dumps(body, sort_keys=True).encode("utf-8") + b"\n"
    tmp = directory / f".{HEAD_NAME}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / HEAD_NAME)
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make a created, renamed or deleted name durable (a file's fsync does not cover its name)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def shared_lock(directory: Path) -> Iterator[None]:
    """Hold writers off for a moment (to take a consistent snapshot); no lock file, no wait."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def utc_day(ts: str) -> str:
    return ts[0:4] + ts[5:7] + ts[8:10]


def started_at(log_file: LogFile) -> datetime:
    return datetime.strptime(log_file.started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
