"""What a part really is: magic bytes first, then the declared type, then the file name.

Senders label files carelessly (a PDF as ``application/octet-stream`` named ``scan``) and, when
they want to smuggle something, deliberately (a spreadsheet named ``photo.jpg``). The bytes are
the only witness that cannot lie about the format, so signatures decide whenever they exist; the
Content-Type and then the extension decide only for formats without one (text, HTML, XML).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from relay.message.collect import extension


class Kind(enum.Enum):
    TEXT = "text"
    HTML = "html"
    XML = "xml"
    PDF = "pdf"
    ZIP = "zip"
    """ZIP and the formats built on it (DOCX, XLSX, PPTX, OpenDocument): told apart by members."""
    MESSAGE = "message"
    MEDIA = "media"
    """Images, sound, video, fonts: no text to scan; listed as attachments only."""
    SIGNATURE = "signature"
    """Detached S/MIME or PGP signatures: no content of their own."""
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"
    """A known format that may hold text we cannot read (RAR, legacy Office, DICOM ...)."""
    BINARY = "binary"
    """Nothing recognisable and not text: unscannable, since it might hold anything."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sniffed:
    kind: Kind
    label: str
    """A short name of the format for Unscannable reasons, e.g. ``"RAR archive"``."""


SNIFF_BYTES = 4096
"""How much of a part the text heuristic looks at; formats announce themselves early."""
PDF_HEADER_WINDOW = 1024
"""``%PDF-`` may follow junk within the first 1024 bytes (ISO 32000-1 annex H.3, note 2)."""
MAX_CONTROL_SHARE = 0.01
"""Share of C0 control bytes (other than blanks) above which a sample is binary, not text."""

_MAGIC: tuple[tuple[int, bytes, Kind, str], ...] = (
    (0, b"PK\x03\x04", Kind.ZIP, "ZIP"),
    (0, b"PK\x05\x06", Kind.ZIP, "ZIP"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Kind.UNSUPPORTED, "OLE2 file (old or encrypted Office)"),
    (0, b"\x78\x9f\x3e\x22", Kind.UNSUPPORTED, "TNEF file (winmail.dat)"),
    (128, b"DICM", Kind.UNSUPPORTED, "DICOM file (carries patient metadata)"),
    (0, b"-----BEGIN PGP MESSAGE-----", Kind.ENCRYPTED, "PGP message"),
    (0, b"\x1f\x8b\x08", Kind.UNSUPPORTED, "gzip file"),
    (0, b"\xfd7zXZ\x00", Kind.UNSUPPORTED, "xz file"),
    (0, b"7z\xbc\xaf\x27\x1c", Kind.UNSUPPORTED, "7-Zip archive"),
    (0, b"Rar!\x1a\x07", Kind.UNSUPPORTED, "RAR archive"),
    (257, b"ustar", Kind.UNSUPPORTED, "tar archive"),
    (0, b"\x89PNG\r\n\x1a\n", Kind.MEDIA, "PNG image"),
    (0, b"\xff\xd8\xff", Kind.MEDIA, "JPEG image"),
    (0, b"GIF87a", Kind.MEDIA, "GIF image"),
    (0, b"GIF89a", Kind.MEDIA, "GIF image"),
    (0, b"II*\x00", Kind.MEDIA, "TIFF image"),
    (0, b"MM\x00*", Kind.MEDIA, "TIFF image"),
    (0, b"RIFF", Kind.MEDIA, "RIFF media"),
    (4, b"ftyp", Kind.MEDIA, "ISO media"),
    (0, b"ID3", Kind.MEDIA, "MP3 audio"),
    (0, b"OggS", Kind.MEDIA, "Ogg media"),
    (0, b"\x1a\x45\xdf\xa3", Kind.MEDIA, "Matroska media"),
)

_EXACT_TYPES: dict[str, tuple[Kind, str]] = {
    "text/html": (Kind.HTML, "HTML"),
    "application/xhtml+xml": (Kind.HTML, "HTML"),
    "application/pdf": (Kind.PDF, "PDF"),
    "application/x-pdf": (Kind.PDF, "PDF"),
    "application/zip": (Kind.ZIP, "ZIP"),
    "application/x-zip": (Kind.ZIP, "ZIP"),
    "application/x-zip-compressed": (Kind.ZIP, "ZIP"),
    "message/rfc822": (Kind.MESSAGE, "message"),
    "message/global": (Kind.MESSAGE, "message"),  # RFC 6532 section 3.7
    "message/news": (Kind.MESSAGE, "message"),
    "application/pkcs7-signature": (Kind.SIGNATURE, "S/MIME signature"),
    "application/x-pkcs7-signature": (Kind.SIGNATURE, "S/MIME signature"),
    "application/pgp-signature": (Kind.SIGNATURE, "PGP signature"),
    "application/pkcs7-mime": (Kind.ENCRYPTED, "S/MIME message"),
    "application/x-pkcs7-mime": (Kind.ENCRYPTED, "S/MIME message"),
    "application/pgp-encrypted": (Kind.ENCRYPTED, "PGP message"),
    "application/dicom": (Kind.UNSUPPORTED, "DICOM file (carries patient metadata)"),
    "application/ms-tnef": (Kind.UNSUPPORTED, "TNEF file (winmail.dat)"),
    "application/vnd.ms-tnef": (Kind.UNSUPPORTED, "TNEF file (winmail.dat)"),
    "application/json": (Kind.TEXT, "text"),
    "application/csv": (Kind.TEXT, "text"),
    "application/rtf": (Kind.TEXT, "text"),
    "application/x-rtf": (Kind.TEXT, "text"),
    "application/edi-x12": (Kind.TEXT, "text"),  # HIPAA claims (837) and remittances (835)
    "application/edifact": (Kind.TEXT, "text"),
    "application/hl7-v2": (Kind.TEXT, "text"),
    "application/x-hl7": (Kind.TEXT, "text"),
}
_TYPE_PREFIXES: tuple[tuple[str, Kind, str], ...] = (
    ("application/vnd.openxmlformats-officedocument.", Kind.ZIP, "Office document"),
    ("application/vnd.ms-excel.sheet.", Kind.ZIP, "Office document"),
    ("application/vnd.ms-word.document.", Kind.ZIP, "Office document"),
    ("application/vnd.oasis.opendocument.", Kind.ZIP, "OpenDocument"),
    ("image/svg", Kind.XML, "SVG"),
    ("text/xml", Kind.XML, "XML"),
    ("application/xml", Kind.XML, "XML"),
    ("text/", Kind.TEXT, "text"),
    ("image/", Kind.MEDIA, "image"),
    ("audio/", Kind.MEDIA, "audio"),
    ("video/", Kind.MEDIA, "video"),
    ("font/", Kind.MEDIA, "font"),
)
_EXTENSION_GROUPS: tuple[tuple[Kind, str, tuple[str, ...]], ...] = (
    (
        Kind.TEXT,
        "text",
        (
            "txt",
            "text",
            "csv",
            "tsv",
            "tab",
            "json",
            "log",
            "md",
            "rtf",
            "ics",
            "vcs",
            "vcf",
            "hl7",
            "x12",
            "edi",
            "yaml",
            "yml",
            "ini",
            "sql",
        ),
    ),
    (Kind.HTML, "HTML", ("html", "htm", "xhtml")),
    (Kind.XML, "XML", ("xml", "xsl", "svg", "cda", "ccd")),
    (Kind.PDF, "PDF", ("pdf",)),
    (
        Kind.ZIP,
        "ZIP",
        ("zip", "docx", "docm", "dotx", "xlsx", "xlsm", "xltx", "pptx", "pptm", "odt", "ods", "odp"),
    ),
    (Kind.MESSAGE, "message", ("eml", "mht", "mhtml")),  # MHTML is a MIME message
    (
        Kind.MEDIA,
        "media",
        (
            "jpg",
            "jpeg",
            "png",
            "gif",
            "bmp",
            "tif",
            "tiff",
            "webp",
            "heic",
            "heif",
            "ico",
            "mp3",
            "wav",
            "m4a",
            "aac",
            "ogg",
            "flac",
            "mp4",
            "mov",
            "avi",
            "mkv",
            "webm",
            "wmv",
            "ttf",
            "otf",
            "woff",
            "woff2",
        ),
    ),
    (Kind.SIGNATURE, "signature", ("p7s", "sig")),
    (Kind.ENCRYPTED, "encrypted file", ("p7m", "pgp", "gpg")),
    (Kind.UNSUPPORTED, "DICOM file (carries patient metadata)", ("dcm",)),
)
_EXTENSIONS = {ext: (kind, label) for kind, label, exts in _EXTENSION_GROUPS for ext in exts}
_SIGNED_KINDS = frozenset({Kind.MEDIA, Kind.PDF, Kind.ZIP})
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f\b\x1b")
_CONTROLS = bytes(b for b in range(32) if b not in _ALLOWED_CONTROLS) + b"\x7f"


def sniff(data: bytes, *, content_type: str, filename: str) -> Sniffed:
    """The kind of a decoded part, judged from its bytes, declared type and file name."""
    for offset, magic, kind, label in _MAGIC:
        if data.startswith(magic, offset):
            return Sniffed(kind=kind, label=label)
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return Sniffed(kind=Kind.PDF, label="PDF")
    if data.startswith(b"BZh") and data[4:10] == b"1AY&SY":
        return Sniffed(kind=Kind.UNSUPPORTED, label="bzip2 file")
    declared = _declared(content_type.lower()) or _EXTENSIONS.get(extension(filename))
    if declared is not None:
        kind, label = declared
        # Media, PDF and ZIP all have signatures; declared as one but without it and readable
        # as text, the part is text (a mislabelled file, or one disguised to avoid scanning).
        if kind not in _SIGNED_KINDS or not looks_like_text(data):
            return Sniffed(kind=kind, label=label)
    if not looks_like_text(data):
        return Sniffed(kind=Kind.BINARY, label="unrecognised binary data")
    head = data[:SNIFF_BYTES].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return Sniffed(kind=Kind.HTML, label="HTML")
    if head.startswith(b"<?xml"):
        return Sniffed(kind=Kind.XML, label="XML")
    return Sniffed(kind=Kind.TEXT, label="text")


def _declared(content_type: str) -> tuple[Kind, str] | None:
    """The kind a Content-Type names, or None for generic ones (``application/octet-stream``)."""
    if found := _EXACT_TYPES.get(content_type):
        return found
    for prefix, kind, label in _TYPE_PREFIXES:
        if content_type.startswith(prefix):
            return kind, label
    if content_type.endswith("+xml"):
        return Kind.XML, "XML"
    if content_type.endswith("+json"):
        return Kind.TEXT, "text"
    return None


def looks_like_text(data: bytes) -> bool:
    """True when the start of ``data`` is text in some charset: a BOM, or no NULs and almost no
    control bytes (8-bit bytes are allowed: they are letters in legacy charsets)."""
    sample = data[:SNIFF_BYTES]
    if sample.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    return controls <= len(sample) * MAX_CONTROL_SHARE
