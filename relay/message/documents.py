"""Text of PDFs (pypdf) and Excel workbooks (openpyxl).

Both formats are too intricate to read by hand safely: PDF text hides behind fonts, encodings,
object streams and encryption, and a workbook's dates are numbers whose meaning sits in its
styles (a date of birth is ``21916`` until the number format says otherwise). The libraries own
that; this module owns the bounds around them (pages, rows, text budget) and the cases that must
be reported rather than read: a PDF that needs a password, and a PDF with pages but no text
layer (a scan, which may show anything).

Exceptions from the libraries are not caught here: the caller's per-part boundary turns any of
them into an unscannable part.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import openpyxl
from pypdf import PasswordType, PdfReader, apply_configuration

from relay.message.archives import check_member
from relay.message.collect import Collector, MemberHandler

_CELL_SEPARATOR = "\t"


def pdf_text(data: bytes, *, part: str, depth: int, col: Collector, on_member: MemberHandler) -> str:
    """The text layer and form field values of a PDF; embedded files go to ``on_member``.

    pypdf's own resource limits apply, with every decompression capped at the size of an archive
    member, and pypdf is told not to run its external JBIG2 decoder: extraction starts no process.
    """
    cap = col.limits.max_member_bytes
    with apply_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        brotli_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap,
        jbig2_maximum_output_length=cap,
        image_maximum_buffer_size=cap,
        jbig2dec_binary=None,
    ):
        return _pdf_text(
            PdfReader(io.BytesIO(data), strict=False), part=part, depth=depth, col=col, on_member=on_member
        )


def _pdf_text(reader: PdfReader, *, part: str, depth: int, col: Collector, on_member: MemberHandler) -> str:
    # ISO 32000-1 section 7.6: a document with only an owner password opens with the empty user
    # password and is readable; anything else needs a password we do not have.
    if reader.is_encrypted and reader.decrypt("") is PasswordType.NOT_DECRYPTED:
        col.unreadable(part, "encrypted PDF (password required)")
        return ""
    limit = col.limits.max_pdf_pages
    pages = reader.pages
    texts: list[str] = []
    size = 0
    for index, page in enumerate(pages):
        if index >= limit:
            col.unreadable(part, f"PDF longer than {limit} pages; the rest unread")
            break
        text = page.extract_text()
        texts.append(text)
        size += len(text)
        if size > col.text_left:  # the collector cuts it and records the rest as unscannable
            break
    if len(pages) and not any(text.strip() for text in texts):
        col.unreadable(part, "PDF without a text layer (scanned image?)")
    # Filled-in form fields live in annotations, not in the page text (ISO 32000-1 12.7).
    fields = reader.get_form_text_fields() or {}
    texts.extend(str(value) for value in fields.values() if value)
    for name, blobs in reader.attachments.items():  # section 7.11.4: embedded file streams
        for blob in blobs:
            member = f"{part}/{name}"
            if not col.take_part(member):
                return "\n".join(texts)
            col.attachment(
                part=member, filename=name, content_type="application/octet-stream", size=len(blob)
            )
            if len(blob) > col.limits.max_member_bytes:
                col.unreadable(member, f"embedded file larger than {col.limits.max_member_bytes} bytes")
            else:
                on_member(blob, member, name, depth)
    return "\n".join(texts)


def xlsx_text(data: bytes, archive: zipfile.ZipFile, *, part: str, col: Collector) -> str:
    """Every cell value of every worksheet (hidden ones too), one row per line, cells tab-separated.

    openpyxl inflates the members itself, so all of them are first checked against the
    decompression limits; one refused member makes the workbook unscannable.
    """
    for info in archive.infolist():
        if not check_member(info, f"{part}/{info.filename}", col):
            col.unreadable(part, "workbook not read: a member exceeds the decompression limits")
            return ""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return _workbook_text(workbook, part=part, col=col)
    finally:
        workbook.close()


def _workbook_text(workbook: openpyxl.Workbook, *, part: str, col: Collector) -> str:
    lines: list[str] = []
    rows = 0
    size = 0
    for sheet in workbook.worksheets:
        lines.append(sheet.title)
        if hasattr(sheet, "reset_dimensions"):
            # Read-only sheets pad up to the dimension the file claims (which may be a lie);
            # without it only the rows actually present are produced.
            sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            rows += 1
            if rows > col.limits.max_sheet_rows:
                col.unreadable(part, f"workbook has more than {col.limits.max_sheet_rows} rows")
                return "\n".join(lines)
            line = _row_text(row)
            if line:
                lines.append(line)
                size += len(line)
                if size > col.text_left:
                    return "\n".join(lines)
    return "\n".join(lines)


def _row_text(values: Iterable[object]) -> str:
    return _CELL_SEPARATOR.join(str(value) for value in values if value is not None and value != "")
