"""Values describing what a TLS session toward a next hop proved: shared by verify, report, CLI.

``FailureType`` is the vocabulary of RFC 8460 (TLS-RPT) section 4.3, so the reason a hop was
refused is the reason reported to the domain, with no translation table in between.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from relay.model import TlsLevel


class FailureType(enum.Enum):
    """RFC 8460 section 4.3 result types."""

    STARTTLS_NOT_SUPPORTED = "starttls-not-supported"
    CERTIFICATE_HOST_MISMATCH = "certificate-host-mismatch"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_NOT_TRUSTED = "certificate-not-trusted"
    VALIDATION_FAILURE = "validation-failure"
    TLSA_INVALID = "tlsa-invalid"
    DNSSEC_INVALID = "dnssec-invalid"
    DANE_REQUIRED = "dane-required"
    STS_POLICY_FETCH_ERROR = "sts-policy-fetch-error"
    STS_POLICY_INVALID = "sts-policy-invalid"
    STS_WEBPKI_INVALID = "sts-webpki-invalid"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertInfo:
    """The peer's leaf certificate, as recorded with a delivery and shown by ``relay tls check``."""

    subject: str
    issuer: str
    names: tuple[str, ...]
    not_before: str
    """ISO 8601, UTC."""
    not_after: str
    sha256: str
    """Hex SHA-256 of the certificate (a TLSA ``3 0 1`` record's data)."""
    spki_sha256: str
    """Hex SHA-256 of its public key (a TLSA ``3 1 1`` record's data)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsCheck:
    """Whether a session met its requirement, checked after the handshake and before MAIL FROM."""

    ok: bool
    level_reached: TlsLevel
    """NONE without TLS; ENCRYPTED for TLS without (or before) authentication; VERIFIED,
    MTA_STS or DANE when that check passed."""
    reason: str = ""
    failure: FailureType | None = None
    protocol: str = ""
    cipher: str = ""
    certificate: CertInfo | None = None
    chain_length: int = 0
