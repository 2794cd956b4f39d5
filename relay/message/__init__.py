"""Text from every part of a message, for PHI detection (DESIGN.md: ``message``, no I/O).

``extract(data)`` walks a raw RFC 5322 message (``walk``): header fields (``headers``), the MIME
tree, transfer encodings and charsets (``decode``); each part's real format is decided by
``sniff`` and read by ``html`` (HTML), ``documents`` (PDF, Excel), ``office`` (Word, PowerPoint,
OpenDocument, XML) or ``archives`` (ZIP). Everything is bounded by ``ExtractionLimits``; what
cannot be read within them is reported as unscannable, never skipped.
"""

from relay.message.extraction import Extraction, extract
from relay.message.limits import DEFAULT_LIMITS, ExtractionLimits

__all__ = ["DEFAULT_LIMITS", "Extraction", "ExtractionLimits", "extract"]
