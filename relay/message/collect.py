"""What one extraction has found so far, and what is left of its budgets.

One ``Collector`` lives for the length of one ``extract`` call and is then frozen into an
``Extraction``; the readers of each format add to it instead of returning partial results, so the
budgets (text, parts, decompressed bytes) are shared across the whole message, nesting included.
"""

from __future__ import annotations

from collections.abc import Callable

from relay.message.limits import ExtractionLimits
from relay.model import Attachment, TextSegment, Unscannable

MemberHandler = Callable[[bytes, str, str, int], None]
"""Reads a file found inside another one: ``(data, part, filename, depth)``. Archives and PDFs
call it for their members and embedded files; the MIME walker supplies it."""

MAX_EXTENSION_CHARS = 16
"""Longer "extensions" are not extensions (``report.2024 final version``); reported as none."""


class Collector:
    """Accumulates segments, attachments and unscannable parts under the message's limits."""

    __slots__ = (
        "_parts",
        "_stopped",
        "_text_left",
        "attachments",
        "inflate_left",
        "limits",
        "segments",
        "unscannable",
    )

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limits = limits
        self.segments: list[TextSegment] = []
        self.attachments: list[Attachment] = []
        self.unscannable: list[Unscannable] = []
        self.inflate_left = limits.max_inflated_bytes
        self._text_left = limits.max_text_chars
        self._parts = 0
        self._stopped = False

    @property
    def text_left(self) -> int:
        return self._text_left

    @property
    def stopped(self) -> bool:
        """True once the part limit was hit: nothing more is read from this message."""
        return self._stopped

    def take_part(self, part: str) -> bool:
        """Count one more part; False (recorded once, for the first part refused) past the limit."""
        if self._stopped:
            return False
        self._parts += 1
        if self._parts > self.limits.max_parts:
            self._stopped = True
            self.unreadable(part, f"more than {self.limits.max_parts} parts; this and later parts unread")
            return False
        return True

    def unreadable(self, part: str, reason: str) -> None:
        self.unscannable.append(Unscannable(part=part, reason=reason))

    def text(self, part: str, kind: str, text: str) -> None:
        """Add text to scan, cut at the message's text budget (the cut part is unscannable)."""
        if not text or text.isspace():
            return
        if self._text_left <= 0:
            self.unreadable(part, f"text limit of {self.limits.max_text_chars} characters reached")
            return
        if len(text) > self._text_left:
            text = text[: self._text_left]
            self.unreadable(part, f"text limit of {self.limits.max_text_chars} characters reached")
        self._text_left -= len(text)
        self.segments.append(TextSegment(part=part, kind=kind, text=text))

    def attachment(self, *, part: str, filename: str, content_type: str, size: int) -> None:
        self.attachments.append(
            Attachment(
                part=part,
                filename=filename,
                extension=extension(filename),
                content_type=content_type,
                size=size,
            )
        )


def extension(filename: str) -> str:
    """The lower-case extension of a file name, without the dot; ``""`` when there is none.

    Directories are dropped (either slash), and so are trailing dots and blanks, which Windows
    ignores when it opens a file: ``invoice.exe.`` runs as an ``exe``.
    """
    base = filename.replace("\\", "/").rpartition("/")[2].rstrip(". ")
    stem, dot, ext = base.rpartition(".")
    ext = ext.strip().lower()
    if not dot or not stem or len(ext) > MAX_EXTENSION_CHARS or not ext.isalnum():
        return ""
    return ext


def child(parent: str, index: int) -> str:
    """IMAP-style part number (RFC 3501 section 6.4.5): children of ``2`` are ``2.1``, ``2.2``."""
    return f"{parent}.{index}" if parent else str(index)
