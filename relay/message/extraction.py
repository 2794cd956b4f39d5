"""The entry point: raw message bytes in, facts and text segments out.

Pure and deterministic: no disk, no network, no clock; the same bytes always give the same
``Extraction``. It never raises for any input: what cannot be read is in ``facts.unscannable``,
which the policy treats as PHI, so a message we could not look into is never taken for clean.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.message.collect import Collector
from relay.message.decode import decode_text
from relay.message.limits import DEFAULT_LIMITS, ExtractionLimits
from relay.message.walk import Walker, parse
from relay.model import MessageFacts, TextSegment


@dataclass(frozen=True, slots=True, kw_only=True)
class Extraction:
    facts: MessageFacts
    """Subject, headers (lower-case name, decoded value), size, attachments, unscannable parts."""
    segments: tuple[TextSegment, ...]
    """Text to scan for PHI, each with the place it came from and its kind; never logged."""


def extract(data: bytes, *, limits: ExtractionLimits = DEFAULT_LIMITS) -> Extraction:
    """Walk a raw RFC 5322 message and return what it says and where it could not look."""
    col = Collector(limits)
    walker = Walker(col)
    fields: list[tuple[str, str]] = []
    msg = walker.guarded("message", lambda: parse(data))
    if msg is None:
        # The parser gave up (nesting deep enough to exhaust its recursion): the part is already
        # unscannable; the raw bytes as text are still worth scanning.
        col.text("message", "body", decode_text(data))
    else:
        fields = walker.guarded("message", lambda: walker.message(msg, prefix="", depth=0)) or []
    subject = next((value for name, value in fields if name == "subject"), "")
    return Extraction(
        facts=MessageFacts(
            subject=subject,
            headers=tuple(fields),
            size=len(data),
            attachments=tuple(col.attachments),
            unscannable=tuple(col.unscannable),
        ),
        segments=tuple(col.segments),
    )
