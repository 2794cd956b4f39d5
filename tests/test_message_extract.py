"""Text extraction from messages (relay.message): every content type, encoding, limit and failure.

Fixtures are built in code: messages as raw bytes (so that broken ones can be exactly as broken
as needed), PDFs written by hand and then encrypted or given attachments with pypdf, workbooks
with openpyxl, Word/PowerPoint/OpenDocument files and ZIPs with zipfile.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import io
import quopri
import struct
import time
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment
from pypdf import PdfReader, PdfWriter

from relay.message import DEFAULT_LIMITS, Extraction, ExtractionLimits, extract
from relay.model import Attachment

# -- builders ---------------------------------------------------------------------------------

CRLF = b"\r\n"


def message(
    body: bytes = b"Hello\r\n",
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "text/plain",
    encoding: str | None = None,
    extra: bytes = b"",
) -> bytes:
    """A single-part message; ``extra`` is appended to the header section verbatim."""
    lines = [f"{name}: {value}" for name, value in (headers or {"Subject": "test"}).items()]
    lines.append("MIME-Version: 1.0")
    lines.append(f"Content-Type: {content_type}")
    if encoding:
        lines.append(f"Content-Transfer-Encoding: {encoding}")
    return CRLF.join(line.encode() for line in lines) + CRLF + extra + CRLF + body


def part(
    body: bytes,
    *,
    content_type: str,
    filename: str | None = None,
    encoding: str = "base64",
    disposition: str = "attachment",
) -> bytes:
    lines = [f"Content-Type: {content_type}"]
    if filename is not None:
        lines.append(f'Content-Disposition: {disposition}; filename="{filename}"')
    lines.append(f"Content-Transfer-Encoding: {encoding}")
    if encoding == "base64":
        body = base64.encodebytes(body)
    return CRLF.join(line.encode() for line in lines) + CRLF + CRLF + body


def multipart(
    *parts: bytes,
    subtype: str = "mixed",
    boundary: str = "BOUNDARY",
    headers: dict[str, str] | None = None,
    preamble: bytes = b"",
    epilogue: bytes = b"",
) -> bytes:
    sep = b"--" + boundary.encode()
    out = [f"{name}: {value}".encode() for name, value in (headers or {"Subject": "test"}).items()]
    out += [b"MIME-Version: 1.0", f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode(), b""]
    if preamble:
        out.append(preamble)
    for body in parts:
        out += [sep, body]
    out += [sep + b"--", epilogue]
    return CRLF.join(out)


def with_attachment(data: bytes, *, filename: str, content_type: str = "application/octet-stream") -> bytes:
    return multipart(
        part(b"See attached.\r\n", content_type="text/plain", encoding="7bit"),
        part(data, content_type=content_type, filename=filename),
    )


def pdf(*pages: str) -> bytes:
    """A minimal valid PDF, one Helvetica text line per page ("" gives a page without text)."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_rewritten(
    source: bytes, *, user_password: str | None = None, attachments: dict[str, bytes] | None = None
) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    for name, data in (attachments or {}).items():
        writer.add_attachment(name, data)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def mark_encrypted(archive: bytes) -> bytes:
    """Set the "encrypted" flag (APPNOTE 4.4.4 bit 0) on every entry, as zip -P would."""
    data = bytearray(archive)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := data.find(signature, start)) != -1:
            (flags,) = struct.unpack_from("<H", data, found + flags_at)
            struct.pack_into("<H", data, found + flags_at, flags | 1)
            start = found + 4
    return bytes(data)


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(body: str, extra: dict[str, str] | None = None) -> bytes:
    members = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "word/document.xml": f'<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>',
    }
    members.update(extra or {})
    return zip_of({name: text.encode() for name, text in members.items()})


def xlsx(rows: list[list[object]], *, title: str = "Patients") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def texts(result: Extraction, kind: str | None = None) -> str:
    return "\n".join(s.text for s in result.segments if kind is None or s.kind == kind)


def reasons(result: Extraction) -> dict[str, str]:
    return {u.part: u.reason for u in result.facts.unscannable}


def segment(result: Extraction, part: str) -> str:
    found = [s.text for s in result.segments if s.part == part]
    assert found, f"no segment {part!r} in {[s.part for s in result.segments]}"
    return found[0]


# -- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Plain subject", "Plain subject", id="plain"),
        pytest.param("=?utf-8?q?J=C3=B6rg_M=C3=BCller?=", "Jörg Müller", id="q-utf8"),
        pytest.param("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=", "Jörg Müller", id="b-utf8"),
        pytest.param("=?iso-8859-1?q?J=F6rg?= visit", "Jörg visit", id="q-latin1-then-text"),
        pytest.param("=?utf-8?b?5pel?= =?utf-8?b?5pys?=", "日本", id="adjacent-words-join"),
        pytest.param("=?utf-8?b?5pc=?= =?utf-8?b?pQ==?=", "日", id="char-split-across-words"),
        pytest.param("=?utf-8*en?q?Hello?=", "Hello", id="rfc2231-language"),
        pytest.param("Re:=?utf-8?q?Caf=C3=A9?=", "Re:Café", id="no-space-before-word"),
        pytest.param("=?utf-8?b?SsO2cmc?=", "Jörg", id="b-missing-padding"),
        pytest.param("=?utf-8?b?SsO2#cmc=?=", "Jörg", id="b-junk-character"),
        pytest.param("=?x-unknown?q?Anna?=", "Anna", id="unknown-charset"),
        pytest.param("=?us-ascii?q?Caf=C3=A9?=", "Café", id="wrong-charset-utf8-bytes"),
        pytest.param("=?utf-8?x?broken?=", "=?utf-8?x?broken?=", id="unknown-encoding-kept"),
        pytest.param("=?utf-8?q?unterminated", "=?utf-8?q?unterminated", id="unterminated-kept"),
        pytest.param("a\r\n b", "a b", id="folded"),
    ],
)
def test_subject_decoding(raw: str, expected: str) -> None:
    result = extract(message(headers={"Subject": raw}))
    assert result.facts.subject == expected
    assert segment(result, "header:subject") == expected


def test_raw_utf8_header_rfc6532() -> None:
    data = "Subject: Bericht für Jörg\r\n\r\nbody\r\n".encode()
    assert extract(data).facts.subject == "Bericht für Jörg"


def test_raw_latin1_header_falls_back() -> None:
    data = "Subject: Bericht für Jörg\r\n\r\nbody\r\n".encode("latin-1")
    assert extract(data).facts.subject == "Bericht für Jörg"


def test_header_facts_are_lowercase_decoded_and_in_order() -> None:
    data = message(
        headers={
            "From": "=?utf-8?q?Dr=2E_J=C3=B6rg?= <j@clinic.example>",
            "X-Mailer": "M",
            "Subject": "=?utf-8?q?S=C3=BC?=",
        }
    )
    result = extract(data)
    assert result.facts.headers[:3] == (
        ("from", "Dr. Jörg <j@clinic.example>"),
        ("x-mailer", "M"),
        ("subject", "Sü"),
    )
    assert result.facts.size == len(data)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        pytest.param("From", '"Smith, John" <john@example.com>', "Smith, John", id="from-display-name"),
        pytest.param(
            "To",
            "=?utf-8?q?Ana_L=C3=B3pez?= <a@x.example>, Bob <b@x.example>",
            "Ana López, Bob",
            id="to-encoded-names",
        ),
        pytest.param(
            "To", "John Smith (MRN 12345) <j@x.example>", "John Smith (MRN 12345)", id="address-comment"
        ),
        pytest.param(
            "To", "Patients of Dr. Who: a@x.example, b@x.example;", "Patients of Dr. Who:", id="group-name"
        ),
        pytest.param("To", 'broken <<"Jane Roe', "broken <<Jane Roe", id="unparseable-address-field"),
        pytest.param("Cc", "plain@example.com", None, id="cc-address-only"),
        pytest.param("Reply-To", "Jane Roe <jane@example.com>", "Jane Roe", id="reply-to"),
        pytest.param("Comments", "MRN 12345", "MRN 12345", id="comments"),
        pytest.param("Keywords", "oncology, referral", "oncology, referral", id="keywords"),
        pytest.param("Organization", "St. Elsewhere", "St. Elsewhere", id="organization"),
        pytest.param("X-Patient-Name", "John Smith", "John Smith", id="x-header-free-text"),
        pytest.param("X-MS-Exchange-Organization-Id", "abc", None, id="x-machine-header-skipped"),
        pytest.param("Received", "from a by b", None, id="trace-header-skipped"),
        pytest.param("Message-ID", "<x@y>", None, id="message-id-skipped"),
    ],
)
def test_free_text_headers_become_segments(name: str, value: str, expected: str | None) -> None:
    result = extract(message(headers={name: value}))
    found = [s for s in result.segments if s.part == f"header:{name.lower()}"]
    if expected is None:
        assert found == []
    else:
        assert [(s.kind, s.text) for s in found] == [("header", expected)]


def test_too_many_header_fields_is_unscannable() -> None:
    headers = {f"X-Field-{i}": "v" for i in range(12)}
    result = extract(message(headers=headers), limits=ExtractionLimits(max_header_fields=10))
    assert reasons(result) == {"header": "more than 10 header fields"}
    assert len(result.facts.headers) == 10


# -- bodies, transfer encodings, charsets -------------------------------------------------------

BODY = "Patient Jörg Müller, DOB 1960-01-02.\n"


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        pytest.param(None, BODY.encode(), id="none"),
        pytest.param("7bit", b"Patient John Smith\r\n", id="7bit"),
        pytest.param("8bit", BODY.encode(), id="8bit"),
        pytest.param("binary", BODY.encode(), id="binary"),
        pytest.param("base64", base64.encodebytes(BODY.encode()), id="base64"),
        pytest.param("BASE64", base64.b64encode(BODY.encode()), id="base64-uppercase-one-line"),
        pytest.param("base64", base64.b64encode(BODY.encode()).rstrip(b"="), id="base64-no-padding"),
        pytest.param(
            "base64", b"UGF0aWVudCBK w7ZyZyBN\r\n!!w7xsbGVyLCBET0IgMTk2MC0wMS0wMi4K", id="base64-junk"
        ),
        pytest.param(
            "base64",
            base64.b64encode(b"Patient J") + base64.b64encode("örg Müller, DOB 1960-01-02.\n".encode()),
            id="base64-concatenated-padded-blocks",
        ),
        pytest.param("quoted-printable", quopri.encodestring(BODY.encode()), id="quoted-printable"),
        pytest.param(
            "quoted-printable",
            b"Patient J=C3=B6rg M=C3=BCller, DOB 19=\r\n60-01-02.=ZZ\r\n",
            id="quoted-printable-soft-break-bad-escape",
        ),
        pytest.param(
            "x-uuencode",
            b"begin 644 body.txt\n" + binascii.b2a_uu(BODY.encode()) + b"`\nend\n",
            id="uuencode",
        ),
        pytest.param("x-made-up", BODY.encode(), id="unknown-encoding-passes-through"),
    ],
)
def test_transfer_encodings(encoding: str | None, raw: bytes) -> None:
    result = extract(message(raw, content_type="text/plain; charset=utf-8", encoding=encoding))
    text = segment(result, "1")
    assert "Jörg Müller" in text or "John Smith" in text, text
    assert result.facts.unscannable == ()


@pytest.mark.parametrize(
    ("charset", "raw", "expected"),
    [
        pytest.param("utf-8", "Jörg".encode(), "Jörg", id="utf-8"),
        pytest.param("iso-8859-1", "Jörg".encode("latin-1"), "Jörg", id="latin-1"),
        pytest.param("windows-1252", "“Jörg”".encode("cp1252"), "“Jörg”", id="cp1252"),
        pytest.param("shift_jis", "日本".encode("shift_jis"), "日本", id="shift-jis"),
        pytest.param('"UTF-8"', "Jörg".encode(), "Jörg", id="quoted-charset"),
        pytest.param("x-unknown-charset", "Jörg".encode(), "Jörg", id="unknown-charset-utf8"),
        pytest.param("x-unknown-charset", "Jörg".encode("latin-1"), "Jörg", id="unknown-charset-latin1"),
        pytest.param("us-ascii", "Jörg".encode(), "Jörg", id="declared-ascii-actually-utf8"),
        pytest.param("utf-8", "Jörg".encode("latin-1"), "Jörg", id="declared-utf8-actually-latin1"),
        pytest.param("zlib", "Jörg".encode(), "Jörg", id="bytes-codec-refused"),
        pytest.param("punycode", b"Joerg-abc", "Joerg-abc", id="punycode-refused"),
        pytest.param("unicode_escape", rb"J\u00f6rg", r"J\u00f6rg", id="unicode-escape-refused"),
        pytest.param(None, "Jörg".encode("utf-16"), "Jörg", id="utf-16-bom"),
    ],
)
def test_charsets(charset: str | None, raw: bytes, expected: str) -> None:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    assert segment(extract(message(raw, content_type=content_type, encoding="8bit")), "1") == expected


def test_html_body_to_text() -> None:
    html = (
        b"<html><head><title>Visit</title><style>p { color: red }</style>"
        b"<script>var ssn = '000-00-0000';</script></head><body><!-- internal note -->"
        b"<p>Dear&nbsp;Dr.&nbsp;Jones,</p><div>Patient: <b>John</b> Smith &amp; family</div>"
        b"<table><tr><td>MRN</td><td>12345</td></tr></table><img src=cid:x alt='Photo of John'></body></html>"
    )
    result = extract(message(html, content_type="text/html; charset=utf-8"))
    text = segment(result, "1")
    assert "Patient: John Smith & family" in text
    assert "MRN\n12345" in text
    assert "Photo of John" in text
    assert "Dear\xa0Dr.\xa0Jones," in text
    for gone in ("color: red", "ssn", "internal note", "<"):
        assert gone not in text
    assert [s.kind for s in result.segments if s.part == "1"] == ["body"]


def test_alternative_parts_and_preamble_epilogue_are_scanned() -> None:
    data = multipart(
        part(b"plain John\r\n", content_type="text/plain", encoding="7bit"),
        part(b"<p>html John</p>", content_type="text/html", encoding="7bit"),
        subtype="alternative",
        preamble=b"hidden preamble MRN 1",
        epilogue=b"hidden epilogue MRN 2",
    )
    result = extract(data)
    assert segment(result, "1") == "plain John\r\n"
    assert segment(result, "2") == "html John"
    assert "MRN 1" in segment(result, "preamble")
    assert "MRN 2" in segment(result, "epilogue")
    assert result.facts.attachments == ()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b"-----BEGIN PGP MESSAGE-----\r\nhQEMA...\r\n-----END PGP MESSAGE-----\r\n",
            "encrypted content (PGP message)",
            id="whole-body",
        ),
        pytest.param(
            b"Results below.\r\n\r\n-----BEGIN PGP MESSAGE-----\r\nhQEMA...\r\n",
            "contains a PGP-encrypted block",
            id="inline-block",
        ),
    ],
)
def test_pgp_armor_is_unscannable(body: bytes, reason: str) -> None:
    assert reasons(extract(message(body))) == {"1": reason}


def test_binary_in_text_part_is_unscannable() -> None:
    result = extract(message("Jörg".encode("utf-16-le") * 20, content_type="text/plain; charset=us-ascii"))
    assert reasons(result) == {"1": "binary data in a text part"}


def test_multipart_without_boundary_is_scanned_raw_and_unscannable() -> None:
    data = b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nJohn Smith\r\n--zzz\r\nQUJD\r\n"
    result = extract(data)
    assert "John Smith" in segment(result, "1")
    assert reasons(result) == {"1": "multipart without a usable boundary"}


def test_multipart_with_empty_body_is_not_unscannable() -> None:
    data = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\r\n\r\n"
    assert extract(data).facts.unscannable == ()


# -- attachments: types decided by content type, extension and magic ---------------------------

CSV = b"name,dob,mrn\r\nJohn Smith,1960-01-02,12345\r\n"
PDF = pdf("Patient John Smith MRN 12345", "Second page")


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "needle"),
    [
        pytest.param(CSV, "patients.csv", "text/csv", "John Smith,1960-01-02", id="csv"),
        pytest.param(CSV, "patients.csv", "application/octet-stream", "John Smith", id="csv-octet-stream"),
        pytest.param(b'{"patient": "John Smith"}', "p.json", "application/json", '"John Smith"', id="json"),
        pytest.param(
            b"<?xml version='1.0'?><p><name>John Smith</name><birthTime value='19600102'/></p>",
            "ccd.xml",
            "application/xml",
            "19600102",
            id="xml-attribute-values",
        ),
        pytest.param(
            b"<?xml version='1.0'?><p><name>John Smith</name>",
            "broken.xml",
            "text/xml",
            "<name>John Smith</name>",
            id="xml-malformed-raw",
        ),
        pytest.param(
            b"<html><body><p>John Smith</p><script>x()</script></body></html>",
            "page.htm",
            "application/octet-stream",
            "John Smith",
            id="html-by-extension",
        ),
        pytest.param(
            b"MSH|^~\\&|LAB|X|||200001010000||ORU^R01|1|P|2.3\rPID|1||12345||Smith^John",
            "result.hl7",
            "application/octet-stream",
            "Smith^John",
            id="hl7-v2",
        ),
        pytest.param(PDF, "report.pdf", "application/pdf", "John Smith MRN 12345", id="pdf"),
        pytest.param(PDF, "x.pdf", "application/octet-stream", "John Smith", id="pdf-octet-stream"),
        pytest.param(PDF, "scan", "application/octet-stream", "John Smith", id="pdf-no-name-magic"),
        pytest.param(PDF, "photo.jpg", "image/jpeg", "John Smith", id="pdf-disguised-as-jpeg"),
        pytest.param(b"junk before\n" + PDF, "j.pdf", "application/pdf", "John Smith", id="pdf-leading-junk"),
        pytest.param(CSV, "holiday.png", "image/png", "John Smith", id="text-disguised-as-png"),
        pytest.param(CSV, "report.pdf", "application/pdf", "John Smith", id="text-disguised-as-pdf"),
        pytest.param(
            xlsx([["Name", "DOB"], ["John Smith", datetime.date(1960, 1, 2)]]),
            "p.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "1960-01-02",
            id="xlsx-date-cell",
        ),
        pytest.param(
            xlsx([["John Smith", 12345]]),
            "data.bin",
            "application/octet-stream",
            "John Smith\t12345",
            id="xlsx-by-magic",
        ),
        pytest.param(
            xlsx([["x"]], title="Smith John"),
            "t.xlsx",
            "application/octet-stream",
            "Smith John",
            id="xlsx-sheet-title",
        ),
        pytest.param(
            docx("<w:p><w:r><w:t>Patient John</w:t></w:r><w:r><w:tab/><w:t>Smith</w:t></w:r></w:p>"),
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Patient John\tSmith",
            id="docx",
        ),
        pytest.param(
            docx("<w:p><w:del><w:r><w:delText>MRN 12345</w:delText></w:r></w:del></w:p>"),
            "d.docx",
            "application/octet-stream",
            "MRN 12345",
            id="docx-tracked-deletion",
        ),
        pytest.param(
            docx(
                "<w:p/>",
                {"word/header1.xml": f"<w:hdr {W}><w:p><w:r><w:t>Jane Roe</w:t></w:r></w:p></w:hdr>"},
            ),
            "h.docx",
            "application/octet-stream",
            "Jane Roe",
            id="docx-header",
        ),
        pytest.param(
            zip_of(
                {
                    "ppt/presentation.xml": b"<p/>",
                    "ppt/slides/slide1.xml": b'<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r>'
                    b"<a:t>John Smith</a:t></a:r></a:p></p:sld>",
                }
            ),
            "deck.pptx",
            "application/octet-stream",
            "John Smith",
            id="pptx",
        ),
        pytest.param(
            zip_of(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.text",
                    "content.xml": b'<office:document-content xmlns:office="o" xmlns:text="t"><text:p>John '
                    b"<text:span>Smith</text:span></text:p></office:document-content>",
                }
            ),
            "letter.odt",
            "application/vnd.oasis.opendocument.text",
            "John Smith",
            id="odt",
        ),
        pytest.param(
            zip_of({"reports/patients.csv": CSV}),
            "reports.zip",
            "application/zip",
            "John Smith",
            id="zip-csv",
        ),
    ],
)
def test_attachment_text(data: bytes, filename: str, content_type: str, needle: str) -> None:
    result = extract(with_attachment(data, filename=filename, content_type=content_type))
    assert needle in texts(result, "attachment"), texts(result)
    assert result.facts.unscannable == ()
    assert result.facts.attachments[0] == Attachment(
        part="2",
        filename=filename,
        extension=filename.rpartition(".")[2].lower() if "." in filename else "",
        content_type=content_type,
        size=len(data),
    )


def test_xlsx_cell_comments_are_read() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "score"
    sheet["A1"].comment = Comment("Patient Jane Roe", "Dr. Who")
    buf = io.BytesIO()
    workbook.save(buf)
    text = segment(extract(with_attachment(buf.getvalue(), filename="c.xlsx")), "2")
    assert "score" in text
    assert "Patient Jane Roe" in text


def test_zip_members_are_listed_and_scanned_with_their_path() -> None:
    archive = zip_of({"a/patients.csv": CSV, "b/": b"", "notes.txt": b"MRN 777"})
    result = extract(with_attachment(archive, filename="r.zip"))
    assert segment(result, "2/a/patients.csv") == CSV.decode()
    assert segment(result, "2/notes.txt") == "MRN 777"
    assert [(a.part, a.extension, a.size) for a in result.facts.attachments[1:]] == [
        ("2/a/patients.csv", "csv", len(CSV)),
        ("2/notes.txt", "txt", 7),
    ]


def test_zip_in_zip_and_pdf_in_zip() -> None:
    inner = zip_of({"deep.csv": CSV, "r.pdf": PDF})
    result = extract(with_attachment(zip_of({"inner.zip": inner}), filename="outer.zip"))
    assert "John Smith" in segment(result, "2/inner.zip/deep.csv")
    assert "John Smith" in segment(result, "2/inner.zip/r.pdf")


def test_pdf_embedded_file_is_read() -> None:
    data = pdf_rewritten(pdf("cover"), attachments={"labs.csv": CSV})
    result = extract(with_attachment(data, filename="c.pdf"))
    assert "John Smith" in segment(result, "2/labs.csv")
    assert [(a.part, a.extension, a.size) for a in result.facts.attachments] == [
        ("2", "pdf", len(data)),
        ("2/labs.csv", "csv", len(CSV)),
    ]


def test_pdf_with_owner_password_only_is_readable() -> None:
    data = pdf_rewritten(PDF, user_password="")
    result = extract(with_attachment(data, filename="c.pdf"))
    assert "John Smith" in segment(result, "2")
    assert result.facts.unscannable == ()


def test_docx_embedded_workbook_is_read() -> None:
    data = docx("<w:p><w:r><w:t>See table</w:t></w:r></w:p>")
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as archive:
        archive.writestr("word/embeddings/Sheet1.xlsx", xlsx([["Jane Roe", 999]]))
    result = extract(with_attachment(buf.getvalue(), filename="d.docx"))
    assert "Jane Roe\t999" in segment(result, "2/word/embeddings/Sheet1.xlsx")


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "scan.png", "image/png", id="png"),
        pytest.param(
            b"\xff\xd8\xff\xe0" + bytes(range(256)), "photo", "application/octet-stream", id="jpeg-magic"
        ),
        pytest.param(bytes(range(256)) * 4, "voice.mp3", "audio/mpeg", id="audio-declared"),
        pytest.param(
            b"0\x82\x01\x00" + bytes(range(256)),
            "smime.p7s",
            "application/pkcs7-signature",
            id="smime-signature",
        ),
    ],
)
def test_media_and_signatures_are_listed_not_unscannable(
    data: bytes, filename: str, content_type: str
) -> None:
    result = extract(with_attachment(data, filename=filename, content_type=content_type))
    assert result.facts.unscannable == ()
    assert [s.part for s in result.segments if s.kind == "attachment"] == []
    assert result.facts.attachments[0].filename == filename


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "reason"),
    [
        pytest.param(
            bytes(range(256)) * 4,
            "blob.bin",
            "application/octet-stream",
            "unrecognised binary data",
            id="unknown-binary",
        ),
        pytest.param(
            b"Rar!\x1a\x07\x00" + bytes(100),
            "a.rar",
            "application/x-rar",
            "RAR archive: format not supported",
            id="rar",
        ),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            "old.doc",
            "application/msword",
            "OLE2 file (old or encrypted Office): format not supported",
            id="ole2",
        ),
        pytest.param(
            bytes(128) + b"DICM" + bytes(100),
            "ct.dcm",
            "application/dicom",
            "DICOM file (carries patient metadata): format not supported",
            id="dicom",
        ),
        pytest.param(
            b"\x1f\x8b\x08" + bytes(30),
            "a.csv.gz",
            "application/gzip",
            "gzip file: format not supported",
            id="gzip",
        ),
        pytest.param(
            b"0\x82" + bytes(100),
            "smime.p7m",
            "application/pkcs7-mime",
            "encrypted content (S/MIME message)",
            id="smime-encrypted",
        ),
        pytest.param(
            b"\x00\x01garbage", "x.pdf", "application/pdf", "unreadable (PdfStreamError)", id="corrupt-pdf"
        ),
        pytest.param(
            b"PK\x03\x04 corrupt",
            "x.docx",
            "application/octet-stream",
            "unreadable (BadZipFile)",
            id="corrupt-docx",
        ),
        pytest.param(
            docx("<w:p><w:r><w:t>unclosed</w:r></w:p>"),
            "bad.docx",
            "application/octet-stream",
            "unreadable (ExpatError)",
            id="docx-malformed-xml",
        ),
        pytest.param(
            pdf(""),
            "scan.pdf",
            "application/pdf",
            "PDF without a text layer (scanned image?)",
            id="pdf-no-text-layer",
        ),
        pytest.param(
            pdf_rewritten(PDF, user_password="s3cret"),
            "locked.pdf",
            "application/pdf",
            "encrypted PDF (password required)",
            id="pdf-encrypted",
        ),
    ],
)
def test_unreadable_attachments_are_unscannable(
    data: bytes, filename: str, content_type: str, reason: str
) -> None:
    result = extract(with_attachment(data, filename=filename, content_type=content_type))
    assert reasons(result) == {"2": reason}
    assert result.facts.attachments[0].part == "2"


def test_multipart_encrypted_is_unscannable() -> None:
    data = multipart(
        part(b"Version: 1\r\n", content_type="application/pgp-encrypted", encoding="7bit"),
        part(b"-----BEGIN PGP MESSAGE-----\r\n...", content_type="application/octet-stream", encoding="7bit"),
        subtype="encrypted",
    )
    assert reasons(extract(data)) == {"message": "encrypted (multipart/encrypted)"}


# -- ZIP limits ---------------------------------------------------------------------------------


def test_zip_bomb_ratio_is_unscannable() -> None:
    bomb = zip_of({"zeros.txt": bytes(2 * 1024 * 1024), "ok.txt": b"fine"})
    result = extract(with_attachment(bomb, filename="b.zip"))
    assert reasons(result) == {"2/zeros.txt": "compression ratio above 100:1 (decompression bomb)"}
    assert segment(result, "2/ok.txt") == "fine"


def test_password_zip_member_is_unscannable() -> None:
    result = extract(with_attachment(mark_encrypted(zip_of({"p.csv": CSV})), filename="locked.zip"))
    assert reasons(result) == {"2/p.csv": "encrypted (password-protected) archive member"}
    assert [s.part for s in result.segments if s.kind == "attachment"] == []


def test_zip_member_size_and_total_limits() -> None:
    archive = zip_of(
        {"a.txt": b"a" * 600, "b.txt": b"b" * 300, "c.txt": b"c" * 300}, compression=zipfile.ZIP_STORED
    )
    limits = ExtractionLimits(max_member_bytes=500, max_inflated_bytes=500)
    result = extract(with_attachment(archive, filename="z.zip"), limits=limits)
    assert reasons(result) == {
        "2/a.txt": "archive member larger than 500 bytes",
        "2/c.txt": "decompression limit of 500 bytes reached",
    }
    assert segment(result, "2/b.txt") == "b" * 300


def test_xlsx_member_over_limits_makes_workbook_unscannable() -> None:
    data = xlsx([["John Smith"]])
    result = extract(with_attachment(data, filename="p.xlsx"), limits=ExtractionLimits(max_member_bytes=100))
    assert reasons(result)["2"] == "workbook not read: a member exceeds the decompression limits"
    assert "John Smith" not in texts(result)


def test_xlsx_row_limit() -> None:
    result = extract(
        with_attachment(xlsx([[i] for i in range(20)]), filename="p.xlsx"),
        limits=ExtractionLimits(max_sheet_rows=5),
    )
    assert reasons(result) == {"2": "workbook has more than 5 rows"}


def test_xlsx_crafted_row_number_does_not_hang() -> None:
    data = xlsx([["John Smith"]])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buf, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b'<row r="1"', b'<row r="999999999999"').replace(
                    b'r="A1"', b'r="A999999999999"'
                )
            target.writestr(info, content)
    start = time.perf_counter()
    result = extract(with_attachment(buf.getvalue(), filename="p.xlsx"))
    assert time.perf_counter() - start < 10
    assert reasons(result) == {"2": f"workbook has more than {DEFAULT_LIMITS.max_sheet_rows} rows"}


def test_pdf_page_limit() -> None:
    result = extract(
        with_attachment(pdf("one", "two", "three"), filename="p.pdf"),
        limits=ExtractionLimits(max_pdf_pages=2),
    )
    assert reasons(result) == {"2": "PDF longer than 2 pages; the rest unread"}
    assert segment(result, "2").split() == ["one", "two"]


# -- nesting and part limits ----------------------------------------------------------------------


def forwarded(inner: bytes, *, encoding: str = "7bit", level: int = 0) -> bytes:
    body = base64.encodebytes(inner) if encoding == "base64" else inner
    return multipart(
        part(b"FYI\r\n", content_type="text/plain", encoding="7bit"),
        b'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="fwd.eml"\r\n'
        + f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode()
        + body,
        headers={"Subject": "Fwd"},
        boundary=f"FWD{level}",
    )


def test_nested_message_headers_and_body() -> None:
    inner = multipart(
        part(b"Inner body about John Smith\r\n", content_type="text/plain", encoding="7bit"),
        part(CSV, content_type="text/csv", filename="labs.csv"),
        headers={"Subject": "=?utf-8?q?Labs_J=C3=B6rg?=", "From": "Dr. Who <who@x.example>"},
        boundary="INNER",
    )
    result = extract(forwarded(inner))
    assert segment(result, "2/header:subject") == "Labs Jörg"
    assert segment(result, "2/header:from") == "Dr. Who"
    assert "John Smith" in segment(result, "2.1")
    assert "John Smith" in segment(result, "2.2")
    assert [(a.part, a.content_type) for a in result.facts.attachments] == [
        ("2", "message/rfc822"),
        ("2.2", "text/csv"),
    ]
    assert result.facts.subject == "Fwd"


def test_base64_encoded_nested_message_is_decoded() -> None:
    result = extract(forwarded(b"Subject: secret\r\n\r\nBody about John Smith\r\n", encoding="base64"))
    assert segment(result, "2/header:subject") == "secret"
    assert "John Smith" in segment(result, "2.1")


def test_eml_attachment_sent_as_octet_stream_is_walked() -> None:
    inner = b"Subject: inner\r\n\r\nJohn Smith\r\n"
    result = extract(with_attachment(inner, filename="old.eml"))
    assert segment(result, "2/header:subject") == "inner"
    assert segment(result, "2.1") == "John Smith\r\n"


def test_delivery_status_fields_are_text() -> None:
    data = multipart(
        part(b"failed\r\n", content_type="text/plain", encoding="7bit"),
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a.example\r\n\r\n"
        b"Final-Recipient: rfc822; john.smith@x.example\r\nAction: failed\r\n",
        subtype="report",
    )
    assert "Final-Recipient: rfc822; john.smith@x.example" in segment(extract(data), "2")


def test_message_partial_is_unscannable() -> None:
    data = multipart(b"Content-Type: message/partial; id=x; number=1\r\n\r\nSubject: a\r\n\r\nb\r\n")
    assert reasons(extract(data)) == {"1": "message fragment (message/partial)"}


def test_too_deep_message_nesting_is_unscannable() -> None:
    data = b"Subject: level 0\r\n\r\ninnermost John Smith\r\n"
    for level in range(DEFAULT_LIMITS.max_depth + 1):
        data = forwarded(data, level=level)
    result = extract(data)
    assert list(reasons(result).values()) == [f"nested deeper than {DEFAULT_LIMITS.max_depth} levels"]
    assert "innermost" not in texts(result)


def test_nesting_at_the_limit_is_read() -> None:
    data = b"Subject: level 0\r\n\r\ninnermost John Smith\r\n"
    for level in range(3):
        data = forwarded(data, level=level)
    result = extract(data, limits=ExtractionLimits(max_depth=3))
    assert result.facts.unscannable == ()
    assert "innermost" in texts(result)


def test_too_deep_zip_nesting_is_unscannable() -> None:
    archive = zip_of({"deep.csv": CSV})
    for level in range(3):
        archive = zip_of({f"level{level}.zip": archive})
    result = extract(with_attachment(archive, filename="z.zip"), limits=ExtractionLimits(max_depth=3))
    assert reasons(result) == {"2/level2.zip/level1.zip/level0.zip": "nested deeper than 3 levels"}
    assert "John Smith" not in texts(result)


def test_too_many_parts_is_unscannable() -> None:
    parts = [part(f"part {i}\r\n".encode(), content_type="text/plain", encoding="7bit") for i in range(10)]
    result = extract(multipart(*parts), limits=ExtractionLimits(max_parts=5))
    assert reasons(result) == {"5": "more than 5 parts; this and later parts unread"}
    assert [s.part for s in result.segments if s.kind == "body"] == ["1", "2", "3", "4"]


def test_zip_members_count_as_parts() -> None:
    archive = zip_of({f"f{i}.txt": b"x" for i in range(10)})
    result = extract(with_attachment(archive, filename="z.zip"), limits=ExtractionLimits(max_parts=6))
    # the root multipart, its two parts and three members make six
    assert reasons(result) == {"2/f3.txt": "more than 6 parts; this and later parts unread"}


def test_deep_multipart_nesting_does_not_crash() -> None:
    data = b"Subject: deep\r\n"
    for level in range(3000):
        data += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    data += b"Content-Type: text/plain\r\n\r\nJohn Smith\r\n"
    result = extract(data)
    assert result.facts.unscannable
    assert "John Smith" in texts(result)


# -- budget, robustness, determinism, speed ------------------------------------------------------


def test_text_budget_cuts_and_records() -> None:
    data = multipart(
        part(b"a" * 80, content_type="text/plain", encoding="7bit"),
        part(b"b" * 80, content_type="text/plain", encoding="7bit"),
        part(b"c" * 80, content_type="text/plain", encoding="7bit"),
    )
    result = extract(data, limits=ExtractionLimits(max_text_chars=150))
    assert [(s.part, len(s.text)) for s in result.segments] == [("header:subject", 4), ("1", 80), ("2", 66)]
    assert reasons(result) == {
        "2": "text limit of 150 characters reached",
        "3": "text limit of 150 characters reached",
    }


RICH = multipart(
    part("Dear Dr. Jöns\r\n".encode(), content_type="text/plain; charset=utf-8", encoding="quoted-printable"),
    part(b"<p>John <b>Smith</b></p>", content_type="text/html", encoding="base64"),
    part(CSV, content_type="text/csv", filename="p.csv"),
    part(PDF, content_type="application/pdf", filename="r.pdf"),
    part(zip_of({"in.csv": CSV}), content_type="application/zip", filename="z.zip"),
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nJohn\r\n",
    headers={"Subject": "=?utf-8?q?Rich_m=C3=A9ssage?=", "From": "A <a@x.example>"},
)


@pytest.mark.parametrize("step", [1, 16, 128, 4096])
def test_truncated_messages_never_raise(step: int) -> None:
    # Every prefix at this granularity (the whole message for 1: cut to every 97th byte).
    stride = 97 if step == 1 else step
    for end in range(0, len(RICH) + stride, stride):
        assert isinstance(extract(RICH[:end]), Extraction)


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n", b"\x00" * 100, bytes(range(256)) * 8, b"Subject", b"::::\r\n\r\n"],
    ids=["empty", "blank-line", "nuls", "all-bytes", "word", "colons"],
)
def test_garbage_never_raises(data: bytes) -> None:
    result = extract(data)
    assert result.facts.size == len(data)


def test_extraction_is_deterministic() -> None:
    assert extract(RICH) == extract(RICH)


def test_rich_message_reads_everything() -> None:
    result = extract(RICH)
    assert result.facts.subject == "Rich méssage"
    assert result.facts.unscannable == ()
    assert [s.part for s in result.segments] == [
        "header:subject",
        "header:from",
        "1",
        "2",
        "3",
        "4",
        "5/in.csv",
        "6/header:subject",
        "6.1",
    ]
    assert [a.part for a in result.facts.attachments] == ["3", "4", "5", "5/in.csv", "6"]


def html_message_20k() -> bytes:
    row = (
        "<tr><td class='name' style='padding:4px;color:#333'>Patient &amp; John Smith</td>"
        "<td>DOB 01/02/1960</td><td><a href='https://portal.example.org/chart?id=123'>chart</a></td></tr>\n"
    )
    html = (
        "<html><head><style>td{color:red}</style><script>var x=1;</script></head><body>"
        "<p>Dear colleague,</p><table>" + row * 105 + "</table><p>Regards</p></body></html>"
    )
    return message(
        quopri.encodestring(html.encode()),
        content_type="text/html; charset=utf-8",
        encoding="quoted-printable",
        headers={
            "From": "Dr. Alice Jones <alice@clinic.example>",
            "To": "Bob <bob@example.com>",
            "Subject": "=?utf-8?q?Referral_for_J=C3=B6rg?=",
        },
    )


# -- hostile input: linear time, nothing expanded, every word kept --------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([name]), b"&%s;" % bytes([name - 1]) * 10) for name in b"bcdefghi"
    )
    + b"]><l>&i; John Smith</l>"
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(
            message(b"<div>" * 60_000 + b"John", content_type="text/html"), "John", id="html-deep-div"
        ),
        pytest.param(
            message(b"<i></b>" * 60_000 + b"John", content_type="text/html"), "John", id="html-misnested"
        ),
        pytest.param(message(b"<p>John" * 60_000, content_type="text/html"), "John", id="html-many-tags"),
        pytest.param(message(b"<" * 500_000 + b"John", content_type="text/html"), "John", id="html-stray-lt"),
        pytest.param(
            message(b"John<!--" * 100_000, content_type="text/html"), "John", id="html-open-comments"
        ),
        pytest.param(
            message(b"John" + b" " * 1_000_000 + b"x", content_type="text/html"), "John", id="html-blanks"
        ),
        pytest.param(message(headers={"To": "John" + "a" * 500_000}), "John", id="address-long-word"),
        pytest.param(message(headers={"To": "<" + "John" * 100_000}), "John", id="address-unclosed-angle"),
        pytest.param(
            message(headers={"Subject": "John " + "=?" * 200_000}), "John", id="subject-encoded-storm"
        ),
        pytest.param(message(b"John" + b"=" * 500_000, encoding="quoted-printable"), "John", id="qp-equals"),
        pytest.param(
            with_attachment(
                b"<?xml version='1.0'?>" + b"<a>" * 50_000 + b"John" + b"</a>" * 50_000, filename="d.xml"
            ),
            "John",
            id="xml-deep",
        ),
        pytest.param(
            with_attachment(BILLION_LAUGHS, filename="l.xml"), "<!ENTITY a", id="xml-billion-laughs"
        ),
    ],
)
def test_hostile_input_is_fast_and_keeps_text(data: bytes, needle: str) -> None:
    start = time.process_time()
    result = extract(data)
    assert time.process_time() - start < 5
    assert needle in texts(result)
    assert sum(len(s.text) for s in result.segments) <= len(data)  # nothing was expanded


def test_deeply_nested_html_falls_back_to_stripping() -> None:
    markup = (
        b"<style>p{}</style><script>secret()</script>" + b"<div>" * 20_000 + b"<p>John</p><p>Smith &amp; co"
    )
    text = segment(extract(message(markup, content_type="text/html")), "1")
    assert text.split("\n") == ["John", "Smith & co"]
