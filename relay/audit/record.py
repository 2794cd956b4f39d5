"""The record format: canonical JSON lines, each bound to the one before it. Pure.

One record is one line: a JSON object in canonical form (keys sorted, no whitespace, UTF-8,
non-ASCII characters not escaped), then ``\\n``. Every record has exactly these keys::

    actor details hash kind prev queue_id recipients sender seq subject ts

``seq``  1, 2, 3 ... across all files of the node, never reset.
``ts``   RFC 3339 UTC with microseconds, fixed width: ``2025-01-31T23:59:59.123456Z``.
``prev`` hex SHA-256 of the previous record's line exactly as stored (without its ``\\n``);
         ``GENESIS`` (64 zeros) for the first record ever written.
``hash`` hex SHA-256 of the canonical encoding of this record without the ``hash`` key.

``hash`` lets one line be checked on its own (an edit inside a line is caught at that line);
``prev`` ties each line to the exact bytes of the one before (a deleted, inserted or moved line
is caught at the next one). Neither needs a secret, so they catch careless or partial edits;
seals (Ed25519 signatures over ``upto_seq`` and ``upto_hash``, see ``seal_message``) are what an
attacker who rewrites the whole chain cannot forge.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relay.errors import AuditError

GENESIS = "0" * 64
FORMAT_VERSION = 1
"""Written into every ``file_start`` record, so a future format can be told apart."""
FIELDS = frozenset(
    {"actor", "details", "hash", "kind", "prev", "queue_id", "recipients", "sender", "seq", "subject", "ts"}
)
_UNHASHED = FIELDS - {"hash"}
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TS_WIDTH = 27
MAX_LINE_BYTES = 1024 * 1024
"""A record longer than this is refused: 10,000 hashed recipients fit in under 700 KiB."""
SEAL_DOMAIN = b"relay-audit-seal-v1"
"""Prefix of every signed message, so a seal signature cannot be replayed as anything else."""
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
"""Shape only (strptime costs more than the rest of a record's checks); the hash vouches for the value."""


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""Built once: ``json.dumps`` with options builds a new encoder on every call."""


def canonical(obj: Mapping[str, Any]) -> bytes:
    """The one byte encoding of a record that both writer and verifier produce."""
    text = _ENCODER.encode(obj)
    # A lone surrogate (from a header decoded with surrogateescape) has no UTF-8 form; written
    # as a JSON \\udcXX escape it round-trips through json.loads back to the same string.
    return text.encode("utf-8", "backslashreplace")


def format_ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(TS_FORMAT)


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, TS_FORMAT).replace(tzinfo=UTC)


def line_digest(line: bytes) -> str:
    """What the next record's ``prev`` must be: SHA-256 of this line's bytes, newline excluded."""
    return hashlib.sha256(line).hexdigest()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def build_line(fields: Mapping[str, Any], *, seq: int, ts: str, prev: str) -> bytes:
    """A complete record line (without the newline) for redacted event fields."""
    _, line = encode(dict(fields, seq=seq, ts=ts, prev=prev))
    if len(line) > MAX_LINE_BYTES:
        raise AuditError(f"audit: a record of {len(line)} bytes exceeds {MAX_LINE_BYTES}")
    return line


def encode(unhashed: Mapping[str, Any]) -> tuple[str, bytes]:
    """The ``hash`` of a record given without it, and its line: one pass of the JSON encoder.

    Sorted, ``hash`` falls between ``details`` and ``kind``, so the canonical encoding without
    it and the final line share their two halves. Writing and verifying (the hot paths) both
    use this; ``record_hash`` is the same definition written the obvious way.
    """
    if unhashed.keys() != _UNHASHED:
        raise AuditError(f"audit: record fields {sorted(unhashed)} are not {sorted(_UNHASHED)}")
    rest = dict(unhashed)
    before = canonical({"actor": rest.pop("actor"), "details": rest.pop("details")})[:-1]
    after = canonical(rest)[1:]
    digest = hashlib.sha256(before + b"," + after).hexdigest()
    return digest, before + b',"hash":"' + digest.encode("ascii") + b'",' + after


def internal_fields(kind: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Fields of a record the log writes about itself (file_start, seal, recovered)."""
    return {
        "kind": kind,
        "actor": "audit",
        "queue_id": None,
        "sender": None,
        "recipients": [],
        "subject": None,
        "details": dict(details),
    }


def shape_problem(record: object) -> str | None:
    """Why a parsed line is not a record of this format, or None when it is one."""
    if not isinstance(record, dict):
        return "not a JSON object"
    keys = set(record)
    if keys != FIELDS:
        missing, extra = sorted(FIELDS - keys), sorted(keys - FIELDS)
        return f"wrong fields (missing {missing}, unexpected {extra})"
    seq = record["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "seq is not a positive integer"
    if not isinstance(record["ts"], str) or not _TS.match(record["ts"]):
        return "ts is not an RFC 3339 UTC timestamp"
    for key in ("prev", "hash"):
        if not isinstance(record[key], str) or not _HEX64.match(record[key]):
            return f"{key} is not a hex SHA-256"
    if not isinstance(record["kind"], str) or not isinstance(record["actor"], str):
        return "kind and actor must be strings"
    if not isinstance(record["details"], dict):
        return "details is not an object"
    recipients = record["recipients"]
    if not isinstance(recipients, list) or not all(isinstance(r, str | None) for r in recipients):
        return "recipients is not a list of strings"
    for key in ("queue_id", "sender", "subject"):
        if record[key] is not None and not isinstance(record[key], str):
            return f"{key} is not a string"
    return None


def seal_message(upto_seq: int, upto_hash: str) -> bytes:
    """The bytes a seal signs: ``relay-audit-seal-v1:<upto_seq>:<upto_hash>`` in ASCII."""
    return b"%s:%d:%s" % (SEAL_DOMAIN, upto_seq, upto_hash.encode("ascii"))


def seal_details(upto_seq: int, upto_hash: str, key: Ed25519PrivateKey, fingerprint: str) -> dict[str, Any]:
    signature = key.sign(seal_message(upto_seq, upto_hash))
    return {"upto_seq": upto_seq, "upto_hash": upto_hash, "key": fingerprint, "sig": signature.hex()}


def seal_signature_ok(details: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    try:
        signature = bytes.fromhex(str(details["sig"]))
        public_key.verify(signature, seal_message(int(details["upto_seq"]), str(details["upto_hash"])))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True
