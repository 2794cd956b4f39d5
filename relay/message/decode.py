"""Bytes to text the way a lenient mail reader does: transfer encodings, charsets, RFC 2047.

Every function here degrades instead of failing: broken base64 yields what can be decoded, an
unknown or wrong charset falls back to UTF-8 and then Windows-1252 with replacement characters.
The recipient's mail program is just as forgiving, so the text we scan is the text they see.
"""

from __future__ import annotations

import binascii
import codecs
import re
from email.message import Message

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_JUNK = bytes(b for b in range(256) if b not in _B64_ALPHABET)
_UU_ENCODINGS = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
_TEXT_DECODED = _UU_ENCODINGS | {"base64"}

FALLBACK_CHARSET = "cp1252"
"""Last resort for 8-bit text that is not UTF-8: what mail programs assume for unlabelled or
mislabelled Western text (the WHATWG Encoding Standard maps ISO-8859-1 to it too)."""

_REFUSED_CODECS = frozenset(
    {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}
)
"""Python codec names that are no mail charset: some run in quadratic time (punycode) and some
reinterpret the text (unicode_escape), so a declared one is treated as unknown."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)  # UTF-32 first: its little-endian BOM starts with UTF-16's.

# RFC 2047 section 2: =?charset?encoding?encoded-text?= (charset may carry an RFC 2231 *language).
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")  # RFC 5322 section 2.2.3: unfolding removes the CRLF only


def transfer_decode(payload: bytes, encoding: str) -> bytes:
    """Undo a Content-Transfer-Encoding (RFC 2045 section 6); unknown ones pass through as-is."""
    name = encoding.strip().lower()
    if name == "base64":
        return lenient_b64decode(payload)
    if name == "quoted-printable":
        return binascii.a2b_qp(payload)
    if name in _UU_ENCODINGS:
        return uudecode(payload)
    # 7bit, 8bit, binary, and names we do not know: the bytes are the content (RFC 2045 6.4:
    # an unknown encoding must be treated as opaque; its raw text is still what we can scan).
    return payload


def lenient_b64decode(data: bytes) -> bytes:
    """Base64 that never fails: junk characters are dropped, padding is repaired.

    Each ``=`` run ends a group, so blocks that were concatenated after encoding (each with its
    own padding) decode in full instead of stopping at the first pad. A lone trailing character
    carries only 6 bits, no whole byte, and is dropped.
    """
    chunks = []
    for group in data.translate(None, _B64_JUNK).split(b"="):
        if len(group) % 4 == 1:
            group = group[:-1]
        if group:
            chunks.append(binascii.a2b_base64(group + b"=" * (-len(group) % 4)))
    return b"".join(chunks)


def uudecode(data: bytes) -> bytes:
    """Decode a uuencoded body between ``begin`` and ``end``, tolerating overlong lines."""
    out = []
    inside = False
    for line in data.splitlines():
        if not inside:
            inside = line.startswith(b"begin ")
            continue
        if line.strip() == b"end":
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            # Some encoders pad lines past their length byte: decode just the counted bytes.
            count = (((line[0] - 32) & 63) * 4 + 5) // 3 if line else 0
            try:
                out.append(binascii.a2b_uu(line[:count]))
            except binascii.Error:
                continue
    return b"".join(out)


def payload_bytes(entity: Message) -> bytes:
    """A leaf's content with its transfer encoding undone, 8-bit bytes exactly as sent.

    The parser's ``get_payload()`` re-decodes 8-bit text with the declared charset (lossy), and
    its base64 decoder gives up on some broken input, returning the encoded text as content. So
    base64 and uuencode (ASCII by definition: other bytes are junk) are decoded here from the
    text, and everything else from ``get_payload(decode=True)``, which keeps 8-bit bytes intact
    and undoes exactly-spelled quoted-printable; any other spelling is undone here.
    """
    header = str(entity.get("content-transfer-encoding", ""))
    if header.strip().lower() in _TEXT_DECODED:
        text = entity.get_payload()
        return transfer_decode(
            text.encode("utf-8", "surrogateescape") if isinstance(text, str) else b"", header
        )
    raw = entity.get_payload(decode=True)
    data = raw if isinstance(raw, bytes) else b""
    if header.lower() == "quoted-printable":  # already undone by the parser
        return data
    return transfer_decode(data, header)


def usable_charset(name: str | None) -> str | None:
    """A declared charset Python can decode mail with, or None for unknown and refused ones."""
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    return None if info.name in _REFUSED_CODECS else info.name


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Text in the declared charset if it decodes, else UTF-8, else Windows-1252 with U+FFFD.

    A byte-order mark beats the declared charset: Excel's "Unicode text" exports are UTF-16 with
    a BOM and are often sent as ``application/octet-stream``.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace")
    for candidate in (usable_charset(charset), "utf-8"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (UnicodeError, LookupError):  # LookupError: bytes-to-bytes codecs such as "zlib"
            continue
    return data.decode(FALLBACK_CHARSET, "replace")


def surrogate_text(value: str) -> str:
    """A str from the email parser whose 8-bit bytes came through as surrogate escapes.

    Raw 8-bit headers are UTF-8 under RFC 6532; older clients send their local charset.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return decode_text(value.encode("utf-8", "surrogateescape"))
    return value


def decode_header(value: str) -> str:
    """A header value unfolded, with RFC 2047 encoded words decoded; never raises.

    Adjacent encoded words in one charset are joined as bytes before decoding, because encoders
    split multi-byte characters across words; the blank between two encoded words is dropped
    (RFC 2047 section 6.2). Broken base64 or an unknown charset degrade like bodies do.
    """
    value = _FOLD.sub("", surrogate_text(value))
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        adjacent = bool(pending) and (not between or between.isspace())
        charset = match[1].partition("*")[0].lower()
        if pending and (not adjacent or charset != pending_charset):
            out.append(decode_text(b"".join(pending), pending_charset))
            pending = []
        if not adjacent:
            out.append(between)
        encoded = match[3].encode("utf-8", "surrogateescape")
        if match[2] in "bB":
            pending.append(lenient_b64decode(encoded))
        else:
            pending.append(binascii.a2b_qp(encoded, header=True))  # section 4.2: "_" is a space
        pending_charset = charset
        pos = match.end()
    if pending:
        out.append(decode_text(b"".join(pending), pending_charset))
    out.append(value[pos:])
    return "".join(out)


def tidy_lines(text: str) -> str:
    """Each line stripped, blank lines dropped: the layout left by markup, made compact.

    Line by line rather than with a pattern that matches blanks up to a newline: such a pattern
    rescans a long run of blanks from each of its positions when no newline follows, which takes
    quadratic time on hostile input.
    """
    return "\n".join(stripped for line in text.splitlines() if (stripped := line.strip()))
