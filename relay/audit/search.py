"""``relay audit search``: the records about one address, message or time span, streamed.

A compliance officer's question ("everything sent to jane@example.org in March") is answered
by streaming the files in chain order, a block at a time, so memory stays flat however long
the log. Two things make it fast without an index:

* whole files are skipped by time: a file holds records from its name's timestamp up to the
  next file's, so ``--since``/``--until`` rule most files out without opening them (this trusts
  the clock to move forward; ``relay audit verify`` warns if it ever stepped back);
* the most selective thing asked for (queue id, then address, then kind), JSON-encoded, is
  looked for in 4 MiB blocks with ``bytes.find``, so lines without it are never touched by
  Python; a line that has it is parsed and compared exactly. Without such a filter
  (a time span alone) every line in the span is a hit and is parsed anyway.

Addresses match case-insensitively. In a log written with ``addresses: hash`` the question is
hashed with the same key, and both forms are looked for, so a log that changed mode matches too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from relay.audit import files
from relay.audit.events import INTERNAL_KINDS, AuditKind
from relay.audit.privacy import AuditPrivacy
from relay.audit.record import TS_FORMAT, TS_WIDTH
from relay.errors import AuditError

_TS_KEY = b'"ts":"'
BLOCK_BYTES = 4 * 1024 * 1024
"""Read size for the pattern scan; a block is cut at its last newline, so memory stays ~2 blocks."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Field:
    """One address filter: the accepted values and the byte strings a matching line contains."""

    values: frozenset[str]
    needles: tuple[bytes, ...]
    """Empty when the address is not ASCII: bytes.lower() would not fold it, so every line is parsed."""

    @classmethod
    def for_address(cls, address: str, privacy: AuditPrivacy | None) -> _Field:
        values = {address.lower()}
        if privacy is not None and privacy.key is not None:
            values.add(privacy.address_token(address))
        needles = tuple(_quoted(v) for v in values) if address.isascii() else ()
        return cls(values=frozenset(values), needles=needles)

    def in_line(self, lowered: bytes) -> bool:
        return not self.needles or any(n in lowered for n in self.needles)

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and value.lower() in self.values


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """What to look for; every given filter must match (AND)."""

    recipient: _Field | None = None
    sender: _Field | None = None
    queue_id: str | None = None
    kind: AuditKind | None = None
    since: bytes | None = None
    """Inclusive, in the records' own ``ts`` format, so the comparison is on bytes."""
    until: bytes | None = None
    """Exclusive."""

    def scan_needles(self) -> tuple[tuple[bytes, ...], bool] | None:
        """Byte strings one of which every matching line contains, and whether to lower the bytes."""
        if self.queue_id is not None:
            return (b'"queue_id":' + _quoted(self.queue_id),), False
        for field in (self.recipient, self.sender):
            if field is not None and field.needles:
                return field.needles, True
        if self.kind is not None:
            return (b'"kind":' + _quoted(self.kind.value),), False
        return None

    def line_may_match(self, line: bytes) -> bool:
        """A cheap test on raw bytes; False means the record certainly does not match."""
        if self.since is not None or self.until is not None:
            at = line.rfind(_TS_KEY) + len(_TS_KEY)
            ts = line[at : at + TS_WIDTH]
            if (self.since is not None and ts < self.since) or (self.until is not None and ts >= self.until):
                return False
        if self.kind is not None and b'"kind":' + _quoted(self.kind.value) not in line:
            return False
        if self.queue_id is not None and b'"queue_id":' + _quoted(self.queue_id) not in line:
            return False
        if self.recipient is not None or self.sender is not None:
            lowered = line.lower()
            for field in (self.recipient, self.sender):
                if field is not None and not field.in_line(lowered):
                    return False
        return True

    def matches(self, record: dict[str, Any]) -> bool:
        kind = record.get("kind")
        if self.kind is None and kind in _INTERNAL:
            return False
        if self.kind is not None and kind != self.kind.value:
            return False
        if self.queue_id is not None and record.get("queue_id") != self.queue_id:
            return False
        if self.sender is not None and not self.sender.matches(record.get("sender")):
            return False
        recipients = record.get("recipients")
        if self.recipient is not None and not (
            isinstance(recipients, list) and any(self.recipient.matches(r) for r in recipients)
        ):
            return False
        ts = str(record.get("ts", "")).encode("ascii", "replace")
        return (self.since is None or ts >= self.since) and (self.until is None or ts < self.until)


_INTERNAL = frozenset(k.value for k in INTERNAL_KINDS)


def build_query(
    *,
    recipient: str | None = None,
    sender: str | None = None,
    queue_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: AuditKind | None = None,
    privacy: AuditPrivacy | None = None,
) -> Query:
    return Query(
        recipient=_Field.for_address(recipient, privacy) if recipient is not None else None,
        sender=_Field.for_address(sender, privacy) if sender is not None else None,
        queue_id=queue_id,
        kind=kind,
        since=_ts_bytes(since),
        until=_ts_bytes(until),
    )


def search(
    directory: Path,
    *,
    recipient: str | None = None,
    sender: str | None = None,
    queue_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: AuditKind | None = None,
    privacy: AuditPrivacy | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the matching records, oldest first (the log's own seal and file records only on ``kind``)."""
    query = build_query(
        recipient=recipient,
        sender=sender,
        queue_id=queue_id,
        since=since,
        until=until,
        kind=kind,
        privacy=privacy,
    )
    log_files = files.list_files(directory)
    for index, log_file in enumerate(log_files):
        if query.until is not None and log_file.started.encode("ascii") >= query.until:
            break  # this file and every later one begin at or after the end of the span
        if query.since is not None and index + 1 < len(log_files):
            # Every record here is older than the next file's first record, at most that second.
            latest = log_files[index + 1].started[:19] + ".999999Z"
            if latest.encode("ascii") < query.since:
                continue
        yield from _scan(log_file.path, query)


def _scan(path: Path, query: Query) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as stream:
            scan = query.scan_needles()
            lines = _lines(stream) if scan is None else _candidates(stream, *scan)
            for line in lines:
                if not query.line_may_match(line):
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a damaged line is verify's business, not search's
                if isinstance(record, dict) and query.matches(record):
                    yield record
    except FileNotFoundError:
        return  # pruned while we were reading the earlier files
    except OSError as exc:
        raise AuditError(f"audit: cannot read {path}: {exc.strerror}") from exc


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    yield from stream


def _candidates(stream: BinaryIO, needles: tuple[bytes, ...], lowered: bool) -> Iterator[bytes]:
    """The lines of ``stream`` that contain one of ``needles``, found with ``bytes.find`` in blocks."""
    carry = b""
    while chunk := stream.read(BLOCK_BYTES):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        block, carry = data[:cut], data[cut:]
        haystack = block.lower() if lowered else block
        found = {needle: haystack.find(needle) for needle in needles}
        while hits := [at for at in found.values() if at >= 0]:
            at = min(hits)
            start = block.rfind(b"\n", 0, at) + 1
            end = block.find(b"\n", at) + 1
            yield block[start:end]
            for needle, where in found.items():
                if 0 <= where < end:
                    found[needle] = haystack.find(needle, end)
    if carry:
        yield carry  # a last line without newline: torn, and json.loads will say so


def _quoted(value: str) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _ts_bytes(when: datetime | None) -> bytes | None:
    if when is None:
        return None
    if when.tzinfo is None:
        raise AuditError("audit: search times must carry a time zone")
    return when.astimezone(UTC).strftime(TS_FORMAT).encode("ascii")
