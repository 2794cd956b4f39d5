"""The ``_mta-sts.DOMAIN`` TXT record (RFC 8461 section 3.1), parsed strictly. Pure.

    sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    sts-field-delim = *WSP ";" *WSP
    sts-version     = "v=STSv1"
    sts-id          = "id=" 1*32(ALPHA / DIGIT)
    sts-extension   = sts-ext-name "=" sts-ext-value
    sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)

Of several TXT records, those not starting with ``v=STSv1`` are discarded; unless exactly one is
left and it is valid, the domain has no available policy (section 3.1). So every problem here is
the value "no record", with the reason for logs and ``relay tls check``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_VERSION = re.compile(r"v=STSv1[ \t]*(?:;|$)")
_DELIM = re.compile(r"[ \t]*;[ \t]*")
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class StsRecord:
    id: str
    """Changes whenever the policy changes (section 3.1); compared with the cached policy's."""
    extensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordLookup:
    """The one valid record, or None with why there is none."""

    record: StsRecord | None
    detail: str = ""


def select_record(texts: Sequence[str]) -> RecordLookup:
    """The policy record among the TXT strings of ``_mta-sts.DOMAIN`` (one string per record)."""
    candidates = [text for text in texts if _VERSION.match(text)]
    if not candidates:
        return RecordLookup(record=None, detail="no TXT record starting with v=STSv1")
    if len(candidates) > 1:
        return RecordLookup(
            record=None, detail=f"{len(candidates)} v=STSv1 TXT records (exactly one allowed)"
        )
    return parse_record(candidates[0])


def parse_record(text: str) -> RecordLookup:
    """Parse one record; the problem is named when it is not valid."""
    version = _VERSION.match(text)
    if version is None:
        return RecordLookup(record=None, detail="does not start with v=STSv1")
    rest = text[version.end() :].strip(" \t")
    fields = _DELIM.split(rest) if rest else []
    if fields and fields[-1] == "":
        fields.pop()  # the optional final delimiter
    record_id = ""
    extensions: list[tuple[str, str]] = []
    for field in fields:
        name, eq, value = field.partition("=")
        if not eq:
            return RecordLookup(record=None, detail=f"field {field!r} is not name=value")
        if name == "id":
            if record_id:
                return RecordLookup(record=None, detail="id given twice")
            if not _ID.fullmatch(value):
                return RecordLookup(record=None, detail=f"id {value!r} is not 1-32 letters and digits")
            record_id = value
        elif _EXT_NAME.fullmatch(name) and _EXT_VALUE.fullmatch(value):
            extensions.append((name, value))
        else:
            return RecordLookup(record=None, detail=f"invalid field {field!r}")
    if not record_id:
        return RecordLookup(record=None, detail="no id field")
    return RecordLookup(record=StsRecord(id=record_id, extensions=tuple(extensions)))
