"""Delivery status notifications (RFC 3464): the bounce or delay warning sent back to a sender.

Pure: bytes and values in, bytes out; no clock (``now`` is passed in), no disk, no sockets. The
caller sends the result with the null reverse path ``<>`` (RFC 5321 section 4.5.5) so that it
can never itself be bounced.

The result is a ``multipart/report; report-type=delivery-status`` message (RFC 6522) with three
parts: a short text for humans, the ``message/delivery-status`` report (RFC 3464 section 2) and
the original message's header section as ``text/rfc822-headers`` (RFC 6522 section 4). The
original body is never returned: it may carry PHI. Everything taken from a remote server (reply
text, enhanced code) or from the client (addresses) is sanitised before it reaches a header or a
report field, so a hostile reply cannot inject header lines. The report part is kept 7-bit
(RFC 3464 section 2.1); the returned headers are passed through as they were, so the result is
8-bit (and needs BODY=8BITMIME) only when the original headers were.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import textwrap
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value, format_datetime

from relay.model import Envelope, Outcome, RecipientResult

MAX_FIELD_OCTETS = 500
"""Cap on a value from a remote reply or an address; lines stay under RFC 5322 2.1.1's 998."""
MAX_RETURNED_HEADER_OCTETS = 64 * 1024
"""Cap on the returned header section; whole fields beyond it are dropped (the body never goes)."""
IDENTIFYING_FIELDS = frozenset({b"message-id", b"date", b"from", b"in-reply-to", b"references"})
"""What a DSN returns of a protected message: enough for the sender to find it in their sent
mail. Not To/Cc (display names; the report names the failed recipients anyway), not Subject."""
FOLD_WIDTH = 78
"""Header lines are folded at whitespace to this width (RFC 5322 section 2.1.1 SHOULD)."""

_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")  # RFC 3463 section 2: class.subject.detail
_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")
_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})  # RFC 3464, RFC 6533
_CRLF = "\r\n"
_SUBJECT_FAILED = "Undelivered Mail Returned to Sender"
_SUBJECT_DELAYED = "Delayed Mail (still being retried)"
_RETURNED_HEADERS = [
    "Content-Description: Undelivered Message Headers",
    "Content-Type: text/rfc822-headers",
]
_8BIT = "Content-Transfer-Encoding: 8bit"
_QP = "Content-Transfer-Encoding: quoted-printable"


def header_block(message: bytes) -> bytes:
    """The header section of a raw message: everything before the first empty line.

    Lines may end in CRLF or bare LF. A message without an empty line is all header; one that
    starts with an empty line has no header section (``b""``).
    """
    pos = 0
    while (end := message.find(b"\n", pos)) != -1:
        if message[pos:end] in (b"", b"\r"):
            return message[:pos]
        pos = end + 1
    return message


def build_dsn(
    *,
    original_headers: bytes,
    envelope: Envelope,
    failures: Sequence[RecipientResult],
    queue_id: str,
    reporting_mta: str,
    arrival_date: float,
    now: float,
    delayed: bool = False,
    withhold: bool = False,
) -> bytes | None:
    """The DSN for ``failures`` as CRLF-terminated bytes, or None when none must be sent.

    None when the sender is the null reverse path (RFC 5321 section 6.1: never bounce a
    bounce), when the original is itself a DSN or an automatic reply (``Auto-Submitted:
    auto-replied``, RFC 3834) as a second loop guard, and when ``failures`` holds nothing but
    deliveries. Machine-generated mail with a real sender (``auto-generated``: an EHR's
    appointment notices) is bounced like any other: its sender must learn it did not arrive.

    ``withhold`` (the original was protected by policy): only the fields that identify the
    message are returned (``IDENTIFYING_FIELDS``), not its Subject or other free text, because
    the DSN itself travels with opportunistic TLS and the subject may carry PHI.
    """
    if envelope.sender.strip() in ("", "<>") or _is_automatic(header_block(original_headers)):
        return None
    reported = [f for f in failures if f.outcome is not Outcome.DELIVERED]
    if not reported:
        return None
    mta = reporting_mta.strip().rstrip(".")
    if not _HOSTNAME.fullmatch(mta):
        raise ValueError(f"reporting_mta must be a host name, got {reporting_mta!r}")
    qid = _clean(queue_id)
    arrival = format_datetime(datetime.fromtimestamp(arrival_date, tz=UTC))

    text = _human_text(
        mta=mta, qid=qid, arrival=arrival, reported=reported, delayed=delayed, withhold=withhold
    )
    report = _delivery_status(mta=mta, qid=qid, arrival=arrival, reported=reported, delayed=delayed)
    returned = _returned_headers(original_headers, only=IDENTIFYING_FIELDS if withhold else None)
    parts = [
        _text_part(text),
        (["Content-Description: Delivery report", "Content-Type: message/delivery-status"], report),
        (_RETURNED_HEADERS + ([] if returned.isascii() else [_8BIT]), returned),
    ]
    # Message-ID and boundary are derived from the content, so the same inputs give the same bytes.
    seed = hashlib.sha256(repr((qid, now, delayed, [f.recipient for f in reported])).encode())
    for _, body in parts:
        seed.update(body)
    digest = seed.hexdigest()
    boundary, n = f"dsn.{digest[16:48]}", 0
    while any(boundary.encode() in body for _, body in parts):  # RFC 2046 section 5.1.1
        boundary, n = f"dsn.{digest[16:48]}.{n}", n + 1
    top = [
        _fold("From", f"Mail Delivery System <MAILER-DAEMON@{mta}>"),
        _fold("To", f"<{_clean(envelope.sender, ascii_only=False)}>"),
        _fold("Subject", _SUBJECT_DELAYED if delayed else _SUBJECT_FAILED),
        _fold("Date", format_datetime(datetime.fromtimestamp(now, tz=UTC))),
        _fold("Message-ID", f"<{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}.{digest[:16]}@{mta}>"),
        _fold("Auto-Submitted", "auto-replied"),  # RFC 3834 section 5
        _fold("MIME-Version", "1.0"),
        _fold("Content-Type", f'multipart/report; report-type=delivery-status; boundary="{boundary}"'),
    ]
    out = bytearray("".join(top).encode("utf-8"))
    out += b"\r\nThis is a MIME-encapsulated message.\r\n"
    for headers, body in parts:
        out += f"\r\n--{boundary}\r\n".encode()
        out += "".join(h + _CRLF for h in headers).encode("ascii") + b"\r\n"
        out += body
    out += f"\r\n--{boundary}--\r\n".encode()
    return bytes(out)


def _text_part(text: str) -> tuple[list[str], bytes]:
    """The human-readable part; quoted-printable only when an SMTPUTF8 address made it 8-bit."""
    headers = ["Content-Description: Notification"]
    if text.isascii():
        return [*headers, "Content-Type: text/plain; charset=us-ascii"], text.encode("ascii")
    headers += ["Content-Type: text/plain; charset=utf-8", _QP]
    return headers, binascii.b2a_qp(text.encode("utf-8"), istext=True)


def _is_automatic(headers: bytes) -> bool:
    """The original is a DSN itself or an automatic reply (RFC 3834 section 5)."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(headers)
    if msg.get_content_type() == "multipart/report":
        report_type = collapse_rfc2231_value(msg.get_param("report-type", "") or "")
        if report_type.strip().lower() in _REPORT_TYPES:
            return True
    for value in msg.get_all("Auto-Submitted") or ():
        keyword = re.split(r"[;(\s]", str(value).strip(), maxsplit=1)[0]
        if keyword.lower() == "auto-replied":
            return True
    return False


def _clean(text: str, *, ascii_only: bool = True, limit: int = MAX_FIELD_OCTETS) -> str:
    """``text`` on one line: controls (CR, LF, NUL ...) become spaces, runs of them one space."""
    out = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if ascii_only:
        out = out.encode("ascii", "replace").decode("ascii")
    return out.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


def _fold(name: str, value: str) -> str:
    """One header field, folded before whitespace near FOLD_WIDTH (RFC 5322 section 2.2.3)."""
    out, width = f"{name}:", len(name) + 1
    for i, word in enumerate(value.split()):
        if i and width + 1 + len(word) > FOLD_WIDTH:
            out, width = out + _CRLF, 0
        out, width = f"{out} {word}", width + 1 + len(word)
    return out + _CRLF


def _address_type(address: str) -> str:
    """An address-type and address for Final-Recipient (RFC 3464 2.3.2, RFC 6533 section 3)."""
    addr = _clean(address, ascii_only=False)
    if addr.isascii():
        return f"rfc822; {addr}"
    # utf-8-addr-xtext: QCHARs as themselves, everything else as \x{HEX}; stays 7-bit.
    out = "utf-8; "
    for ch in addr:
        piece = ch if "!" <= ch <= "~" and ch not in "+=\\" else f"\\x{{{ord(ch):X}}}"
        if len(out) + len(piece) > MAX_FIELD_OCTETS:
            break
        out += piece
    return out


def _status(result: RecipientResult, delayed: bool) -> str:
    """RFC 3464 2.3.4: the server's enhanced code if it is well formed and agrees with the reply
    code's class, else one derived from the class (RFC 3463 section 3.1: X.0.0)."""
    reply = result.reply
    enhanced = reply.enhanced.strip()
    if _ENHANCED.fullmatch(enhanced) and str(reply.code)[:1] == enhanced[0]:
        return enhanced
    if 400 <= reply.code < 600:
        return f"{reply.code // 100}.0.0"
    return "4.0.0" if delayed else "5.0.0"


def _delivery_status(
    *, mta: str, qid: str, arrival: str, reported: Sequence[RecipientResult], delayed: bool
) -> bytes:
    """Per-message fields, then one block per recipient, blocks separated by an empty line."""
    blocks = [
        _fold("Reporting-MTA", f"dns; {mta}")
        + _fold("X-Relay-Queue-ID", qid)
        + _fold("Arrival-Date", arrival)
    ]
    for result in reported:
        block = _fold("Final-Recipient", _address_type(result.recipient))
        block += _fold("Action", "delayed" if delayed else "failed")
        block += _fold("Status", _status(result, delayed))
        if host := _clean(result.remote_host):
            block += _fold("Remote-MTA", f"dns; {host}")
        block += _fold("Diagnostic-Code", f"smtp; {_clean(str(result.reply))}")
        blocks.append(block)
    return _CRLF.join(blocks).encode("ascii")


def _human_text(
    *, mta: str, qid: str, arrival: str, reported: Sequence[RecipientResult], delayed: bool, withhold: bool
) -> str:
    lines = [f"This is the mail system at host {mta}.", ""]
    if delayed:
        lines += [
            "THIS IS A WARNING ONLY. You do not need to send your message again.",
            "",
            "Your message has not yet been delivered to the recipients below. Delivery",
            "will be retried until it succeeds or the message expires.",
        ]
    else:
        lines += [
            "Your message could not be delivered to the recipients below. The replies",
            "of the receiving servers are quoted. Only the headers of your message are",
            "returned with this report, not its content.",
        ]
    if withhold:
        lines += [
            "Policy required this message to travel protected, so its subject and other",
            "descriptive headers are withheld; the Message-ID identifies it.",
        ]
    lines += ["", f"Queue ID: {qid}", f"Arrival date: {arrival}", ""]
    for result in reported:
        host = _clean(result.remote_host)
        said = f"host {host} said" if host else "reason"
        rcpt = _clean(result.recipient, ascii_only=False)
        entry = f"<{rcpt}>: {said}: {_clean(str(result.reply))}"
        wrapped = textwrap.wrap(entry, width=76, subsequent_indent="    ", break_on_hyphens=False)
        lines += [line.rstrip() for line in wrapped]
        lines.append("")
    return _CRLF.join(lines)


def _returned_headers(original: bytes, *, only: frozenset[bytes] | None = None) -> bytes:
    """The original header section with CRLF line ends, cut to whole fields within the cap;
    with ``only``, just the fields of those (lower-case) names."""
    fields: list[list[bytes]] = []
    for raw in header_block(original).split(b"\n"):
        line = raw.removesuffix(b"\r").replace(b"\r", b" ")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):  # RFC 5322 section 2.2.3: a folded continuation
            if fields:
                fields[-1].append(line)
        else:
            fields.append([line])
    if only is not None:
        fields = [f for f in fields if f[0].partition(b":")[0].strip().lower() in only]
    out = bytearray()
    for field in fields:
        chunk = b"".join(line + b"\r\n" for line in field)
        if len(out) + len(chunk) > MAX_RETURNED_HEADER_OCTETS:
            break
        out += chunk
    return bytes(out)
