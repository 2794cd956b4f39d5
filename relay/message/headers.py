"""Header fields: decoded for the facts, and the free-text ones turned into text to scan.

Which fields are text: the ones people write (Subject, Comments, Keywords, Organization, the
display names in address fields) and any X- field that mail software does not add by itself,
because applications that send mail put patient names and record numbers in headers like
``X-Patient-Name``. Trace and structural fields (Received, Message-ID, Date, DKIM ...) are
machine data; scanning them would find dates and addresses in every message.
"""

from __future__ import annotations

import re
from email.message import Message

from relay.message.collect import Collector
from relay.message.decode import decode_header

_FREE_TEXT = frozenset(
    {"subject", "comments", "keywords", "organization", "content-description", "thread-topic", "summary"}
)
_ADDRESS_FIELDS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc"}
)
_MACHINE_X_FIELDS = (
    "x-ms-",
    "x-microsoft-",
    "x-forefront-",
    "x-exchange-",
    "x-originating",
    "x-mailer",
    "x-mimeole",
    "x-priority",
    "x-msmail-",
    "x-spam",
    "x-virus",
    "x-google-",
    "x-gm-",
    "x-received",
    "x-source",
    "x-mailgun",
    "x-ses-",
    "x-feedback-id",
    "x-report-abuse",
    "x-auto-response",
    "x-php-",
)
"""Prefixes of X- fields that mail software adds (ids, spam scores, client IP addresses)."""

# An angle-addr, or a word (RFC 5322 section 3.4); words with an "@" are bare addresses. Matching
# whole words and testing them for "@" keeps this linear: a pattern searching for the "@" inside
# a word would rescan the word from every position of a long one.
_ANGLE_OR_WORD = re.compile(r"<[^<>]*>|[^\s<>,;:\"()\[\]]+")
_BLANKS = re.compile(r"\s+")
_BEFORE_COMMA = re.compile(r"\s+,")


def header_fields(msg: Message, *, prefix: str, col: Collector) -> list[tuple[str, str]]:
    """Decoded fields of ``msg`` in order, (lower-case name, value); free text goes to ``col``.

    Segments are named ``header:<name>``, or ``<prefix>/header:<name>`` in a nested message.
    """
    fields: list[tuple[str, str]] = []
    place = f"{prefix}/header" if prefix else "header"
    limit = col.limits.max_header_fields
    for count, (raw_name, raw_value) in enumerate(msg.raw_items()):
        if count >= limit:
            col.unreadable(place, f"more than {limit} header fields")
            break
        name = raw_name.strip().lower()
        value = decode_header(str(raw_value))
        fields.append((name, value))
        if name in _ADDRESS_FIELDS:
            col.text(f"{place}:{name}", "header", without_addresses(value))
        elif name in _FREE_TEXT or (name.startswith("x-") and not name.startswith(_MACHINE_X_FIELDS)):
            col.text(f"{place}:{name}", "header", value)
    return fields


def without_addresses(value: str) -> str:
    """An address field with the addresses taken out: display names, comments, group names.

    The addresses themselves are envelope data the policy sees anyway; scanning them would find
    an e-mail identifier in every message. Removing them, rather than parsing the field, keeps
    whatever else the sender wrote there, even when the field does not parse as addresses.
    """
    text = _BLANKS.sub(" ", _ANGLE_OR_WORD.sub(_drop_address, value).replace('"', ""))
    return _BEFORE_COMMA.sub(",", text).strip(" ,;")


def _drop_address(match: re.Match[str]) -> str:
    token = match[0]
    return " " if token.startswith("<") or "@" in token else token


def report_text(entity: Message) -> str:
    """The fields of a delivery or disposition report (RFC 3464 section 2, RFC 8098 3.2.6),
    which the parser reads as blocks of headers, as ``name: value`` lines."""
    return "\n".join(
        f"{name}: {decode_header(str(value))}"
        for block in entity.get_payload()
        if isinstance(block, Message)
        for name, value in block.raw_items()
    )


def part_filename(entity: Message) -> str:
    """A part's file name (RFC 2183 filename, RFC 2231 or RFC 2047 encoded) or ``""``."""
    name = entity.get_filename()
    return decode_header(name) if name else ""
