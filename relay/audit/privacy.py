"""The privacy step between an event and its record: what is kept, hashed or dropped.

Pure: the key is handed in, never read here. Hashing is HMAC-SHA256 under a secret key, not a
bare hash: the space of e-mail addresses is small enough to enumerate, so an unkeyed hash would
be a thin disguise. A keyed hash is stable, so the same address always gives the same token and
``relay audit search --recipient`` finds it by hashing the question with the same key.

Addresses are lower-cased before hashing: RFC 5321 section 2.4 leaves local-part case to the
receiving host, but in practice ``Jane.Doe@`` and ``jane.doe@`` are one person, and a search
must not miss her because a client typed her name differently.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from relay.audit.events import AuditEvent, DetailValue
from relay.audit.settings import AddressMode, SubjectMode
from relay.errors import AuditError

TOKEN_PREFIX = "h:"
"""Marks a value as a keyed hash, so nobody mistakes it for an address."""
DROPPED_ADDRESS = "[address]"
MIN_KEY_BYTES = 32
"""HMAC-SHA256's own strength; a shorter key would be the weak link (RFC 2104 section 3)."""
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>()\[\],;:\"'@]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")
"""An address inside free text, e.g. a remote reply ``550 5.1.1 <jane@x.org>: unknown user``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditPrivacy:
    """The configured privacy rules, with the key already loaded (see keys.load_privacy)."""

    addresses: AddressMode = AddressMode.KEEP
    subjects: SubjectMode = SubjectMode.DROP
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        hashing = self.addresses is AddressMode.HASH or self.subjects is SubjectMode.HASH
        if hashing and (self.key is None or len(self.key) < MIN_KEY_BYTES):
            raise AuditError(f"audit: the hash modes need a key of at least {MIN_KEY_BYTES} bytes")

    def address_token(self, address: str) -> str:
        """The keyed hash of an address, as stored in a log written in ``hash`` mode."""
        return _token(self._key(), b"address\0", address.lower())

    def subject_token(self, subject: str) -> str:
        return _token(self._key(), b"subject\0", subject)

    def _key(self) -> bytes:
        if self.key is None:
            raise AuditError("audit: no hash key is configured")
        return self.key


def _token(key: bytes, domain: bytes, value: str) -> str:
    # The domain prefix keeps an address and a subject with the same text from sharing a token.
    digest = hmac.new(key, domain + value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return TOKEN_PREFIX + digest.hexdigest()


def redact(event: AuditEvent, privacy: AuditPrivacy) -> dict[str, Any]:
    """The event's fields as they will be written: every key present, absent values ``None``."""
    dropped = privacy.addresses is AddressMode.DROP
    return {
        "kind": event.kind.value,
        "actor": _scrub(event.actor, privacy),
        "queue_id": event.queue_id,
        "sender": _address(event.sender, privacy),
        "recipients": [] if dropped else [_address(r, privacy) for r in event.recipients],
        "subject": _subject(event.subject, privacy),
        "details": {key: _detail(value, privacy) for key, value in event.details.items()},
    }


def _address(address: str | None, privacy: AuditPrivacy) -> str | None:
    if address is None or privacy.addresses is AddressMode.KEEP:
        return address
    if privacy.addresses is AddressMode.HASH:
        return privacy.address_token(address)
    return None


def _subject(subject: str | None, privacy: AuditPrivacy) -> str | None:
    if subject is None or privacy.subjects is SubjectMode.DROP:
        return None
    if privacy.subjects is SubjectMode.HASH:
        return privacy.subject_token(subject)
    return subject


def _detail(value: DetailValue, privacy: AuditPrivacy) -> DetailValue:
    return _scrub(value, privacy) if isinstance(value, str) else value


def _scrub(text: str, privacy: AuditPrivacy) -> str:
    """Apply the address rule to addresses quoted inside free text (remote replies, actors)."""
    if privacy.addresses is AddressMode.KEEP or "@" not in text:
        return text
    if privacy.addresses is AddressMode.HASH:
        return _ADDRESS_IN_TEXT.sub(lambda m: privacy.address_token(m.group(0)), text)
    return _ADDRESS_IN_TEXT.sub(DROPPED_ADDRESS, text)
