"""Reading the DATA section of an SMTP transaction, with the smuggling guard.

RFC 5321 section 2.3.8 allows only CRLF as a line ending, and section 4.1.1.4 ends the data at
CRLF "." CRLF. Receivers that also accept a bare LF or bare CR as a line ending disagree with
other servers about where a message ends; an attacker uses that disagreement to smuggle a second
message inside the first (SMTP smuggling, 2023). Like Postfix with
``smtpd_forbid_bare_newline = yes``, we refuse a bare LF or bare CR anywhere in DATA at once and
drop the connection, so nothing after it is ever read as a command or a second message.

The data is taken from the reader's buffer in runs of whole lines and checked with C-speed
``bytes`` operations (``find``, ``count``, ``replace``), not one ``readuntil`` per line. A run
ends at the last line ending received so far, at the end-of-data line, or before the first bare
CR or LF, so nothing after either of those two is ever consumed. The line rules are the same as
line-by-line reading; ``_Body`` is the pure part and ``read_data`` the I/O.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Protocol, cast

CRLF = b"\r\n"
END_OF_DATA = b".\r\n"
_END_AFTER_LINE = b"\r\n.\r\n"
"""The end-of-data line where it follows another line (RFC 5321 4.1.1.4)."""


class DataProblem(enum.Enum):
    NONE = "none"
    TOO_BIG = "too_big"
    LINE_TOO_LONG = "line_too_long"
    BARE_NEWLINE = "bare_newline"


@dataclass(frozen=True, slots=True, kw_only=True)
class DataResult:
    content: bytes
    """The message with dot-stuffing removed (RFC 5321 4.5.2); empty unless problem is NONE."""
    problem: DataProblem
    size: int
    """Octets of message read so far, without the stuffing dots (what SIZE and the limit count)."""


class _Received(Protocol):
    """What ``read_data`` uses of ``asyncio.StreamReader`` beyond its public API: the bytes
    received but not read yet (to find where a run of lines may end without consuming past
    it; StreamReader has no peek), end of stream, and the wait for more. CPython has had these
    since asyncio's streams first shipped; ``readexactly`` then consumes through the public API,
    which also resumes a paused transport."""

    _buffer: bytearray
    _eof: bool

    async def _wait_for_data(self, func_name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Plan:
    take: int
    """Octets at the start of the buffer that are whole lines of data (or part of an over-long
    line) and are free of bare line endings."""
    ends: bool = False
    """The end-of-data line follows those octets."""
    bare: bool = False
    """A bare CR or LF follows those octets: the data is refused and nothing more read."""


class _Body:
    """The data read so far, and the rules it must meet; no I/O.

    Invariant: what was taken ends at a line end (``at_line_start``) or inside a line already
    known to be over-long, and never on a CR whose LF may still come.
    """

    def __init__(self, *, max_size: int, max_line: int) -> None:
        self._max_size = max_size
        self._max_line = max_line
        self._parts: list[bytes] = []
        self.size = 0
        self.problem = DataProblem.NONE
        self.at_line_start = True

    def plan(self, buffer: bytearray) -> _Plan:
        """How much of ``buffer`` (received, not yet read) to take next."""
        if self.at_line_start and buffer.startswith(END_OF_DATA):
            return _Plan(0, ends=True)
        end = buffer.find(_END_AFTER_LINE)
        if end >= 0:
            take, ends = end + len(CRLF), True
        else:
            take, ends = buffer.rfind(b"\n") + 1, False
            if not take and buffer.find(b"\r", 0, len(buffer) - 1) >= 0:
                return _Plan(0, bare=True)  # no LF yet, so a CR with an octet after it is bare
            if not take and (not self.at_line_start or len(buffer) > self._max_line + 2):
                # No line end in sight, and the line is over-long already (more octets than
                # max_line, a stuffing dot and the CR): take it now, as memory must stay bounded.
                # A CR at the very end stays until the octet after it shows whether it is bare.
                take = len(buffer) - buffer.endswith(b"\r")
        lfs = buffer.count(b"\n", 0, take)
        if buffer.count(b"\r", 0, take) != lfs or buffer.count(CRLF, 0, take) != lfs:
            return _Plan(0, bare=True)
        return _Plan(take, ends=ends)

    def add(self, run: bytes) -> None:
        """Account for a run of octets that ``plan`` said to take."""
        starts_line, self.at_line_start = self.at_line_start, run.endswith(b"\n")
        # RFC 5321 4.5.2: drop the first dot of each line that starts with one (replace returns
        # ``run`` itself, uncopied, when there is none).
        unstuffed = run.replace(b"\n.", b"\n")
        if starts_line and unstuffed.startswith(b"."):
            unstuffed = unstuffed[1:]
        size = self.size + len(unstuffed)
        if self.problem is not DataProblem.NONE:
            self.size = size
            return
        # While there is no problem, every run starts a line (see the invariant).
        if size <= self._max_size and self.at_line_start and self._lines_fit(run):
            self.size = size
            self._parts.append(unstuffed)
            return
        self._add_line_by_line(run)

    def _lines_fit(self, run: bytes) -> bool:
        """No line of ``run`` (whole lines) is longer than max_line; quick and conservative
        (a stuffed line of exactly max_line + 1 octets goes to the exact check)."""
        if len(run) <= self._max_line + 2:
            return True
        return max(map(len, run.split(b"\n"))) <= self._max_line + 1  # each piece ends with CR

    def _add_line_by_line(self, run: bytes) -> None:
        """The exact rules, one line at a time, for a run in which a limit is reached: the
        first problem in line order is the one reported (RFC 5321 4.2.5: after the data)."""
        pieces = run.split(b"\n")
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if index == last and not piece:
                break
            dot = 1 if piece.startswith(b".") else 0
            line_len = len(piece) + 1 if index < last else len(piece)  # with its CRLF
            self.size += line_len - dot
            if self.problem is not DataProblem.NONE:
                continue
            if index == last or line_len - 2 - dot > self._max_line:  # an unfinished piece
                self.problem = DataProblem.LINE_TOO_LONG  # is over-long (see plan)
            elif self.size > self._max_size:
                self.problem = DataProblem.TOO_BIG
            else:
                self._parts.append(piece[dot:] + b"\n")
        if self.problem is not DataProblem.NONE:
            self._parts.clear()  # keep reading to the end, but hold nothing in memory

    def result(self) -> DataResult:
        content = b"".join(self._parts) if self.problem is DataProblem.NONE else b""
        return DataResult(content=content, problem=self.problem, size=self.size)


async def read_data(reader: asyncio.StreamReader, *, max_size: int, max_line: int) -> DataResult:
    """Read up to the end-of-data line, and not one byte further.

    Oversized messages and over-long lines are read to the end and then refused (RFC 5321
    4.2.5: the reply comes after the data); a bare line ending stops reading immediately.
    ``max_line`` counts octets without CRLF and without a stuffing dot.
    """
    body = _Body(max_size=max_size, max_line=max_line)
    received = cast(_Received, reader)
    while True:
        plan = body.plan(received._buffer)
        if plan.bare:
            return DataResult(content=b"", problem=DataProblem.BARE_NEWLINE, size=body.size)
        if plan.take:
            body.add(await reader.readexactly(plan.take))
        if plan.ends:
            await reader.readexactly(len(END_OF_DATA))
            return body.result()
        if plan.take:
            continue
        error = reader.exception()
        if error is not None:
            raise error
        if received._eof:
            raise ConnectionResetError("connection closed during DATA")
        await received._wait_for_data("read_data")
