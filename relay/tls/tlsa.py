"""TLSA records and matching a server's certificate chain against them (RFC 6698, RFC 7672).

Pure: DER bytes, records and a time in; a ``TlsaMatch`` out. What SMTP clients use (RFC 7672
section 3.1): DANE-EE(3) and DANE-TA(2), selectors Cert(0) and SPKI(1), matching types Full(0),
SHA2-256(1) and SHA2-512(2). PKIX-TA(0) and PKIX-EE(1) are "unusable" for SMTP (section 3.1.3)
and never match here.

* DANE-EE(3) (section 3.1.1): the leaf matches the record; names and validity dates are NOT
  checked (the DNSSEC-signed record is the authority, not a CA).
* DANE-TA(2) (section 3.1.2): some certificate of the chain, or a trust anchor published in full
  in the record itself ("from DNS": Full(0) matching of a Cert or an SPKI), is the trust anchor;
  every link from the leaf up to it must be signed by the next, intermediates must be CAs and in
  their validity period, and the leaf must carry one of the reference names (section 3.2.3).

The search follows OpenSSL's (``danetest.in``): EE records first, then the anchor nearest to
the leaf. ``depth`` is the chain position of the matching certificate, as OpenSSL reports it.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from relay.tls.names import certificate_matches

MAX_CHAIN = 10
"""Certificates of a presented chain we look at; real chains have 2-4 (OpenSSL's default
verify depth is 100, but nothing legitimate is that deep and each link costs a signature check)."""

DIGEST_SIZES = {1: 32, 2: 64}
"""Matching type -> digest length in bytes (RFC 6698 section 2.1.3)."""


class Usage(enum.IntEnum):
    PKIX_TA = 0
    PKIX_EE = 1
    DANE_TA = 2
    DANE_EE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsaRecord:
    """One TLSA record (RFC 6698 section 2.1)."""

    usage: int
    selector: int
    mtype: int
    data: bytes

    @property
    def usable(self) -> bool:
        """Whether an SMTP client may use it (RFC 7672 section 3.1.3, RFC 6698 section 2.1)."""
        if self.usage not in (Usage.DANE_TA, Usage.DANE_EE) or self.selector not in (0, 1):
            return False
        if self.mtype == 0:
            return bool(self.data)
        return DIGEST_SIZES.get(self.mtype) == len(self.data)

    @classmethod
    def from_text(cls, text: str) -> TlsaRecord:
        """``"3 1 1 ab12..."`` (the presentation format); ``ValueError`` when malformed."""
        usage, selector, mtype, *data = text.split()
        return cls(
            usage=int(usage), selector=int(selector), mtype=int(mtype), data=bytes.fromhex("".join(data))
        )

    def presentation(self) -> str:
        """The record in full presentation format (as in a zone file, and TLS-RPT)."""
        return f"{self.usage} {self.selector} {self.mtype} {self.data.hex()}"

    def __str__(self) -> str:
        shown = self.data.hex()
        return f"{self.usage} {self.selector} {self.mtype} {shown[:64]}{'...' if len(shown) > 64 else ''}"


class TlsaOutcome(enum.Enum):
    MATCH = "match"
    NO_MATCH = "no-match"
    """No usable record matches the chain (RFC 8460 result type ``tlsa-invalid``)."""
    NAME_MISMATCH = "name-mismatch"
    """A DANE-TA anchor matched, but the leaf does not carry the MX host name."""
    CHAIN_INVALID = "chain-invalid"
    """A DANE-TA anchor matched, but a link below it is not validly signed, not a CA or expired."""
    NO_USABLE_RECORDS = "no-usable-records"
    NO_CERTIFICATE = "no-certificate"


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsaMatch:
    outcome: TlsaOutcome
    record: TlsaRecord | None = None
    depth: int = -1
    """Chain position of the matched certificate (0 = leaf); one past the end for an anchor that
    came from DNS in full; -1 when nothing matched."""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is TlsaOutcome.MATCH


def association(record: TlsaRecord, cert: x509.Certificate) -> bytes:
    """The data ``record`` would carry for ``cert`` (RFC 6698 section 2.1.2-2.1.3)."""
    if record.selector == 0:
        selected = cert.public_bytes(serialization.Encoding.DER)
    else:
        selected = spki(cert.public_key())
    if record.mtype == 1:
        return hashlib.sha256(selected).digest()
    if record.mtype == 2:
        return hashlib.sha512(selected).digest()
    return selected


def spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def matches(record: TlsaRecord, cert: x509.Certificate) -> bool:
    return record.usable and association(record, cert) == record.data


def match_tlsa(
    records: Sequence[TlsaRecord], chain: Sequence[bytes], *, names: Sequence[str], now: datetime
) -> TlsaMatch:
    """Authenticate ``chain`` (DER, leaf first, as presented) with ``records`` for ``names``."""
    usable = [r for r in records if r.usable]
    if not usable:
        return TlsaMatch(outcome=TlsaOutcome.NO_USABLE_RECORDS, detail="no DANE-EE(3) or DANE-TA(2) record")
    certs = _parse(chain[:MAX_CHAIN])
    if not certs:
        return TlsaMatch(outcome=TlsaOutcome.NO_CERTIFICATE, detail="the server presented no certificate")
    for record in usable:
        if record.usage == Usage.DANE_EE and matches(record, certs[0]):
            return TlsaMatch(outcome=TlsaOutcome.MATCH, record=record, depth=0, detail="DANE-EE(3) leaf")
    anchors = [r for r in usable if r.usage == Usage.DANE_TA]
    failure: TlsaMatch | None = None
    for candidate in _anchors(anchors, certs):
        end = candidate.path + 1 if candidate.in_chain else candidate.path
        problem = _path_problem(certs[:end], now, anchored=candidate.in_chain)
        if problem:
            failure = failure or TlsaMatch(
                outcome=TlsaOutcome.CHAIN_INVALID,
                record=candidate.record,
                depth=candidate.depth,
                detail=problem,
            )
            continue
        if not certificate_matches(certs[0], names):
            return TlsaMatch(
                outcome=TlsaOutcome.NAME_MISMATCH,
                record=candidate.record,
                depth=candidate.depth,
                detail=f"DANE-TA(2) anchor at depth {candidate.depth}; leaf not valid for {', '.join(names)}",
            )
        return TlsaMatch(
            outcome=TlsaOutcome.MATCH,
            record=candidate.record,
            depth=candidate.depth,
            detail=f"DANE-TA(2) anchor at depth {candidate.depth}",
        )
    return failure or TlsaMatch(outcome=TlsaOutcome.NO_MATCH, detail="no TLSA record matches the chain")


@dataclass(frozen=True, slots=True)
class _Anchor:
    record: TlsaRecord
    depth: int
    path: int
    """How many chain certificates, from the leaf, lead up to the anchor; the anchor itself is
    the next one when it is in the chain (``in_chain``), else it came from DNS and its signature
    on the last of them is already checked."""
    in_chain: bool


def _anchors(records: Sequence[TlsaRecord], certs: Sequence[x509.Certificate]) -> list[_Anchor]:
    """Every way a DANE-TA record anchors the chain, nearest the leaf first."""
    found: list[_Anchor] = []
    for depth, cert in enumerate(certs):
        for record in records:
            if depth >= 1 and matches(record, cert):
                # The anchor is in the chain: links 0..depth-1 are checked up to it.
                found.append(_Anchor(record, depth, depth, in_chain=True))
            if record.mtype == 0 and _signed_by_dns_anchor(cert, record):
                # The anchor came from DNS in full and signed this certificate. OpenSSL counts a
                # full certificate as one more chain element, a bare key as the one it signed.
                found.append(
                    _Anchor(record, depth + 1 if record.selector == 0 else depth, depth + 1, in_chain=False)
                )
    return found


def _signed_by_dns_anchor(cert: x509.Certificate, record: TlsaRecord) -> bool:
    key: object
    try:
        if record.selector == 0:
            anchor = x509.load_der_x509_certificate(record.data)
            if cert.issuer != anchor.subject:
                return False
            key = anchor.public_key()
        else:
            key = serialization.load_der_public_key(record.data)
    except ValueError:
        return False
    return _signature_valid(cert, key)


def _path_problem(path: Sequence[x509.Certificate], now: datetime, *, anchored: bool) -> str:
    """Why the certificates below an anchor do not form a valid path ('' when they do).

    ``anchored``: the last certificate of ``path`` is the anchor itself; it only signs the one
    below it (a trust anchor's own dates and constraints are not checked, RFC 5280 6.1.1 d).
    """
    below = path[:-1] if anchored else path
    for depth, cert in enumerate(below):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return f"certificate at depth {depth} is outside its validity period"
        if depth >= 1 and not _is_ca(cert):
            return f"certificate at depth {depth} is not a CA"
        if depth + 1 < len(path):
            issuer = path[depth + 1]
            if cert.issuer != issuer.subject or not _signature_valid(cert, issuer.public_key()):
                return f"certificate at depth {depth} is not signed by the one at depth {depth + 1}"
    return ""


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _signature_valid(cert: x509.Certificate, key: object) -> bool:
    """Whether ``key`` made ``cert``'s signature (RSA PKCS#1/PSS, ECDSA, EdDSA)."""
    try:
        params = cert.signature_algorithm_parameters
        hash_algorithm = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and hash_algorithm is not None and params is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, params, hash_algorithm)  # type: ignore[arg-type]
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _parse(chain: Sequence[bytes]) -> list[x509.Certificate]:
    """The chain as certificates, stopping at the first that does not parse."""
    certs: list[x509.Certificate] = []
    for der in chain:
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            break
    return certs
