"""Text of XML: XML attachments, and Word, PowerPoint and OpenDocument files (which are XML in ZIP).

Why not python-docx: it reads the body and tables but not headers, footers, footnotes, comments,
text boxes or tracked deletions, and a PHI scanner must see all of those (a deleted-but-tracked
patient name is still in the file the recipient opens). The format is simple enough to read
completely: every ``<w:t>``/``<w:delText>`` (Word) or ``<a:t>`` (PowerPoint, and DrawingML shapes
in Word) in every part that holds document text, with paragraphs as lines.

Parsing streams through the standard library's expat: no tree is built and memory stays flat.
Entity declarations are refused outright (XML in mail and in Office files has no use for them;
they are how "billion laughs" bombs expand), and expat never fetches external entities.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from relay.message.archives import Family, read_member
from relay.message.collect import Collector
from relay.message.decode import tidy_lines

XML_FEED_BYTES = 64 * 1024
"""Chunk size fed to expat; the parser's own buffers stay this small."""


class EntitiesRefused(ValueError):
    """The XML declares entities, which are not expanded (see the module docstring)."""


XML_ERRORS = (expat.ExpatError, EntitiesRefused)
"""What reading malformed or refused XML raises."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layout:
    """Where one ZIP-based format keeps its text, by XML local names (namespaces vary)."""

    members: re.Pattern[str]
    text: frozenset[str] | None
    """Elements whose character data is text; None means all character data is."""
    lines: frozenset[str]
    """Elements that end a line (paragraphs, explicit breaks)."""
    tabs: frozenset[str] = frozenset({"tab"})


_LAYOUTS = {
    # ECMA-376 part 1, 17.3 (paragraphs), 17.10 (headers/footers), 17.11 (notes), 17.13.4 (comments)
    Family.DOCX: _Layout(
        members=re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"),
        text=frozenset({"t", "delText"}),
        lines=frozenset({"p", "br", "cr"}),
    ),
    # ECMA-376 part 1, 19.3 (slides, notes, comments); DrawingML text runs are a:t in a:p
    Family.PPTX: _Layout(
        members=re.compile(r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+|comments/[^/]+)\.xml"),
        text=frozenset({"t", "text"}),
        lines=frozenset({"p", "br", "text"}),
    ),
    # ISO/IEC 26300: body in content.xml, page headers and footers in styles.xml
    Family.ODF: _Layout(
        members=re.compile(r"content\.xml|styles\.xml"),
        text=None,
        lines=frozenset({"p", "h", "line-break"}),
    ),
    # Cell text is read by openpyxl (documents.py); only cell comments are read here.
    Family.XLSX: _Layout(
        members=re.compile(r"xl/(comments\d*|comments/[^/]+|threadedComments/[^/]+)\.xml"),
        text=frozenset({"t", "text"}),
        lines=frozenset({"comment", "threadedComment"}),
    ),
}
_EMBEDDED = re.compile(r"(word|xl|ppt)/embeddings/[^/]+|Object \d+/[^/]+")


def is_embedded(name: str) -> bool:
    """Whether a member of an Office ZIP is an embedded file (OLE object, workbook, package)."""
    return _EMBEDDED.fullmatch(name) is not None


class _TextReader:
    """Expat handlers collecting character data as it streams by, in document order.

    Names are compared without their namespace prefix (``w:t`` is ``t``): prefixes are the
    author's choice, and strict OOXML uses other namespaces for the same elements.
    """

    def __init__(self, layout: _Layout | None) -> None:
        self._layout = layout
        self._inside = 0  # depth inside text elements
        self._chunks: list[str] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if self._layout is None:  # plain XML: attribute values carry data (HL7 CDA: value="...")
            self._chunks.extend(f"{value} " for value in attributes.values() if value.strip())
            return
        if self._layout.text is None or local in self._layout.text:
            self._inside += 1
        if local in self._layout.tabs:
            self._chunks.append("\t")

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if self._layout is None:
            self._chunks.append("\n")
            return
        if self._layout.text is None or local in self._layout.text:
            self._inside -= 1
        if local in self._layout.lines:
            self._chunks.append("\n")

    def data(self, text: str) -> None:
        if self._layout is None or self._inside > 0:
            self._chunks.append(text)

    def text(self) -> str:
        return "".join(self._chunks)


def _refuse_entities(*_declaration: object) -> None:
    raise EntitiesRefused("XML entity declarations are not expanded")


def _parse(data: bytes, layout: _Layout | None) -> str:
    reader = _TextReader(layout)
    parser = expat.ParserCreate()
    parser.buffer_text = True  # one data() call per run of text, not one per line or entity
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.EntityDeclHandler = _refuse_entities
    view = memoryview(data)
    for start in range(0, len(data), XML_FEED_BYTES):
        parser.Parse(bytes(view[start : start + XML_FEED_BYTES]), False)
    parser.Parse(b"", True)
    return reader.text()


def xml_text(data: bytes) -> str:
    """Character data and attribute values of an XML document, one element per line.

    Raises one of ``XML_ERRORS`` for malformed XML or XML declaring entities; the caller then
    scans the raw text instead, which still holds every value.
    """
    return tidy_lines(_parse(data, None))


def office_text(archive: zipfile.ZipFile, kind: Family, *, part: str, col: Collector) -> str:
    """The text of every member of an Office ZIP that holds document text, in archive order.

    A member that cannot be read is recorded as unscannable by ``read_member``; malformed XML
    raises one of ``XML_ERRORS`` and makes the whole document unscannable at the caller's boundary.
    """
    layout = _LAYOUTS.get(kind)
    if layout is None:
        return ""
    texts = []
    for info in archive.infolist():
        if layout.members.fullmatch(info.filename):
            data = read_member(archive, info, f"{part}/{info.filename}", col)
            if data is not None:
                texts.append(_parse(data, layout))
    return "\n".join(text for text in texts if text.strip())
