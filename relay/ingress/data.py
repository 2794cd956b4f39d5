"""Reading the DATA section of an SMTP transaction, with the smuggling guard.

RFC 5321 section 2.3.8 allows only CRLF as a line ending, and section 4.1.1.4 ends the data at
CRLF "." CRLF. Receivers that also accept a bare LF or bare CR as a line ending disagree with
other servers about where a message ends; an attacker uses that disagreement to smuggle a second
message inside the first (SMTP smuggling, 2023). Like Postfix with
``smtpd_forbid_bare_newline = yes``, we refuse a bare LF or bare CR anywhere in DATA at once and
drop the connection, so nothing after it is ever read as a command or a second message.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

CRLF = b"\r\n"
END_OF_DATA = b".\r\n"


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


async def read_data(reader: asyncio.StreamReader, *, max_size: int, max_line: int) -> DataResult:
    """Read up to the end-of-data line, and not one byte further.

    Oversized messages and over-long lines are read to the end and then refused (RFC 5321
    4.2.5: the reply comes after the data); a bare line ending stops reading immediately.
    ``max_line`` counts octets without CRLF and without a stuffing dot; lines longer than the
    reader's buffer arrive in fragments and are judged whole.
    """
    lines: list[bytes] = []
    size = 0
    problem = DataProblem.NONE
    head: list[bytes] = []  # the start of a line longer than the reader's buffer, while it may fit
    head_len = 0
    carry = b""  # a CR that ended the previous fragment; its LF may start the next read
    while True:
        try:
            piece = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            fragment = await reader.read(exc.consumed)
            chunk = carry + fragment
            carry = b"\r" if chunk.endswith(b"\r") else b""
            if b"\r" in chunk[: len(chunk) - len(carry)]:
                return DataResult(content=b"", problem=DataProblem.BARE_NEWLINE, size=size)
            head_len += len(fragment)
            if problem is DataProblem.NONE and head_len <= max_line + 3:  # + stuffing dot, CRLF
                head.append(fragment)
            else:
                head.clear()  # too long already: hold nothing in memory
            continue
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetError("connection closed during DATA") from exc
        chunk = carry + piece
        carry = b""
        if not chunk.endswith(CRLF) or b"\r" in chunk[:-2]:
            return DataResult(content=b"", problem=DataProblem.BARE_NEWLINE, size=size)
        if not head_len and piece == END_OF_DATA:
            break
        line_len = head_len + len(piece)
        if problem is DataProblem.NONE:
            line = b"".join(head) + piece if head_len else piece
            stuffed = int(line.startswith(b"."))
            size += line_len - stuffed
            if line_len - 2 - stuffed > max_line:
                problem = DataProblem.LINE_TOO_LONG
            elif size > max_size:
                problem = DataProblem.TOO_BIG
            else:
                lines.append(line[stuffed:])
        else:
            size += line_len
        if problem is not DataProblem.NONE:
            lines.clear()  # keep reading to the end, but hold nothing in memory
        head.clear()
        head_len = 0
    content = b"".join(lines) if problem is DataProblem.NONE else b""
    return DataResult(content=content, problem=problem, size=size)
