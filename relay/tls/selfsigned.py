"""Development certificates: a self-signed pair for the ingress STARTTLS listener.

Production uses a certificate from a real CA. This exists so the relay can offer STARTTLS (and so
AUTH, which is refused before TLS) on a laptop or test box without reaching for openssl(1).

EC P-256 because it is small, fast to generate and accepted by every TLS stack a submitting
client uses. The certificate is an end-entity one (CA=False): a client that wants to verify it
trusts that one certificate, it cannot be used to sign others.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from relay.errors import UsageError
from relay.files import write_atomically

MAX_DAYS = 3650
"""A dev certificate valid for more than ten years is a mistake, not a convenience."""

CLOCK_SKEW = timedelta(minutes=5)
"""Validity starts this far in the past, so a client whose clock runs a little behind accepts a
certificate generated a moment ago."""

MAX_COMMON_NAME = 64
"""ub-common-name (RFC 5280 appendix A.1); longer host names do not fit in the CN."""

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
"""One DNS label, letters-digits-hyphen (RFC 1123 section 2.1)."""

_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfSignedPair:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes


def build_selfsigned(*, hostname: str, days: int, now: datetime) -> SelfSignedPair:
    """Make a self-signed server certificate for ``hostname``; no disk, no clock.

    ``hostname`` is a DNS name or an IP literal. ``localhost`` also gets the loopback addresses
    127.0.0.1 and ::1, so clients that connect by address verify too.
    """
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"certificate lifetime must be 1 to {MAX_DAYS} days, not {days}")
    names = _subject_alt_names(hostname)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=days))
        # RFC 6125 section 6.4.4: clients match the SAN; the CN is only for humans reading it.
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SelfSignedPair(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def write_selfsigned(
    cert_path: Path,
    key_path: Path,
    *,
    hostname: str,
    days: int = 365,
    overwrite: bool = False,
) -> None:
    """Generate a pair and write it: the key mode 0600, the certificate 0644, each atomically.

    Existing files are kept unless ``overwrite`` is true, since one of them may be a real key.
    The key is written first: if the certificate then fails, the old certificate no longer matches
    and TLS setup fails loudly at start rather than serving something unexpected.
    """
    if cert_path.absolute() == key_path.absolute():
        raise UsageError("certificate and key must be different files")
    if not overwrite:
        for path in (cert_path, key_path):
            if os.path.lexists(path):
                raise UsageError(f"{path} exists; overwrite it explicitly to replace it")
    pair = build_selfsigned(hostname=hostname, days=days, now=datetime.now(UTC))
    write_atomically(key_path, pair.key_pem, mode=0o600)
    write_atomically(cert_path, pair.cert_pem, mode=0o644)


def _subject_alt_names(hostname: str) -> list[x509.GeneralName]:
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return [x509.IPAddress(address)]
    name = hostname.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UsageError(
            f"invalid host name {hostname!r}: use a DNS name (ASCII letters, digits, hyphens; "
            "internationalised names in their xn-- form) or an IP address"
        )
    if len(hostname) > MAX_COMMON_NAME:
        raise UsageError(f"host name {hostname!r} is longer than {MAX_COMMON_NAME} characters")
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    if name.lower() == "localhost":
        names.extend(x509.IPAddress(address) for address in _LOOPBACK)
    return names
