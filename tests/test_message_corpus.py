"""The extractor over the shared corpus of odd and malformed real-world messages.

``shared/corpora/mime`` holds test messages from CPython's email package, flanker, enmime and
Haraka (see its README). Every one must extract without an exception and quickly; text bodies
must yield text; every part must be accounted for (scanned, listed as media, or unscannable); and
unscannable must be recorded exactly where a part is malformed beyond decoding.
"""

from __future__ import annotations

import time
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest

from relay.message import Extraction, extract

CORPUS = (Path(__file__).parents[1] / ".." / "shared" / "corpora" / "mime").resolve()
FILES = sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []
SECONDS_PER_MESSAGE = 2.0

# file -> {part: start of the reason}: the parts that are malformed beyond decoding.
UNSCANNABLE = {
    # Content-Type multipart, but the boundary is missing or never appears: the body is scanned
    # raw, but any encoded part inside it cannot be decoded.
    "cpython__msg_17.txt": {"1": "multipart without a usable boundary"},
    "cpython__msg_25.txt": {"1": "multipart without a usable boundary"},
    "cpython__msg_31.txt": {"1": "multipart without a usable boundary"},
    "cpython__msg_41.txt": {"1": "multipart without a usable boundary"},
    "enmime__mail_multipart-wo-boundary.raw": {"1": "multipart without a usable boundary"},
    "flanker__mailformed-headers.eml": {"1": "multipart without a usable boundary"},
    # An unfolded header line swallows the part's header section: its base64 cannot be decoded.
    "enmime__lowquality_bad-header-wrap.raw": {"2": "unreadable"},
    # Truncated PDFs (the test suite keeps only their first bytes).
    "enmime__mail_inlinemultipart.raw": {"2": "unreadable"},
    "enmime__mail_malformed-multiple-address-header-values.raw": {"2": "unreadable"},
    "enmime__mail_mime-bad-content-type.raw": {"2": "unreadable"},
    "enmime__mail_mime-blank-media-name.raw": {"2": "unreadable"},
    "enmime__mail_mime-duplicate-param.raw": {"2": "unreadable"},
    "enmime__mail_mime-unquoted-tspecials-param.raw": {"2": "unreadable"},
    # A bzip2 file: a compressed container we do not open.
    "flanker__bz2-attachment.eml": {"2": "bzip2 file"},
}
# file -> parts listed as attachments that hold nothing to scan, with why.
NOTHING_TO_SCAN = {
    "cpython__msg_26.txt": {"2"},  # clock.bmp, an image sent as application/riscos
    "cpython__msg_36.txt": {"2.2"},  # message/external-body by anon-ftp: the content is elsewhere
    "flanker__message-external-body.eml": {"2.1", "2.2"},  # the same
    "cpython__msg_42.txt": {"2"},  # a forwarded message: no free-text header, empty multipart
    # 7-byte "attachments" (a .zip, a .doc) whose content is "<html>\n": an empty HTML page
    "enmime__lowquality_bad-final-boundary.raw": {"2"},
    "enmime__lowquality_malformed-base64-attach.raw": {"2"},
    "enmime__lowquality_unk-charset-part.raw": {"2"},
    "enmime__mail_mime-bad-8bit-filename.raw": {"2"},
}
_NO_TEXT_TYPES = (
    "image/",
    "audio/",
    "video/",
    "application/pkcs7-signature",
    "application/pgp-signature",
    "application/x-pkcs7-signature",
)


def _text_leaves(data: bytes) -> list[Message]:
    """Leaf text parts with content, found independently with the standard library."""
    leaves = []
    for entity in BytesParser(policy=compat32).parsebytes(data).walk():
        payload = entity.get_payload(decode=True)
        if entity.get_content_maintype() == "text" and isinstance(payload, bytes) and payload.strip():
            leaves.append(entity)
    return leaves


def _extract_timed(path: Path) -> tuple[bytes, Extraction]:
    data = path.read_bytes()
    start = time.perf_counter()
    result = extract(data)
    assert time.perf_counter() - start < SECONDS_PER_MESSAGE
    return data, result


def test_corpus_is_present() -> None:
    assert len(FILES) >= 100, f"corpus missing at {CORPUS}"


@pytest.mark.timeout(SECONDS_PER_MESSAGE * 2)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_extracts_quickly_and_deterministically(path: Path) -> None:
    data, result = _extract_timed(path)
    assert isinstance(result, Extraction)
    assert result.facts.size == len(data)
    assert extract(data) == result
    for seg in result.segments:
        assert seg.kind in {"header", "body", "attachment"}
        assert seg.text.strip()


@pytest.mark.timeout(SECONDS_PER_MESSAGE * 2)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_unscannable_exactly_where_malformed(path: Path) -> None:
    _, result = _extract_timed(path)
    found = {u.part: u.reason for u in result.facts.unscannable}
    expected = UNSCANNABLE.get(path.name, {})
    assert found.keys() == expected.keys(), found
    for part, reason in expected.items():
        assert found[part].startswith(reason), found


@pytest.mark.timeout(SECONDS_PER_MESSAGE * 2)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_text_bodies_yield_text(path: Path) -> None:
    data, result = _extract_timed(path)
    if _text_leaves(data):
        assert [s for s in result.segments if s.kind != "header"], "text parts but no text extracted"


@pytest.mark.timeout(SECONDS_PER_MESSAGE * 2)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_attachment_is_accounted_for(path: Path) -> None:
    """Fail closed: each listed file was scanned, has no text by its nature, or is unscannable."""
    _, result = _extract_timed(path)
    scanned = {s.part for s in result.segments}
    unscannable = {u.part for u in result.facts.unscannable}
    empty = NOTHING_TO_SCAN.get(path.name, set())
    for attachment in result.facts.attachments:
        inside = any(p.startswith((f"{attachment.part}/", f"{attachment.part}.")) for p in scanned)
        assert (
            attachment.part in scanned
            or attachment.part in unscannable
            or inside
            or attachment.content_type.startswith(_NO_TEXT_TYPES)
            or attachment.part in empty
        ), attachment


@pytest.mark.timeout(SECONDS_PER_MESSAGE * 4)
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_truncated_corpus_messages_never_raise(path: Path) -> None:
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 7):
        assert isinstance(extract(data[: max(cut, 0)]), Extraction)
