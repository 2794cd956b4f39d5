"""What the end-to-end tests send and how they wait: test messages, and polling with a deadline.

``message_bytes`` is a small message from the clinic's sender. ``numbered_message(seq)`` carries
its number in an ``X-Test-Seq`` header, so that ``seqs_of(sink)`` can count how often each one
arrived (and check it arrived intact): what lost-or-duplicated tests assert on.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable

from sink import Sink

SENDER = "s@clinic.test"
DEST = "rcpt@dest.test"
"""The one recipient of every numbered message."""
POLL_INTERVAL = 0.02
_SEQ = re.compile(rb"^X-Test-Seq: (\d+)\r?$", re.MULTILINE)


def message_bytes(subject: str = "test", body: str = "hello", message_id: str = "<m1@clinic.test>") -> bytes:
    return (
        f"From: <{SENDER}>\r\nTo: <someone@x.test>\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    ).encode()


def numbered_message(seq: int) -> bytes:
    return (
        f"From: <sender@origin.test>\r\nTo: <{DEST}>\r\nSubject: load {seq}\r\n"
        f"Message-ID: <seq-{seq}@crash.test>\r\nX-Test-Seq: {seq}\r\n\r\n"
        f"payload {seq} {'x' * 300}\r\n"
    ).encode()


def seqs_of(sink: Sink) -> Counter[int]:
    """How often each numbered message reached the sink (checking its body arrived intact)."""
    counts: Counter[int] = Counter()
    for message in sink.snapshot():
        match = _SEQ.search(message.data)
        assert match, message.data[:300]
        seq = int(match.group(1))
        assert message.data.endswith(numbered_message(seq)), f"message {seq} arrived altered"
        counts[seq] += 1
    return counts


def eventually(condition: Callable[[], object], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` passes (False).

    The last look is taken once the deadline has passed, not before it: a slow condition (a CLI
    process) would otherwise have had its last look up to its own duration early."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds, or fail the test after ``timeout`` seconds."""
    if not eventually(condition, timeout):
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
