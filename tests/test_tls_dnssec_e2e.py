"""DANE through a real validating resolver: signed zones -> unbound -> the running relay.

tests/test_tls_e2e.py lets tests/dnsserver.py play the validating resolver (it sets AD for zones
it is told are signed). Here nothing plays: the zones are DNSSEC-signed with dnspython and served
by an authoritative server on loopback, and Debian's unbound validates them with the zones' DS
records as trust anchors (tests/dnssec.py, which says why this and not knot). The relay's
``dns.nameservers`` is unbound alone, so every MX, A, TLSA and MTA-STS lookup takes the path
it takes in production, and the AD bit the relay trusts is one unbound set after validating.

The zones, built once per module with the certificates the MX servers present:

* ``dane.test.`` (signed): ``dane.test`` whose TLSA 3 1 1 matches its MX's self-signed
  certificate, and ``mismatch.dane.test`` whose TLSA names another key (its MX's certificate is
  PKIX-valid under the CA the relay trusts, so only DANE can refuse it);
* ``bogus.test.`` (signed): its TLSA RRset was replaced after signing by one for the key the MX
  presents, as an attacker without the zone's key would; the old RRSIG no longer matches;
* ``plain.test.`` (unsigned, no trust anchor covers it): a TLSA record naming another key,
  which must not be applied.

Each test starts its own relay and STARTTLS server (on ``ADDRESS``, where every MX host
resolves); unbound and the authoritative server are started once for the module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from certs import IssuedCert, LocalCA
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from dnssec import AuthoritativeServer, AuthZone, Records, Unbound, unbound_binary
from helpers import SENDER, message_bytes, wait_until
from relayproc import RelaySetup, queue_list, spooled
from sink import Sink
from smtpclient import submit
from tlsservers import StarttlsServer

from relay.tls.dnsquery import DnsClient, DnsKind

pytestmark = pytest.mark.slow

ADDRESS = "127.0.0.2"
"""Every MX host's A record, and where the test's STARTTLS server listens."""
WAIT = 20.0
"""Bound on every wait for the relay (a delivery attempt, a retry one second later)."""
SECRET = "BODY-MARKER-7741"
"""In every message body; must reach no server that failed its requirement, and no log."""

POLICY = """\
rules:
  - name: tls-dane
    when: {subject: {contains: "[tls-dane]"}}
    then: {deliver: {tls: dane, fallback: defer}}
  - name: tls-best
    when: {subject: {contains: "[tls-best]"}}
    then: {deliver: {tls: best, minimum: encrypted, fallback: bounce}}
"""


def spki_sha256(cert: IssuedCert) -> str:
    """TLSA 3 1 1 data of a certificate: SHA-256 of its SubjectPublicKeyInfo."""
    key = x509.load_pem_x509_certificate(cert.cert.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def domain_records(domain: str, tlsa: str) -> Records:
    """``domain`` MX 10 ``mx.DOMAIN``, its A record ``ADDRESS``, and its TLSA 3 1 1 ``tlsa``."""
    host = f"mx.{domain}."
    return {
        f"{domain}.": {"MX": [f"10 {host}"]},
        host: {"A": [ADDRESS]},
        f"_25._tcp.{host}": {"TLSA": [f"3 1 1 {tlsa}"]},
    }


@dataclass(frozen=True)
class Chain:
    ca: LocalCA
    """The CA the relay trusts (``outbound_tls.ca_file``)."""
    presented: dict[str, IssuedCert]
    """Recipient domain -> the certificate its MX server presents."""
    auth: AuthoritativeServer
    resolver: Unbound


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    unbound_binary()  # fails here, once, with the install hint when unbound is missing
    ca = LocalCA(tmp_path_factory.mktemp("ca"))
    presented = {
        "dane.test": ca.issue("unrelated.name.test", self_signed=True),  # DANE-EE checks no name
        "mismatch.dane.test": ca.issue("mx.mismatch.dane.test"),
        "bogus.test": ca.issue("mx.bogus.test"),
        "plain.test": ca.issue("mx.plain.test", self_signed=True),
    }
    other = spki_sha256(ca.issue("another.key.test"))
    signed = AuthZone(
        "dane.test.",
        {
            **domain_records("dane.test", spki_sha256(presented["dane.test"])),
            **domain_records("mismatch.dane.test", other),
        },
        signed=True,
    )
    bogus = AuthZone("bogus.test.", domain_records("bogus.test", other), signed=True)
    bogus.tamper("_25._tcp.mx.bogus.test.", "TLSA", f"3 1 1 {spki_sha256(presented['bogus.test'])}")
    plain = AuthZone("plain.test.", domain_records("plain.test", other), signed=False)
    zones = [signed, bogus, plain]
    with (
        AuthoritativeServer(zones) as auth,
        Unbound(tmp_path_factory.mktemp("unbound"), auth, zones) as resolver,
    ):
        yield Chain(ca=ca, presented=presented, auth=auth, resolver=resolver)


# -- running the relay against it --------------------------------------------------------------


def start_relay(relay: RelaySetup, chain: Chain, port: int, sender_sink: Sink | None = None) -> None:
    """The relay, resolving through unbound only, delivering to ``port`` and trusting the CA."""
    (relay.directory / "policies" / "10-dane.yaml").write_text(POLICY)
    resolver = chain.resolver.nameserver
    relay.configure(
        dns={"nameservers": [f"{resolver.host}:{resolver.port}"], "timeout": "5s"},
        delivery={"port": port},
        routes={"clinic.test": sender_sink.address} if sender_sink is not None else {},
        outbound_tls={"ca_file": str(chain.ca.ca_cert)},
    )
    relay.start()


def send(relay: RelaySetup, recipient: str, tag: str) -> str:
    return submit(relay, SENDER, [recipient], message_bytes(subject=f"{tag} results", body=SECRET))


def finish(relay: RelaySetup) -> str:
    """Stop the relay (it must exit cleanly) and return its log, which holds no body text."""
    assert relay.stop() == 0
    log = relay.log()
    assert SECRET not in log
    return log


def tls_reports(relay: RelaySetup, host: str) -> list[dict[str, Any]]:
    """The TLS-RPT results the relay logged for MX host ``host`` (complete lines), oldest first."""
    found = []
    for path in sorted(relay.directory.glob("**/tls/reports/*.jsonl")):
        for line in path.read_text().splitlines(keepends=True):
            if line.endswith("\n") and (record := json.loads(line))["receiving_mx_hostname"] == host:
                found.append(record)
    return found


def assert_nothing_sent(server: StarttlsServer) -> None:
    """Not one byte of the envelope or the message: the session ended before ``MAIL``."""
    assert server.messages == []
    assert not {"MAIL", "RCPT", "DATA"} & set(server.commands), server.commands


def deferred_entry(relay: RelaySetup, qid: str, deferrals: int) -> dict[str, Any]:
    """The queue entry of ``qid`` once the relay deferred it ``deferrals`` times."""
    wait_until(
        lambda: relay.log().count(f"event=deferred qid={qid} ") >= deferrals,
        WAIT,
        f"{deferrals} deferrals of {qid}",
    )
    [entry] = [e for e in queue_list(relay) if e["queue_id"] == qid]
    assert entry["state"] == "deferred", entry
    return entry


# -- the resolver path itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rdtype", "kind", "authenticated"),
    [
        pytest.param("dane.test.", "MX", DnsKind.FOUND, True, id="signed-mx"),
        pytest.param("_25._tcp.mx.dane.test.", "TLSA", DnsKind.FOUND, True, id="signed-tlsa"),
        pytest.param("mx.dane.test.", "AAAA", DnsKind.NODATA, True, id="signed-nodata"),
        pytest.param("absent.dane.test.", "A", DnsKind.NXDOMAIN, True, id="signed-nxdomain"),
        pytest.param("mx.plain.test.", "A", DnsKind.FOUND, False, id="unsigned-a"),
        pytest.param("_25._tcp.mx.plain.test.", "TLSA", DnsKind.FOUND, False, id="unsigned-tlsa"),
        pytest.param("_25._tcp.mx.bogus.test.", "TLSA", DnsKind.SERVFAIL, False, id="bogus-tlsa"),
    ],
)
async def test_the_relays_dns_client_gets_ad_only_for_what_unbound_validated(
    chain: Chain, name: str, rdtype: str, kind: DnsKind, authenticated: bool
) -> None:
    answer = await DnsClient(chain.resolver.dns_config()).query(name, rdtype)
    assert (answer.kind, answer.authenticated) == (kind, authenticated), answer
    assert (name, rdtype) in chain.auth.queries  # asked through unbound, not answered by it alone


# -- delivery ----------------------------------------------------------------------------------


def test_signed_matching_tlsa_delivers_with_dane(relay: RelaySetup, chain: Chain) -> None:
    leaf = chain.presented["dane.test"]
    with StarttlsServer(leaf, ADDRESS) as server:
        start_relay(relay, chain, server.port)
        qid = send(relay, "r@dane.test", "[tls-dane]")
        relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
        log = finish(relay)
        [received] = server.messages
        assert received.tls and SECRET.encode() in received.data
    assert spooled(relay) == {}
    [report] = tls_reports(relay, "mx.dane.test")
    assert (report["policy_type"], report["success"]) == ("tlsa", True), report
    assert report["policy_strings"] == [f"3 1 1 {spki_sha256(leaf)}"]
    assert f"event=delivered qid={qid} to=<r@dane.test> relay=mx.dane.test" in log


def test_signed_mismatching_tlsa_applies_the_fallback_and_sends_not_a_byte(
    relay: RelaySetup, chain: Chain
) -> None:
    with StarttlsServer(chain.presented["mismatch.dane.test"], ADDRESS) as server:
        start_relay(relay, chain, server.port)
        qid = send(relay, "r@mismatch.dane.test", "[tls-dane]")
        entry = deferred_entry(relay, qid, 2)  # retried, and refused again: never with less
        assert entry["last_error"].startswith("451 4.7.10 TLS dane required and not available"), entry
        log = finish(relay)  # before the server stops: no session of a retry is cut short
        assert server.sessions >= 2
        assert "STARTTLS" in server.commands
        assert_nothing_sent(server)
    [report, *_] = tls_reports(relay, "mx.mismatch.dane.test")
    assert (report["policy_type"], report["failure"]) == ("tlsa", "tlsa-invalid"), report
    assert f"event=tls_unmet qid={qid} level=dane fallback=defer" in log
    assert f"event=delivered qid={qid}" not in log


def test_bogus_tlsa_signature_defers_and_never_connects(
    relay: RelaySetup, chain: Chain, sender_sink: Sink
) -> None:
    # The forged TLSA record names the key the server presents: only validation stops it.
    with StarttlsServer(chain.presented["bogus.test"], ADDRESS) as server:
        start_relay(relay, chain, server.port, sender_sink)
        qid = send(relay, "r@bogus.test", "[tls-best]")  # fallback bounce: bogus DNS defers anyway
        entry = deferred_entry(relay, qid, 2)
        assert entry["last_error"].startswith("451 4.7.5 TLS policy of bogus.test"), entry
        log = finish(relay)
        assert server.sessions == 0
    assert "validation failure <_25._tcp.mx.bogus.test. TLSA IN>" in chain.resolver.log()
    [report, *_] = tls_reports(relay, "mx.bogus.test")
    assert (report["policy_type"], report["failure"]) == ("tlsa", "dnssec-invalid"), report
    assert f"event=bounced qid={qid}" not in log
    assert sender_sink.messages == []


def test_unsigned_zone_tlsa_is_not_applied(relay: RelaySetup, chain: Chain) -> None:
    # The TLSA record names another key: applied, it would refuse the server.
    with StarttlsServer(chain.presented["plain.test"], ADDRESS) as server:
        start_relay(relay, chain, server.port)
        qid = send(relay, "r@plain.test", "[tls-best]")  # best, minimum encrypted
        relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
        log = finish(relay)
        [received] = server.messages
        assert received.tls and SECRET.encode() in received.data  # unverified TLS, self-signed
    [report] = tls_reports(relay, "mx.plain.test")
    assert (report["policy_type"], report["success"]) == ("no-policy-found", True), report
    assert f"event=delivered qid={qid} to=<r@plain.test> relay=mx.plain.test" in log
    assert "event=tls_unmet" not in log


# -- relay tls check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "state", "verdict"),
    [
        pytest.param("dane.test", "secure", "would reach today (tls: best): dane via", id="secure"),
        pytest.param("bogus.test", "bogus", "could not deliver to this domain today", id="bogus"),
        pytest.param("plain.test", "insecure", "would reach today (tls: best): encrypted via", id="insecure"),
    ],
)
def test_tls_check_reports_the_dane_state(
    relay: RelaySetup, chain: Chain, domain: str, state: str, verdict: str
) -> None:
    with StarttlsServer(chain.presented[domain], ADDRESS) as server:
        resolver = chain.resolver.nameserver
        relay.configure(
            dns={"nameservers": [f"{resolver.host}:{resolver.port}"], "timeout": "5s"},
            delivery={"port": server.port},
            outbound_tls={"ca_file": str(chain.ca.ca_cert)},
        )
        result = relay.cli("tls", "check", domain, check=False)
        assert_nothing_sent(server)  # EHLO and STARTTLS only
    out = result.stdout + result.stderr  # the report goes to stderr when the check fails
    assert f"DANE:\n  mx.{domain}: {state}: " in out, out
    assert f"the relay {verdict}" in out, out
    assert result.returncode == (1 if state == "bogus" else 0), out
