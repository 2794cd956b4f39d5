"""Header edits a policy asks for before delivery, on the raw bytes (the body is untouched).

Only the header section is parsed, field by field with its folded continuation lines (RFC 5322
section 2.2.3), so a removal takes the whole field and nothing else. Added fields go on top,
below the trace fields, and their values are cleaned of line breaks so a policy value can never
inject a header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def _split(data: bytes) -> tuple[list[bytes], bytes, bytes]:
    """Header fields (each with its continuation lines), the separator, and the body."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = data.find(separator)
        if end >= 0:
            head, body = data[:end], data[end + len(separator) :]
            newline = separator[: len(separator) // 2]
            break
    else:
        head, body, newline = data, b"", b"\r\n"
        separator = b""
    fields: list[bytes] = []
    for line in head.split(newline):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += newline + line
        else:
            fields.append(line)
    return fields, separator or newline + newline, body


def _name(field: bytes) -> str:
    match = _FIELD_NAME.match(field)
    return match.group(1).decode("ascii").lower() if match else ""


def _strip_tags(field: bytes, tags: Sequence[str]) -> bytes:
    name, _, value = field.partition(b":")
    for tag in tags:
        literal = re.escape(tag.encode("utf-8"))
        # The tag and one space beside it: the one after it, or before it at the end.
        value, found = re.subn(literal + rb" (?=\S)", b"", value, count=1, flags=re.IGNORECASE)
        if not found:
            value = re.sub(rb" ?" + literal, b"", value, count=1, flags=re.IGNORECASE)
    if value and not value.startswith((b" ", b"\t")):
        value = b" " + value
    return name + b":" + value


def _clean(text: str) -> bytes:
    return " ".join(text.split()).encode("utf-8")


def rewrite_headers(
    data: bytes,
    *,
    remove: Iterable[str] = (),
    add: Sequence[tuple[str, str]] = (),
    strip_subject_tags: Sequence[str] = (),
) -> bytes:
    removed = {name.lower() for name in remove}
    if not removed and not add and not strip_subject_tags:
        return data
    fields, separator, body = _split(data)
    newline = b"\r\n" if separator == b"\r\n\r\n" else b"\n"
    kept = []
    for field in fields:
        name = _name(field)
        if name in removed:
            continue
        if name == "subject" and strip_subject_tags:
            field = _strip_tags(field, strip_subject_tags)
        kept.append(field)
    trace = 0
    while trace < len(kept) and _name(kept[trace]) in ("received", "return-path"):
        trace += 1
    added = [name.encode("ascii") + b": " + _clean(value) for name, value in add]
    kept[trace:trace] = added
    return newline.join(kept) + separator + body
