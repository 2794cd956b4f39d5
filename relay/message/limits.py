"""The bounds of one extraction, and why each has the value it has.

Extraction runs inside the SMTP session on bytes a client chose, so every loop, every
decompression and every buffer is bounded here. Hitting a bound is never an error: the part
concerned is recorded as ``Unscannable`` and the policy treats unscannable content as PHI, so a
limit can only make the relay stricter, never let content through unread.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TEXT_CHARS = 5_000_000
"""Characters of text handed to the PHI scanner per message (about 2,500 pages of prose).

Scanning runs before the reply to DATA and its cost grows with the text; the client waits at most
10 minutes for that reply (RFC 5321 section 4.5.3.2.6) and we aim for seconds."""

MAX_PARTS = 500
"""MIME entities (containers included) plus archive members and embedded files per message.
Real mail has a few dozen at most; hundreds are a crafted message or a bulk dump of files."""

MAX_DEPTH = 10
"""Nesting of messages and archives: a forward of a forward, a zip inside a zip. Deeper nesting
has no legitimate use and is how recursive bombs (42.zip) multiply their output."""

MAX_MEMBER_BYTES = 25 * 1024 * 1024
"""Uncompressed size of one archive member or embedded file. Larger than any document whose text
would fit in ``MAX_TEXT_CHARS``; a bigger member is unscannable rather than read into memory."""

MAX_INFLATED_BYTES = 100 * 1024 * 1024
"""Everything decompressed from archives for one message, all levels together, so a bomb spread
over many members or nested archives cannot exhaust memory."""

MAX_RATIO = 100
"""Largest uncompressed:compressed ratio of an archive member. Text deflates 3-10:1 and Office
XML up to about 30:1; zip bombs rely on ratios of 1,000:1 and more."""

RATIO_MIN_BYTES = 1024 * 1024
"""Members smaller than this are not ratio-checked: a short run of blanks compresses absurdly
well and is harmless at that size."""

MAX_PDF_PAGES = 200
"""Pages of one PDF whose text is extracted. pypdf takes 5-50 ms a page, so this keeps one PDF
within seconds; a longer PDF is read up to here and recorded as unscannable."""

MAX_SHEET_ROWS = 1_048_576
"""Rows iterated over all sheets of one workbook: Excel's own limit (2**20). openpyxl pads gaps
up to the row number the file claims, so a crafted row number would otherwise loop for ever."""

MAX_HEADER_FIELDS = 1000
"""Header fields of one message. Mail with its trace headers has well under 100; Postfix's
default header_size_limit (100 KiB) lets through roughly this many short ones."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionLimits:
    """Every bound of one ``extract`` call; the defaults are the named constants above."""

    max_text_chars: int = MAX_TEXT_CHARS
    max_parts: int = MAX_PARTS
    max_depth: int = MAX_DEPTH
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_inflated_bytes: int = MAX_INFLATED_BYTES
    max_ratio: int = MAX_RATIO
    ratio_min_bytes: int = RATIO_MIN_BYTES
    max_pdf_pages: int = MAX_PDF_PAGES
    max_sheet_rows: int = MAX_SHEET_ROWS
    max_header_fields: int = MAX_HEADER_FIELDS


DEFAULT_LIMITS = ExtractionLimits()
