"""``read_data`` (the DATA reader with the smuggling guard) and the enhanced-code table.

``read_data`` is fed through a real ``asyncio.StreamReader`` in pieces of 1, 16, 128 and 4096
bytes, so every boundary (a CR in one piece and its LF in the next, the end-of-data line split
up) is crossed. Each case also runs with a small reader buffer, which forces the path for lines
longer than the buffer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from relay.ingress.data import DataProblem, DataResult, read_data
from relay.ingress.replies import with_enhanced_code
from relay.ingress.server import READER_BUFFER

PIECES = (1, 16, 128, 4096)
SMALL_BUFFER = 64
"""A reader limit far below the line lengths used here, so long lines arrive in fragments."""

AFTER = b"QUIT\r\n"
"""What the client sends after the data: it must be left unread for the command loop."""


async def feed_and_read(
    data: bytes, piece: int, *, limit: int = READER_BUFFER, max_size: int = 10_000, max_line: int = 998
) -> tuple[DataResult, bytes]:
    """Feed ``data`` in ``piece``-sized writes; return the result and what was left unread."""
    reader = asyncio.StreamReader(limit=limit)

    async def feed() -> None:
        for start in range(0, len(data), piece):
            reader.feed_data(data[start : start + piece])
            await asyncio.sleep(0)  # a yield, so the reader sees each piece on its own

    feeder = asyncio.create_task(feed())
    result = await asyncio.wait_for(read_data(reader, max_size=max_size, max_line=max_line), 10)
    await feeder
    reader.feed_eof()
    return result, await reader.read()


@dataclass(frozen=True)
class Case:
    data: bytes
    problem: DataProblem
    content: bytes = b""
    max_size: int = 10_000
    max_line: int = 998


LONG = b"x" * 500
"""A line longer than SMALL_BUFFER but well within max_line."""

CASES = {
    "simple": Case(b"Subject: a\r\n\r\nbody\r\n.\r\n", DataProblem.NONE, b"Subject: a\r\n\r\nbody\r\n"),
    "empty-message": Case(b".\r\n", DataProblem.NONE, b""),
    "empty-lines": Case(b"\r\n\r\n.\r\n", DataProblem.NONE, b"\r\n\r\n"),
    "dot-stuffed": Case(b"..leading dot\r\n.\r\n", DataProblem.NONE, b".leading dot\r\n"),
    "dot-stuffed-lone-dot": Case(b"a\r\n..\r\n.\r\n", DataProblem.NONE, b"a\r\n.\r\n"),
    "dot-inside-line": Case(b"a.b\r\n. not the end\r\n.\r\n", DataProblem.NONE, b"a.b\r\n not the end\r\n"),
    "nul-is-data": Case(b"a\x00b\r\n\x00.\r\n.\r\n", DataProblem.NONE, b"a\x00b\r\n\x00.\r\n"),
    "eight-bit": Case("héllo\r\n.\r\n".encode(), DataProblem.NONE, "héllo\r\n".encode()),
    "long-line-within-limit": Case(LONG + b"\r\n.\r\n", DataProblem.NONE, LONG + b"\r\n"),
    "long-stuffed-line": Case(b"." + LONG + b"\r\n.\r\n", DataProblem.NONE, LONG + b"\r\n"),
    "long-line-ending-in-dot-line": Case(LONG + b".\r\n.\r\n", DataProblem.NONE, LONG + b".\r\n"),
    "line-at-max": Case(b"y" * 998 + b"\r\n.\r\n", DataProblem.NONE, b"y" * 998 + b"\r\n"),
    "stuffed-line-at-max": Case(b"." + b"." * 998 + b"\r\n.\r\n", DataProblem.NONE, b"." * 998 + b"\r\n"),
    "line-over-max": Case(b"y" * 999 + b"\r\n.\r\n", DataProblem.LINE_TOO_LONG),
    "very-long-line": Case(b"ok\r\n" + b"z" * 20_000 + b"\r\nmore\r\n.\r\n", DataProblem.LINE_TOO_LONG,
                           max_size=100_000),
    "size-at-max": Case(b"a" * 98 + b"\r\n.\r\n", DataProblem.NONE, b"a" * 98 + b"\r\n", max_size=100),
    "stuffed-size-at-max": Case(
        b"." * 99 + b"\r\n.\r\n", DataProblem.NONE, b"." * 98 + b"\r\n", max_size=100
    ),
    "size-over-max": Case(b"a" * 99 + b"\r\n.\r\n", DataProblem.TOO_BIG, max_size=100),
    "many-lines-over-max": Case(b"line\r\n" * 50 + b".\r\n", DataProblem.TOO_BIG, max_size=100),
    "first-problem-wins": Case(b"a" * 200 + b"\r\n" + b"b" * 2000 + b"\r\n.\r\n", DataProblem.TOO_BIG,
                               max_size=100),
}

BARE = {
    "lf-dot-lf": b"body\n.\nMAIL FROM:<s@x.test>\r\n.\r\n",
    "lf-dot-crlf": b"body\n.\r\nMAIL FROM:<s@x.test>\r\n.\r\n",
    "cr-dot-crlf": b"body\r.\r\nMAIL FROM:<s@x.test>\r\n.\r\n",
    "crlf-dot-cr": b"body\r\n.\rMAIL FROM:<s@x.test>\r\n.\r\n",
    "crlf-dot-lf": b"body\r\n.\nMAIL FROM:<s@x.test>\r\n.\r\n",
    "crlf-dot-crcrlf": b"body\r\n.\r\r\nMAIL FROM:<s@x.test>\r\n.\r\n",
    "bare-cr-mid-line": b"a\rb\r\n.\r\n",
    "bare-lf-mid-line": b"a\nb\r\n.\r\n",
    "cr-cr-lf": b"a\r\r\n.\r\n",
    "lone-lf-line": b"a\r\n\n.\r\n",
    "bare-lf-in-long-line": LONG + b"\n" + LONG + b"\r\n.\r\n",
    "bare-cr-in-long-line": LONG + b"\r" + LONG + b"\r\n.\r\n",
    "bare-cr-ends-long-fragment": b"q" * (SMALL_BUFFER + 1) + b"\rq\r\n.\r\n",
    "bare-lf-after-too-long": b"y" * 2000 + b"\r\n\n.\r\n",
    "bare-lf-after-too-big": b"a" * 200 + b"\r\nb\n.\r\n",
}


@pytest.mark.parametrize("limit", [READER_BUFFER, SMALL_BUFFER], ids=["buffer-8k", "buffer-64"])
@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_read_data(case: Case, piece: int, limit: int) -> None:
    result, rest = await feed_and_read(
        case.data + AFTER, piece, limit=limit, max_size=case.max_size, max_line=case.max_line
    )
    assert result.problem is case.problem
    assert result.content == case.content
    assert rest == AFTER, "read_data must stop right after the end-of-data line"


@pytest.mark.parametrize("limit", [READER_BUFFER, SMALL_BUFFER], ids=["buffer-8k", "buffer-64"])
@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("data", BARE.values(), ids=BARE.keys())
async def test_bare_line_ending_is_refused(data: bytes, piece: int, limit: int) -> None:
    result, _ = await feed_and_read(data + AFTER, piece, limit=limit, max_size=1000)
    assert result.problem is DataProblem.BARE_NEWLINE
    assert result.content == b""


@pytest.mark.parametrize("piece", PIECES)
async def test_bare_newline_stops_reading_at_once(piece: int) -> None:
    """Nothing after the bare LF is consumed; the connection is dropped instead."""
    smuggled = b"MAIL FROM:<s@x.test>\r\nRCPT TO:<v@y.test>\r\nDATA\r\nhi\r\n.\r\n"
    result, rest = await feed_and_read(b"body\n.\n" + smuggled, piece)
    assert result.problem is DataProblem.BARE_NEWLINE
    assert rest.endswith(smuggled)


async def test_size_counts_unstuffed_content() -> None:
    result, _ = await feed_and_read(b"..ab\r\n.\r\n", 4096)
    assert result.content == b".ab\r\n"
    assert result.size == len(result.content)


@pytest.mark.parametrize("piece", PIECES)
async def test_closed_connection_mid_data_is_a_reset(piece: int) -> None:
    reader = asyncio.StreamReader(limit=SMALL_BUFFER)
    data = b"Subject: x\r\n\r\n" + LONG
    for start in range(0, len(data), piece):
        reader.feed_data(data[start : start + piece])
    reader.feed_eof()
    with pytest.raises(ConnectionResetError):
        await read_data(reader, max_size=10_000, max_line=998)


async def test_waits_for_the_end_of_data() -> None:
    """Without the end-of-data line read_data keeps waiting (the server bounds it with a timeout)."""
    reader = asyncio.StreamReader()
    reader.feed_data(b"Subject: x\r\n\r\nno end yet\r\n.")
    task = asyncio.create_task(read_data(reader, max_size=10_000, max_line=998))
    done, _ = await asyncio.wait({task}, timeout=0.2)
    assert not done
    reader.feed_data(b"\r\n")
    result = await asyncio.wait_for(task, 5)
    assert result.content == b"Subject: x\r\n\r\nno end yet\r\n"


# -- enhanced status codes (RFC 2034, RFC 3463) -------------------------------------------------

REPLIES = {
    "adds-to-250": ("250 OK", "250 2.0.0 OK"),
    "adds-to-221": ("221 Bye", "221 2.0.0 Bye"),
    "adds-to-500": ('500 Error: command "FOO"', '500 5.5.2 Error: command "FOO"'),
    "adds-to-501": ("501 Syntax: RSET", "501 5.5.4 Syntax: RSET"),
    "adds-to-503": ("503 Error: need MAIL command", "503 5.5.1 Error: need MAIL command"),
    "adds-to-552": ("552 Error: message size exceeds fixed maximum message size",
                    "552 5.3.4 Error: message size exceeds fixed maximum message size"),
    "adds-to-553": ("553 Error: malformed address", "553 5.1.3 Error: malformed address"),
    "adds-to-554": ("554 Command refused due to lack of security",
                    "554 5.0.0 Command refused due to lack of security"),
    "adds-to-535": ("535 Authentication credentials invalid", "535 5.7.8 Authentication credentials invalid"),
    "unknown-code-gets-class": ("459 something", "459 4.0.0 something"),
    "unknown-2xx-gets-class": ("299 fine", "299 2.0.0 fine"),
    "empty-text": ("250", "250"),
    "empty-text-with-space": ("250 ", "250 2.0.0"),
    "keeps-existing": ("250 2.1.5 OK", "250 2.1.5 OK"),
    "keeps-existing-3-digit-parts": ("550 5.123.456 no", "550 5.123.456 no"),
    "keeps-existing-at-end": ("421 4.4.2", "421 4.4.2"),
    "greeting-untouched": ("220 relay.test relay ESMTP", "220 relay.test relay ESMTP"),
    "auth-challenge-untouched": ("334 VXNlciBOYW1lAA==", "334 VXNlciBOYW1lAA=="),
    "data-prompt-untouched": ("354 End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>"),
    "continuation-untouched": ("250-SIZE 1000", "250-SIZE 1000"),
    "not-a-reply": ("hello", "hello"),
    "version-is-not-a-code": ("250 2.0 OK", "250 2.0.0 2.0 OK"),
    "code-like-word": ("250 2.0.0x OK", "250 2.0.0 2.0.0x OK"),
}


@pytest.mark.parametrize(("reply", "expected"), REPLIES.values(), ids=REPLIES.keys())
def test_with_enhanced_code(reply: str, expected: str) -> None:
    assert with_enhanced_code(reply) == expected


def test_every_refusal_class_gets_matching_class() -> None:
    for code in range(200, 600):
        if code == 220 or code // 100 == 3:  # the greeting and 3xx prompts carry none
            continue
        reply = with_enhanced_code(f"{code} text")
        enhanced = reply.split()[1]
        assert enhanced.startswith(f"{code // 100}."), reply
