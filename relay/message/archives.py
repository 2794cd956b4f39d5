"""ZIP archives, read member by member under the message's decompression budget.

The standard library's ``zipfile`` does the format work (central directory, ZIP64, CRC checks);
this module decides what it may inflate. Each member is checked against the limits *before* a
byte is decompressed, from the sizes the central directory declares, and then read with a hard
cap anyway: ``zipfile`` stops a member at its declared size, so a member that lies about its size
is cut off rather than believed. Encrypted members, oversized members, members whose
compression ratio marks a bomb, and members past the message's total budget are unscannable.

DOCX, XLSX, PPTX and OpenDocument files are ZIPs too; ``family`` tells them apart by their
members (not by name or type, which senders get wrong), so the caller can hand them to the
document readers, which read their XML through ``read_member`` under the same budget.
"""

from __future__ import annotations

import enum
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable

from relay.message.collect import Collector, MemberHandler

_ENCRYPTED_FLAG = 0x1  # APPNOTE.TXT 4.4.4: general purpose bit 0, the entry is encrypted
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
)
"""What ``zipfile`` raises for a corrupt member, a bad CRC or an unsupported compression method."""


class Family(enum.Enum):
    ZIP = "zip"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODF = "odf"


_MARKERS = (
    ("word/document.xml", Family.DOCX),
    ("xl/workbook.xml", Family.XLSX),
    ("ppt/presentation.xml", Family.PPTX),
    ("content.xml", Family.ODF),  # OpenDocument (ISO/IEC 26300 part 3, section 3.1)
)


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive over ``data``; raises ``zipfile.BadZipFile`` when it is not a readable ZIP."""
    return zipfile.ZipFile(io.BytesIO(data))


def family(archive: zipfile.ZipFile) -> Family:
    """Which format a ZIP carries, by the members that format requires."""
    names = set(archive.namelist())
    for marker, found in _MARKERS:
        if marker in names:
            return found
    return Family.ZIP


def check_member(info: zipfile.ZipInfo, part: str, col: Collector) -> bool:
    """Whether ``info`` may be inflated under the limits, from its declared sizes alone.

    A refusal is recorded as unscannable; an accepted member is charged to the message's
    decompression budget here, so that a later member sees what is left.
    """
    limits = col.limits
    size = info.file_size
    reason = ""
    if info.flag_bits & _ENCRYPTED_FLAG:
        reason = "encrypted (password-protected) archive member"
    elif size > limits.max_member_bytes:
        reason = f"archive member larger than {limits.max_member_bytes} bytes"
    elif size >= limits.ratio_min_bytes and size > limits.max_ratio * max(info.compress_size, 1):
        reason = f"compression ratio above {limits.max_ratio}:1 (decompression bomb)"
    elif size > col.inflate_left:
        reason = f"decompression limit of {limits.max_inflated_bytes} bytes reached"
    if reason:
        col.unreadable(part, reason)
        return False
    col.inflate_left -= size
    return True


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: str, col: Collector) -> bytes | None:
    """A member's bytes if it passes ``check_member`` and decompresses cleanly, else None."""
    if not check_member(info, part, col):
        return None
    try:
        with archive.open(info) as stream:
            data = stream.read(info.file_size + 1)
    except _READ_ERRORS as exc:
        col.unreadable(part, f"corrupt archive member ({type(exc).__name__})")
        return None
    if len(data) > info.file_size:  # zipfile stops at the declared size; never trust that alone
        col.unreadable(part, "archive member larger than it declares")
        return None
    return data


def walk_members(
    archive: zipfile.ZipFile,
    *,
    part: str,
    depth: int,
    col: Collector,
    on_member: MemberHandler,
    only: Callable[[str], bool] | None = None,
) -> None:
    """List every file member as an attachment and hand its bytes to ``on_member``.

    Members are named ``<part>/<path in archive>``; ``depth`` is the nesting level of the
    members themselves. ``only`` restricts the walk (embedded files of an Office document).
    """
    for info in archive.infolist():
        if info.is_dir() or (only is not None and not only(info.filename)):
            continue
        member = f"{part}/{info.filename}"
        if not col.take_part(member):
            return
        col.attachment(
            part=member, filename=info.filename, content_type="application/octet-stream", size=info.file_size
        )
        data = read_member(archive, info, member, col)
        if data is not None:
            on_member(data, member, info.filename, depth)
