"""``relay tls check DOMAIN``: the live preflight against loopback servers and the test DNS server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from dnsserver import DnsServer
from tlsservers import Answer, PolicyServer, StarttlsServer, policy_body, publish

from relay.cli.tls import cmd_check
from relay.config.schema import Config, DeliveryConfig, HostPort
from relay.tls.settings import TlsOutboundConfig


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def https(ca: LocalCA) -> Iterator[PolicyServer]:
    server = PolicyServer(ca).start()
    yield server
    server.stop()


def _config(dns: DnsServer, port: int, tmp_path: Path, **extra: object) -> Config:
    return Config(
        hostname="relay.test",
        spool=tmp_path / "spool",
        dns=dns.dns_config(timeout=1.0),
        delivery=DeliveryConfig(port=port, connect_timeout=5.0),
        **extra,  # type: ignore[arg-type]
    )


def _spki_sha256(pem: Path) -> str:
    key = x509.load_pem_x509_certificate(pem.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def test_check_reports_dane_sts_and_the_level_reached(
    dns_server: DnsServer, https: PolicyServer, ca: LocalCA, tmp_path: Path
) -> None:
    leaf = ca.issue("mx1.check.test")
    dns_server.add("check.test.", "MX", "10 mx1.check.test.")
    dns_server.add("mx1.check.test.", "A", "127.0.0.1")
    dns_server.add("_25._tcp.mx1.check.test.", "TLSA", f"3 1 1 {_spki_sha256(leaf.cert)}")
    dns_server.sign("check.test.")
    publish(dns_server, "check.test", "v=STSv1; id=42")
    https.serve("mta-sts.check.test", Answer(body=policy_body(mx=("mx1.check.test",))))
    settings = TlsOutboundConfig(ca_file=ca.ca_cert, mta_sts_port=https.port, fetch_timeout=3.0)
    with StarttlsServer(leaf) as mx:
        code, text = cmd_check("check.test", _config(dns_server, mx.port, tmp_path), settings=settings)
    assert code == 0, text
    for expected in (
        "10 mx1.check.test [127.0.0.1]",
        "MTA-STS: valid (id 42)",
        "| mode: enforce",
        "mx1.check.test: secure",
        "STARTTLS: offered, TLSv1.",
        "names: mx1.check.test",
        "PKIX for mx1.check.test: ok",
        "DANE: match",
        "capability: dane",
        "the relay would reach today (tls: best): dane via mx1.check.test",
        "recipient_tls capability: dane (mx1.check.test: DNSSEC-signed TLSA records)",
    ):
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert not (tmp_path / "spool" / "tls").exists()  # a check does not write the relay's cache


def test_check_without_starttls_under_enforce_cannot_deliver(
    dns_server: DnsServer, https: PolicyServer, ca: LocalCA, tmp_path: Path
) -> None:
    dns_server.add("strip.test.", "MX", "10 mx.strip.test.")
    dns_server.add("mx.strip.test.", "A", "127.0.0.1")
    publish(dns_server, "strip.test", "v=STSv1; id=1")
    https.serve("mta-sts.strip.test", Answer(body=policy_body(mx=("mx.strip.test",))))
    settings = TlsOutboundConfig(ca_file=ca.ca_cert, mta_sts_port=https.port, fetch_timeout=3.0)
    with StarttlsServer(None) as mx:
        code, text = cmd_check("strip.test", _config(dns_server, mx.port, tmp_path), settings=settings)
    assert code == 1, text
    assert "STARTTLS: not offered" in text
    assert "the relay would refuse it: mta-sts required and not met" in text
    assert "recipient_tls capability: mta-sts (mx.strip.test: MTA-STS policy)" in text


def test_check_wrong_certificate_and_routes(dns_server: DnsServer, ca: LocalCA, tmp_path: Path) -> None:
    settings = TlsOutboundConfig(ca_file=ca.ca_cert, mta_sts=False)
    with StarttlsServer(ca.issue("127.0.0.1", expired=True)) as mx:
        config = _config(
            dns_server, 1, tmp_path, routes={"routed.test": HostPort(host="127.0.0.1", port=mx.port)}
        )
        code, text = cmd_check("routed.test", config, settings=settings)
    assert code == 0, text
    assert "static route: 127.0.0.1:" in text
    assert "PKIX for 127.0.0.1: failed (certificate-expired)" in text
    assert "(EXPIRED)" in text
    assert "the relay would reach today (tls: best): encrypted via 127.0.0.1" in text
    assert "recipient_tls capability: encrypted (127.0.0.1[127.0.0.1]:" in text


@pytest.mark.parametrize("domain", [".bad.test", "not a domain", "[127.0.0.1]"])
def test_check_refuses_bad_domains(domain: str, tmp_path: Path) -> None:
    code, text = cmd_check(domain, Config(spool=tmp_path))
    assert code == 2 and "not a domain name" in text


def test_check_unknown_domain(dns_server: DnsServer, tmp_path: Path) -> None:
    code, text = cmd_check(
        "nowhere.test", _config(dns_server, 25, tmp_path), settings=TlsOutboundConfig(mta_sts=False)
    )
    assert code == 1 and "MX: no-such-domain" in text
