"""Dev certificates from relay.tls.selfsigned, and the test CA in tests/certs.py, over real TLS."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from certs import IssuedCert, LocalCA
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from relay.errors import UsageError
from relay.tls.selfsigned import build_selfsigned, write_selfsigned

HANDSHAKE_TIMEOUT = 10.0
"""Loopback handshakes take milliseconds; this only stops a broken test from hanging."""


async def fetch_greeting(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, server_hostname: str
) -> bytes:
    """Start a TLS server on loopback port 0, connect with ``client_context`` and read a line."""

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=server_context)
    async with server, asyncio.timeout(HANDSHAKE_TIMEOUT):
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname=server_hostname
        )
        try:
            return await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


def write_pair(tmp_path: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    write_selfsigned(cert, key, hostname=hostname)
    return cert, key


def test_pair_loads_into_ssl_context(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)


@pytest.mark.parametrize(
    ("hostname", "dns", "ips"),
    [
        ("mx.example.test", ["mx.example.test"], []),
        ("relay.example.test.", ["relay.example.test"], []),
        ("localhost", ["localhost"], ["127.0.0.1", "::1"]),
        ("192.0.2.7", [], ["192.0.2.7"]),
        ("2001:db8::25", [], ["2001:db8::25"]),
    ],
    ids=["dns-name", "trailing-dot", "localhost-adds-loopback", "ipv4-literal", "ipv6-literal"],
)
def test_subject_alt_names(tmp_path: Path, hostname: str, dns: list[str], ips: list[str]) -> None:
    cert_path, _ = write_pair(tmp_path, hostname)

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == dns
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(ip) for ip in ips]
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == hostname


def test_certificate_is_a_p256_end_entity_for_the_asked_days() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)

    pair = build_selfsigned(hostname="mx.example.test", days=30, now=now)

    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    assert cert.issuer == cert.subject
    assert cert.version is x509.Version.v3
    assert cert.serial_number > 0
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc == now + timedelta(days=30)
    cert.verify_directly_issued_by(cert)


def test_key_mode_0600_and_no_temp_files(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path)

    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "key.pem"]


@pytest.mark.parametrize("existing", ["cert.pem", "key.pem"], ids=["cert-exists", "key-exists"])
def test_refuses_overwrite(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("keep me")

    with pytest.raises(UsageError, match="exists"):
        write_selfsigned(tmp_path / "cert.pem", tmp_path / "key.pem", hostname="localhost")

    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]
    assert (tmp_path / existing).read_text() == "keep me"


def test_overwrite_replaces_both(tmp_path: Path) -> None:
    cert, key = write_pair(tmp_path)
    old_cert, old_key = cert.read_bytes(), key.read_bytes()
    key.chmod(0o644)

    write_selfsigned(cert, key, hostname="localhost", overwrite=True)

    assert cert.read_bytes() != old_cert
    assert key.read_bytes() != old_key
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)


@pytest.mark.parametrize(
    ("hostname", "days", "problem"),
    [
        ("", 365, "invalid host name"),
        ("-bad.example.test", 365, "invalid host name"),
        ("under_score.example.test", 365, "invalid host name"),
        ("b\u00fccher.example", 365, "invalid host name"),
        ("a" * 64 + ".example.test", 365, "invalid host name"),
        ("a" * 60 + ".example.test", 365, "longer than 64"),
        ("localhost", 0, "1 to 3650 days"),
        ("localhost", 3651, "1 to 3650 days"),
    ],
    ids=[
        "empty",
        "leading-hyphen",
        "underscore",
        "non-ascii",
        "label-too-long",
        "too-long-for-cn",
        "zero-days",
        "over-ten-years",
    ],
)
def test_rejects_bad_arguments(tmp_path: Path, hostname: str, days: int, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        write_selfsigned(tmp_path / "c.pem", tmp_path / "k.pem", hostname=hostname, days=days)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").mkdir()

    with pytest.raises(UsageError, match="cannot write"):
        write_selfsigned(tmp_path / "cert.pem", tmp_path / "key.pem", hostname="localhost", overwrite=True)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "key.pem"]


def test_same_path_for_cert_and_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="different files"):
        write_selfsigned(tmp_path / "both.pem", tmp_path / "both.pem", hostname="localhost")


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_selfsigned(tmp_path / "no" / "c.pem", tmp_path / "no" / "k.pem", hostname="localhost")


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"], ids=["by-name", "by-address"])
async def test_selfsigned_pair_serves_tls_to_a_client_that_trusts_it(
    tmp_path: Path, server_hostname: str
) -> None:
    cert, key = write_pair(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    greeting = await fetch_greeting(server_context, ssl.create_default_context(cafile=cert), server_hostname)

    assert greeting == b"220 ready\r\n"


@pytest.mark.parametrize(
    ("names", "server_hostname"),
    [
        (("mx.example.test",), "mx.example.test"),
        (("*.example.test",), "mx.example.test"),
        ((), "localhost"),
        ((), "127.0.0.1"),
        ((), "::1"),
    ],
    ids=["dns-name", "wildcard", "default-localhost", "default-ipv4", "default-ipv6"],
)
async def test_ca_issued_leaf_verifies(tmp_path: Path, names: tuple[str, ...], server_hostname: str) -> None:
    ca = LocalCA(tmp_path)
    leaf = ca.issue(*names)

    greeting = await fetch_greeting(leaf.server_context(), ca.client_context(), server_hostname)

    assert greeting == b"220 ready\r\n"


@pytest.mark.parametrize(
    ("issue", "server_hostname", "verify_code"),
    [
        (lambda ca: ca.issue("mx.example.test"), "other.example.test", 62),
        (lambda ca: ca.issue("mx.example.test", expired=True), "mx.example.test", 10),
        (lambda ca: ca.issue("mx.example.test", not_yet_valid=True), "mx.example.test", 9),
        (lambda ca: ca.issue("mx.example.test", self_signed=True), "mx.example.test", 18),
    ],
    ids=["wrong-name", "expired", "not-yet-valid", "self-signed"],
)
async def test_ca_issued_leaf_fails_verification(
    tmp_path: Path, issue: Callable[[LocalCA], IssuedCert], server_hostname: str, verify_code: int
) -> None:
    ca = LocalCA(tmp_path)

    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        await fetch_greeting(issue(ca).server_context(), ca.client_context(), server_hostname)

    assert caught.value.verify_code == verify_code


async def test_leaf_from_another_ca_is_not_trusted(tmp_path: Path) -> None:
    ours, theirs = LocalCA(tmp_path / "ours"), LocalCA(tmp_path / "theirs")

    with pytest.raises(ssl.SSLCertVerificationError):
        await fetch_greeting(theirs.issue().server_context(), ours.client_context(), "localhost")


async def test_self_signed_leaf_verifies_when_pinned(tmp_path: Path) -> None:
    leaf = LocalCA(tmp_path).issue("mx.example.test", self_signed=True)

    greeting = await fetch_greeting(
        leaf.server_context(), ssl.create_default_context(cafile=leaf.cert), "mx.example.test"
    )

    assert greeting == b"220 ready\r\n"


def test_ca_files(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path)
    first, second = ca.issue("a.example.test"), ca.issue("a.example.test")

    assert len({first.cert, second.cert}) == 2
    assert first.chain.read_bytes() == first.cert.read_bytes() + ca.ca_cert.read_bytes()
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    leaf = x509.load_pem_x509_certificate(first.cert.read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.ca_cert.read_bytes()))
    with pytest.raises(ValueError, match="both"):
        ca.issue(expired=True, not_yet_valid=True)
