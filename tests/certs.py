"""A tiny certificate authority for TLS tests (STARTTLS on ingress, TLS toward MX hosts).

Each ``LocalCA`` is a fresh root with its own key, written into a directory you give it
(``tmp_path``), so no test depends on the system trust store and no two tests share a CA. It
issues leaf certificates for DNS names and IP addresses, including broken ones to test that
verification fails. All keys are EC P-256: generating one takes about a millisecond.

Typical use (tests import it as ``certs``; pytest puts ``tests/`` on ``sys.path``)::

    from certs import LocalCA

    async def test_starttls(tmp_path: Path) -> None:
        ca = LocalCA(tmp_path)
        leaf = ca.issue("mx.example.test")            # names default to localhost, 127.0.0.1, ::1
        server_tls = leaf.server_context()            # asyncio ssl=, aiosmtpd tls_context=
        client_tls = ca.client_context()              # trusts this CA only, checks host names
        # the same by hand: ssl.create_default_context(cafile=ca.ca_cert)
        # aiosmtplib: SMTP(..., tls_context=client_tls) or cert_bundle=str(ca.ca_cert)

Certificates that must fail, and what an ``ssl.SSLCertVerificationError`` then says
(``verify_code`` is OpenSSL's X509_V_ERR_* number)::

    ca.issue("mx.example.test", expired=True)         # 10 "certificate has expired"
    ca.issue("mx.example.test", not_yet_valid=True)   #  9 "certificate is not yet valid"
    ca.issue("other.example.test")                    # 62 "Hostname mismatch" for mx.example.test
    ca.issue("mx.example.test", self_signed=True)     # 18 "self-signed certificate"

A self-signed leaf verifies only against itself (``cafile=leaf.cert``), as a pinned certificate
would. Every leaf carries both serverAuth and clientAuth, so it can also be a client certificate.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
"""What a leaf is issued for when no names are given: every way a test reaches loopback."""

_SKEW = timedelta(hours=1)
"""Valid certificates start an hour ago, so a freshly issued one is valid on any test host."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCert:
    """The PEM files of one leaf certificate."""

    cert: Path
    """The leaf certificate alone; as ``cafile`` it pins a self-signed leaf."""
    key: Path
    """Its private key, unencrypted PKCS#8, mode 0600."""
    chain: Path
    """The leaf followed by its issuer: what a server passes to ``load_cert_chain``."""

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate; does not ask for client certs."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.chain, self.key)
        return context


class LocalCA:
    """A root CA whose certificate is ``ca_cert``; issues leaves into the same directory.

    Files: ``ca.pem`` and ``ca.key`` for the root, and per leaf ``<stem>.pem`` (leaf),
    ``<stem>.key`` and ``<stem>-chain.pem``. ``now`` fixes the time validity is counted from.
    """

    def __init__(self, directory: Path, *, name: str = "Relay Test CA", now: datetime | None = None) -> None:
        self.directory = directory
        self.now = now or datetime.now(UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=60))
            .not_valid_after(self.now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_cert = directory / "ca.pem"
        """The trust anchor: ``ssl.create_default_context(cafile=ca.ca_cert)``."""
        self.ca_key = directory / "ca.key"
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_cert.write_bytes(_pem(self._cert))
        _write_key(self.ca_key, self._key)
        self._numbers = itertools.count(1)

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts this CA alone and checks host names."""
        return ssl.create_default_context(cafile=self.ca_cert)

    def issue(
        self,
        *names: str,
        expired: bool = False,
        not_yet_valid: bool = False,
        self_signed: bool = False,
        stem: str | None = None,
    ) -> IssuedCert:
        """Issue a leaf for ``names`` (DNS names, ``*.`` wildcards or IP addresses).

        ``expired``: validity ended yesterday. ``not_yet_valid``: it starts tomorrow.
        ``self_signed``: signed by its own key instead of this CA. ``stem`` names the files;
        by default a counter and the first name, so leaves never overwrite each other.
        """
        if expired and not_yet_valid:
            raise ValueError("a certificate cannot be both expired and not yet valid")
        names = names or DEFAULT_NAMES
        number = next(self._numbers)
        stem = stem or f"{number:02d}-{re.sub(r'[^A-Za-z0-9.-]', '_', names[0])}"
        if expired:
            start, end = self.now - timedelta(days=30), self.now - timedelta(days=1)
        elif not_yet_valid:
            start, end = self.now + timedelta(days=1), self.now + timedelta(days=30)
        else:
            start, end = self.now - _SKEW, self.now + timedelta(days=30)

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
        signer, issuer = (key, subject) if self_signed else (self._key, self._cert.subject)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        )
        cert = builder.sign(signer, hashes.SHA256())

        issued = IssuedCert(
            cert=self.directory / f"{stem}.pem",
            key=self.directory / f"{stem}.key",
            chain=self.directory / f"{stem}-chain.pem",
        )
        issued.cert.write_bytes(_pem(cert))
        issued.chain.write_bytes(_pem(cert) + (b"" if self_signed else _pem(self._cert)))
        _write_key(issued.key, key)
        return issued


def _general_names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return general


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
