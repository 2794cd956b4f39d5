"""The MIME walk: headers, the part tree, and the dispatch of each part to its reader.

The standard library's parser builds the tree (``compat32``: it keeps raw header values and never
runs the modern header parser, whose address grammar has had quadratic-time inputs); everything
after that is ours, because a PHI scanner needs more than a mail client shows: every text part,
every attachment, every nested message, and a record of each place it could not look into.

Parts are numbered as IMAP numbers them (RFC 3501 section 6.4.5): ``1``, ``2.1``; places inside a
part are ``<part>/<where>``: ``header:subject``, ``2/header:subject`` (a forwarded message),
``3/report.csv`` (a ZIP member), ``preamble``. The walk over multiparts is iterative, so a deeply
nested message cannot exhaust the stack; messages and archives inside parts recurse, bounded by
``max_depth``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from functools import partial
from typing import TypeVar

from relay.message import archives, documents, office
from relay.message.collect import Collector, child
from relay.message.decode import decode_text, payload_bytes, surrogate_text, transfer_decode
from relay.message.headers import header_fields, part_filename, report_text
from relay.message.html import html_to_text
from relay.message.sniff import Kind, Sniffed, sniff

_REPORT_SUBTYPES = frozenset(
    {
        "delivery-status",
        "global-delivery-status",
        "disposition-notification",
        "global-disposition-notification",
    }
)
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_PGP_ARMOR = "-----BEGIN PGP MESSAGE-----"
MAX_BINARY_SHARE = 0.1
"""Share of control characters in decoded text above which a "text" part is really binary
(UTF-16 without a BOM, or a mislabelled file): scanned anyway, but recorded as unscannable."""
_CONTROL_CHARS = dict.fromkeys([*range(0, 9), 11, *range(14, 32), 0x7F])

T = TypeVar("T")


def parse(data: bytes) -> Message:
    return BytesParser(policy=compat32).parsebytes(data)


class Walker:
    """One extraction's walk; the collector holds what it finds."""

    def __init__(self, col: Collector) -> None:
        self.col = col

    def message(self, msg: Message, *, prefix: str, depth: int) -> list[tuple[str, str]]:
        """A message's headers and every part below it, in tree order; returns its header fields."""
        fields = header_fields(msg, prefix=prefix, col=self.col)
        top = prefix if _is_container(msg) else child(prefix, 1)
        stack: list[tuple[Message, str]] = [(msg, top)]
        while stack and not self.col.stopped:
            entity, part = stack.pop()
            where = part or "message"
            if not self.col.take_part(where):
                break
            payload = entity.get_payload()
            if isinstance(payload, list) and entity.get_content_maintype() == "message":
                self.guarded(where, partial(self.nested, entity, part=where, depth=depth))
            elif isinstance(payload, list):
                self._multipart(entity, payload, part=part, stack=stack)
            else:
                self.guarded(where, partial(self.leaf, entity, part=where, depth=depth))
        return fields

    def _multipart(
        self, entity: Message, payload: list[Message | str], *, part: str, stack: list[tuple[Message, str]]
    ) -> None:
        where = f"{part}/" if part else ""
        if entity.get_content_subtype() == "encrypted":  # RFC 1847 section 2.2
            self.col.unreadable(part or "message", "encrypted (multipart/encrypted)")
            return
        # Text outside the parts is not shown by mail programs, but it is sent: scan it.
        for name in ("preamble", "epilogue"):
            extra = getattr(entity, name, None)
            if isinstance(extra, str):
                self.col.text(f"{where}{name}", "body", surrogate_text(extra))
        children = [
            (sub, child(part, index))
            for index, sub in enumerate(payload, start=1)
            if isinstance(sub, Message)
        ]
        stack.extend(reversed(children))

    def nested(self, entity: Message, *, part: str, depth: int) -> None:
        """A message/rfc822 part: its headers and parts, one nesting level down."""
        subtype = entity.get_content_subtype()
        if subtype in _REPORT_SUBTYPES:
            # RFC 3464 section 2 / RFC 8098 section 3.2.6: blocks of fields, parsed as headers.
            self.col.text(part, "body", report_text(entity))
            return
        if subtype == "partial":  # RFC 2046 section 5.2.2: a fragment; the rest is elsewhere
            self.col.unreadable(part, "message fragment (message/partial)")
            return
        if depth + 1 > self.col.limits.max_depth:
            self.col.unreadable(part, f"nested deeper than {self.col.limits.max_depth} levels")
            return
        inner = entity.get_payload(0)
        encoding = str(entity.get("content-transfer-encoding", "")).strip().lower()
        if encoding in ("base64", "quoted-printable") and isinstance(inner, Message):
            # RFC 2046 section 5.2.1 forbids this, but clients do it; the parser then took the
            # encoded text for the message. Decode it and parse again.
            inner = parse(transfer_decode(inner.as_bytes().lstrip(b"\r\n"), encoding))
        if isinstance(inner, Message):
            self.col.attachment(
                part=part,
                filename=part_filename(entity),
                content_type=entity.get_content_type(),
                size=len(inner.as_bytes()),
            )
            self.message(inner, prefix=part, depth=depth + 1)

    def leaf(self, entity: Message, *, part: str, depth: int) -> None:
        """A part with content: list it if it is a file, then read its text."""
        content_type = entity.get_content_type()
        data = payload_bytes(entity)
        if entity.get_content_maintype() == "multipart":
            # A multipart whose boundary never appears: the parser kept it whole. Its text is
            # scanned raw, but encoded parts inside it cannot be: fail closed.
            if data.strip():
                self.col.unreadable(part, "multipart without a usable boundary")
            content_type = "text/plain"
        name = part_filename(entity)
        is_body = (
            content_type in _BODY_TYPES and not name and entity.get_content_disposition() != "attachment"
        )
        if not is_body:
            self.col.attachment(part=part, filename=name, content_type=content_type, size=len(data))
        self.content(
            data,
            part=part,
            kind="body" if is_body else "attachment",
            depth=depth,
            content_type=content_type,
            charset=entity.get_content_charset(),
            filename=name,
        )

    def member(self, data: bytes, part: str, filename: str, depth: int) -> None:
        """A file inside another (ZIP member, PDF or Office embedding), at nesting ``depth``."""
        if depth > self.col.limits.max_depth:
            self.col.unreadable(part, f"nested deeper than {self.col.limits.max_depth} levels")
            return
        self.guarded(
            part,
            lambda: self.content(
                data,
                part=part,
                kind="attachment",
                depth=depth,
                content_type="",
                charset=None,
                filename=filename,
            ),
        )

    def guarded(self, part: str, read: Callable[[], T]) -> T | None:
        """Run one part's reader; whatever it raises makes that part, and only it, unscannable.

        The broad catch is deliberate and the only one: pypdf, openpyxl, zipfile, expat and the
        email package raise a wide, undocumented range of exceptions on hostile input, and one
        unreadable attachment must neither crash the session nor hide the rest of the message.
        Library warnings about malformed input are silenced here for the same reason.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return read()
        except Exception as exc:  # see docstring: the per-part boundary
            self.col.unreadable(part, f"unreadable ({type(exc).__name__})")
            return None

    def content(
        self,
        data: bytes,
        *,
        part: str,
        kind: str,
        depth: int,
        content_type: str,
        charset: str | None,
        filename: str,
    ) -> None:
        """Read decoded part bytes according to what they really are (see ``sniff``)."""
        found = sniff(data, content_type=content_type, filename=filename)
        col = self.col
        match found.kind:
            case Kind.TEXT:
                col.text(part, kind, self._checked_text(decode_text(data, charset), part))
            case Kind.HTML:
                col.text(part, kind, html_to_text(self._checked_text(decode_text(data, charset), part)))
            case Kind.XML:
                col.text(part, kind, _xml_or_raw(data, charset))
            case Kind.PDF:
                col.text(
                    part,
                    kind,
                    documents.pdf_text(data, part=part, depth=depth + 1, col=col, on_member=self.member),
                )
            case Kind.ZIP:
                self._zip(data, part=part, kind=kind, depth=depth)
            case Kind.MESSAGE:
                if depth + 1 > col.limits.max_depth:
                    col.unreadable(part, f"nested deeper than {col.limits.max_depth} levels")
                else:
                    self.message(parse(data), prefix=part, depth=depth + 1)
            case Kind.MEDIA | Kind.SIGNATURE:
                pass  # no text: listed as an attachment, nothing to scan
            case Kind.ENCRYPTED | Kind.UNSUPPORTED | Kind.BINARY:
                col.unreadable(part, _unreadable_reason(found))

    def _zip(self, data: bytes, *, part: str, kind: str, depth: int) -> None:
        archive = archives.open_zip(data)
        family = archives.family(archive)
        col = self.col
        if family is archives.Family.ZIP:
            if depth + 1 > col.limits.max_depth:
                col.unreadable(part, f"nested deeper than {col.limits.max_depth} levels")
                return
            archives.walk_members(archive, part=part, depth=depth + 1, col=col, on_member=self.member)
            return
        texts = []
        if family is archives.Family.XLSX:
            texts.append(documents.xlsx_text(data, archive, part=part, col=col))
        texts.append(office.office_text(archive, family, part=part, col=col))
        col.text(part, kind, "\n".join(texts))
        archives.walk_members(
            archive, part=part, depth=depth + 1, col=col, on_member=self.member, only=office.is_embedded
        )

    def _checked_text(self, text: str, part: str) -> str:
        if _PGP_ARMOR in text:
            self.col.unreadable(part, "contains a PGP-encrypted block")
        sample = text[:65536]
        if sample and len(sample) - len(sample.translate(_CONTROL_CHARS)) > len(sample) * MAX_BINARY_SHARE:
            self.col.unreadable(part, "binary data in a text part")
        return text


def _is_container(msg: Message) -> bool:
    return isinstance(msg.get_payload(), list) and msg.get_content_maintype() == "multipart"


def _xml_or_raw(data: bytes, charset: str | None) -> str:
    try:
        return office.xml_text(data)
    except office.XML_ERRORS:
        return decode_text(data, charset)  # malformed XML: its raw text still holds every value


def _unreadable_reason(found: Sniffed) -> str:
    if found.kind is Kind.ENCRYPTED:
        return f"encrypted content ({found.label})"
    if found.kind is Kind.UNSUPPORTED:
        return f"{found.label}: format not supported"
    return found.label
