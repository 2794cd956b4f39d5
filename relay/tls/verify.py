"""Checking a finished TLS handshake against the hop's requirement, before any mail is sent.

``check_peer`` runs after STARTTLS and before MAIL FROM: a session that fails it is closed with
QUIT and not a byte of the message goes to that server. What it checks per requirement:

* NONE / OPPORTUNISTIC: nothing (TLS or not, the session may go on).
* ENCRYPTED: TLS is up, version 1.2 or later.
* VERIFIED / MTA_STS: the handshake was made with certificate and host-name verification on, for
  this host name (OpenSSL checked the chain against the CAs, the dates and the name; we confirm
  the context did so, so a wiring mistake cannot quietly turn PKIX off). MTA_STS also needs the
  host to match the policy's ``mx`` pattern.
* DANE: the chain presented matches the usable TLSA records (tlsa.py), the handshake having been
  made without PKIX checks (RFC 7672 section 3.1: DANE replaces the CA, it does not add to it).

The chain on Python 3.11: ``SSLObject.getpeercert(binary_form=True)`` gives only the leaf, and
the public ``get_unverified_chain()`` arrives in Python 3.13. CPython 3.10-3.12 already carry
it on the private ``_ssl._SSLSocket`` behind ``SSLObject._sslobj``, returning ``_ssl.Certificate``
objects with ``public_bytes(ENCODING_DER)``. ``peer_chain`` uses the public method when present,
else the private one, else the leaf alone: DANE-EE(3) needs only the leaf; DANE-TA(2) needs the
chain, and without it can still match an anchor published in full in DNS that signed the leaf.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from relay.model import TlsLevel
from relay.tls.levels import HopTls, TlsRequirement
from relay.tls.names import certificate_names, normalise, wildcard_match
from relay.tls.results import CertInfo, FailureType, TlsCheck
from relay.tls.tlsa import TlsaOutcome, match_tlsa, spki

ENCODING_DER = 2
"""``_ssl.ENCODING_DER``: the argument ``_ssl.Certificate.public_bytes`` takes for DER."""

MODERN_TLS = ("TLSv1.2", "TLSv1.3")

_VERIFY_CODES = {
    # OpenSSL X509_V_ERR_* codes (x509_vfy.h) -> RFC 8460 result types.
    2: FailureType.CERTIFICATE_NOT_TRUSTED,  # unable to get issuer certificate
    10: FailureType.CERTIFICATE_EXPIRED,
    18: FailureType.CERTIFICATE_NOT_TRUSTED,  # self-signed certificate
    19: FailureType.CERTIFICATE_NOT_TRUSTED,  # self-signed certificate in chain
    20: FailureType.CERTIFICATE_NOT_TRUSTED,  # unable to get local issuer certificate
    21: FailureType.CERTIFICATE_NOT_TRUSTED,  # unable to verify the first certificate
    62: FailureType.CERTIFICATE_HOST_MISMATCH,
    64: FailureType.CERTIFICATE_HOST_MISMATCH,  # IP address mismatch
}

_VERIFY_TEXTS = (
    ("certificate has expired", FailureType.CERTIFICATE_EXPIRED),
    ("hostname mismatch", FailureType.CERTIFICATE_HOST_MISMATCH),
    ("ip address mismatch", FailureType.CERTIFICATE_HOST_MISMATCH),
    ("self-signed certificate", FailureType.CERTIFICATE_NOT_TRUSTED),
    ("self signed certificate", FailureType.CERTIFICATE_NOT_TRUSTED),
    ("unable to get local issuer certificate", FailureType.CERTIFICATE_NOT_TRUSTED),
    ("unable to get issuer certificate", FailureType.CERTIFICATE_NOT_TRUSTED),
)


def peer_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[bytes, ...]:
    """The certificates the peer presented, DER, leaf first (see the module docstring)."""
    public: Any = getattr(ssl_object, "get_unverified_chain", None)
    if public is not None:  # Python 3.13+
        return tuple(
            bytes(c) if isinstance(c, bytes | bytearray) else c.public_bytes(ENCODING_DER) for c in public()
        )
    private: Any = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if private is not None:
        chain = private()
        if chain:
            return tuple(cert.public_bytes(ENCODING_DER) for cert in chain)
    leaf = ssl_object.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


def cert_info(der: bytes) -> CertInfo | None:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        names=certificate_names(cert),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        spki_sha256=hashlib.sha256(spki(cert.public_key())).hexdigest(),
    )


@dataclass(frozen=True, slots=True)
class _Session:
    """What the handshake established, copied into every ``TlsCheck`` made from it."""

    protocol: str
    cipher: str
    certificate: CertInfo | None
    chain_length: int

    def check(self, ok: bool, level: TlsLevel, reason: str, failure: FailureType | None = None) -> TlsCheck:
        return TlsCheck(
            ok=ok,
            level_reached=level,
            reason=reason,
            failure=failure,
            protocol=self.protocol,
            cipher=self.cipher,
            certificate=self.certificate,
            chain_length=self.chain_length,
        )


def check_peer(
    hop: HopTls, ssl_object: ssl.SSLObject | ssl.SSLSocket | None, host: str, *, now: datetime
) -> TlsCheck:
    """Whether the session with ``host`` (the name the hop was planned and SNI'd for) meets
    ``hop.requirement``; ``ssl_object`` is None when the session is not encrypted."""
    requirement = hop.requirement
    if ssl_object is None:
        if requirement.requires_tls:
            return TlsCheck(
                ok=False,
                level_reached=TlsLevel.NONE,
                failure=FailureType.STARTTLS_NOT_SUPPORTED,
                reason=f"{host} did not offer STARTTLS; {requirement.value} requires TLS",
            )
        return TlsCheck(ok=True, level_reached=TlsLevel.NONE, reason="no TLS")
    chain = peer_chain(ssl_object)
    cipher = ssl_object.cipher()
    session = _Session(
        ssl_object.version() or "",
        cipher[0] if cipher else "",
        cert_info(chain[0]) if chain else None,
        len(chain),
    )
    if requirement.requires_tls and session.protocol not in MODERN_TLS:
        return session.check(
            False,
            TlsLevel.ENCRYPTED,
            f"{session.protocol} is older than TLS 1.2",
            FailureType.VALIDATION_FAILURE,
        )
    if requirement.pkix:
        return _check_pkix(hop, ssl_object, host, session)
    if requirement is TlsRequirement.DANE:
        match = match_tlsa(hop.tlsa, chain, names=(host,), now=now)
        if match.ok:
            return session.check(True, TlsLevel.DANE, match.detail)
        failure = (
            FailureType.CERTIFICATE_HOST_MISMATCH
            if match.outcome is TlsaOutcome.NAME_MISMATCH
            else FailureType.TLSA_INVALID
        )
        return session.check(
            False, TlsLevel.ENCRYPTED, f"DANE {match.outcome.value}: {match.detail}", failure
        )
    return session.check(True, TlsLevel.ENCRYPTED, "encrypted, not authenticated")


def _check_pkix(
    hop: HopTls, ssl_object: ssl.SSLObject | ssl.SSLSocket, host: str, session: _Session
) -> TlsCheck:
    context = ssl_object.context
    verified_for = normalise(ssl_object.server_hostname or "")
    if (
        context.verify_mode != ssl.CERT_REQUIRED
        or not context.check_hostname
        or verified_for != normalise(host)
    ):
        return session.check(
            False,
            TlsLevel.ENCRYPTED,
            f"the session with {host} was not made with PKIX verification for that name",
            FailureType.VALIDATION_FAILURE,
        )
    if hop.requirement is not TlsRequirement.MTA_STS:
        return session.check(True, TlsLevel.VERIFIED, "PKIX-valid")
    if hop.mx_pattern is None or not wildcard_match(hop.mx_pattern, host):
        return session.check(
            False,
            TlsLevel.VERIFIED,
            f"{host} is not listed in the MTA-STS policy",
            FailureType.VALIDATION_FAILURE,
        )
    return session.check(
        True, TlsLevel.MTA_STS, f"PKIX-valid, listed in the MTA-STS policy as {hop.mx_pattern}"
    )


def handshake_failure(error: BaseException | str) -> FailureType:
    """The RFC 8460 result type for a failed handshake (the exception, or the text it left in a
    reply such as ``connect to mx[1.2.3.4]:25: [SSL: CERTIFICATE_VERIFY_FAILED] ...``)."""
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_code in _VERIFY_CODES:
        return _VERIFY_CODES[error.verify_code]
    text = str(error).lower()
    return next(
        (failure for needle, failure in _VERIFY_TEXTS if needle in text), FailureType.VALIDATION_FAILURE
    )
