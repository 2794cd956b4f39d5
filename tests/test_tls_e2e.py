"""Outbound TLS enforced by the running relay: policy rule -> MX lookup -> TLS plan -> session.

The real relay process (tests/relayproc.py) resolves recipient domains through the test DNS
server only (it sets AD on answers of "signed" zones, and SERVFAIL stands in for bogus DNSSEC),
fetches MTA-STS policies from the loopback HTTPS server, and delivers to STARTTLS servers on
127.0.0.2, 127.0.0.3, ... (one port, the relay's ``delivery.port``) whose certificates come from
a test CA that the relay trusts through ``outbound_tls.ca_file``. The policy chooses the TLS plan
per message by a tag in the subject, so each test sends exactly what it means to.

Each test checks what the receiving servers got (a server that failed its requirement never saw
``MAIL``, let alone a byte of the body) and what the relay made of it: delivered and removed,
deferred with a 4.7.x reply in the queue, or bounced with a headers-only DSN to the sender; and,
where the policy matters, the TLS-RPT record the relay wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from certs import IssuedCert, LocalCA
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from dnsserver import DnsServer
from helpers import SENDER, message_bytes, wait_until
from relayproc import RelaySetup, dsn_queued_for, queue_list, spooled
from sink import Sink
from smtpclient import submit
from tlsservers import Answer, PolicyServer, StarttlsServer, policy_body, publish

ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
"""Where the MX servers of a test listen, in the order they are given (all on one port)."""
BIND_ATTEMPTS = 10
WAIT = 20.0
"""Bound on every wait for the relay (a delivery attempt, a retry one second later, a DSN)."""
SECRET = "BODY-MARKER-5512"
"""In every message body; must reach no server that failed its requirement, and no log."""

POLICY = """\
rules:
  - name: tls-verified
    when: {subject: {contains: "[tls-verified]"}}
    then: {deliver: {tls: verified, fallback: defer}}
  - name: tls-bounce
    when: {subject: {contains: "[tls-bounce]"}}
    then: {deliver: {tls: verified, fallback: bounce}}
  - name: tls-best
    when: {subject: {contains: "[tls-best]"}}
    then: {deliver: {tls: best, minimum: verified, fallback: defer}}
  - name: tls-best-bounce
    when: {subject: {contains: "[tls-best-bounce]"}}
    then: {deliver: {tls: best, minimum: verified, fallback: bounce}}
  - name: tls-encrypted
    when: {subject: {contains: "[tls-encrypted]"}}
    then: {deliver: {tls: encrypted, fallback: defer}}
"""
"""Without a tag the relay's default applies: ``deliver: {tls: opportunistic}``."""


# -- the world: MX servers, DNS, the policy host and the relay ---------------------------------


class MxServers:
    """STARTTLS servers on ``ADDRESSES``, all on one port (the relay has one ``delivery.port``)."""

    def __init__(self) -> None:
        self.port = 0
        self.servers: list[StarttlsServer] = []

    def start(self, *certs: IssuedCert | None, advertise_starttls: bool = True) -> list[StarttlsServer]:
        for _ in range(BIND_ATTEMPTS):
            with socket.socket() as probe:
                probe.bind((ADDRESSES[0], 0))
                port = probe.getsockname()[1]
            started: list[StarttlsServer] = []
            try:
                for address, cert in zip(ADDRESSES, certs, strict=False):
                    server = StarttlsServer(cert, address, port, advertise_starttls=advertise_starttls)
                    started.append(server)
                    server.start()
            except OSError:  # the port is taken on one of the addresses: pick another
                for server in started:
                    server.stop()
                continue
            self.port, self.servers = port, started
            return started
        raise RuntimeError(f"no port free on all of {ADDRESSES[: len(certs)]} after {BIND_ATTEMPTS} tries")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def mx() -> Iterator[MxServers]:
    servers = MxServers()
    yield servers
    servers.stop()


def zone(dns: DnsServer, domain: str, *hosts: str) -> None:
    """``domain`` MX 10, 20 ... ``hosts``, each host's A record the next of ``ADDRESSES``."""
    assert len(hosts) <= len(ADDRESSES)
    dns.add(f"{domain}.", "MX", *(f"{10 * n} {host}." for n, host in enumerate(hosts, start=1)))
    for host, address in zip(hosts, ADDRESSES, strict=False):
        dns.add(f"{host}.", "A", address)


class World:
    """One test's relay with everything around it; ``start`` once the servers and DNS are set."""

    def __init__(
        self,
        relay: RelaySetup,
        dns: DnsServer,
        mx: MxServers,
        ca: LocalCA,
        https: PolicyServer,
        sender_sink: Sink,
    ) -> None:
        self.relay, self.dns, self.mx, self.ca, self.https = relay, dns, mx, ca, https
        self.sender_sink = sender_sink

    def start(self) -> None:
        """The relay, resolving through the test DNS server only and trusting the test CA."""
        (self.relay.directory / "policies" / "10-tls.yaml").write_text(POLICY)
        self.relay.configure(
            dns={"nameservers": [f"{self.dns.host}:{self.dns.port}"]},
            delivery={"port": self.mx.port},
            routes={"clinic.test": self.sender_sink.address},  # DSNs to the sender land there
            outbound_tls={
                "ca_file": str(self.ca.ca_cert),
                "mta_sts_port": self.https.port,
                "fetch_timeout": "5s",
            },
        )
        self.relay.start()

    def send(self, recipient: str, tag: str = "") -> str:
        """One message whose subject carries ``tag`` (see POLICY); returns its queue ID."""
        subject = f"{tag} results".strip()
        return submit(self.relay, SENDER, [recipient], message_bytes(subject=subject, body=SECRET))

    def sts(self, domain: str, mode: str, *mx: str) -> None:
        """Publish an MTA-STS policy for ``domain`` (TXT, policy host A, and the policy itself)."""
        publish(self.dns, domain, "v=STSv1; id=20260314")
        self.https.serve(f"mta-sts.{domain}", Answer(body=policy_body(mode=mode, mx=mx)))

    def finish(self) -> str:
        """Stop the relay (it must exit cleanly) and return its log, which holds no body text."""
        assert self.relay.stop() == 0
        log = self.relay.log()
        assert SECRET not in log
        return log


@pytest.fixture
def world(
    relay: RelaySetup,
    dns_server: DnsServer,
    mx: MxServers,
    local_ca: LocalCA,
    policy_server: PolicyServer,
    sender_sink: Sink,
) -> World:
    return World(relay, dns_server, mx, local_ca, policy_server, sender_sink)


# -- what the tests read back --------------------------------------------------------------------


def spki_sha256(cert: IssuedCert) -> str:
    """TLSA 3 1 1 data of a certificate: SHA-256 of its SubjectPublicKeyInfo."""
    key = x509.load_pem_x509_certificate(cert.cert.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def tls_reports(relay: RelaySetup, host: str) -> list[dict[str, Any]]:
    """The TLS-RPT results the relay logged for MX host ``host``, oldest first.

    ``outbound_tls.report_dir`` is left at its default, ``var/tls/reports``, which the loader
    resolves like every relative path of relay.yaml; a line still being appended is left out.
    """
    found = []
    for path in sorted(relay.directory.glob("**/tls/reports/*.jsonl")):
        text = path.read_text()
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                continue
            record = json.loads(line)
            if record["receiving_mx_hostname"] == host:
                found.append(record)
    return found


def body_reached(server: StarttlsServer) -> bool:
    return any(SECRET.encode() in m.data for m in server.messages)


def assert_nothing_sent(server: StarttlsServer) -> None:
    """Not one byte of the envelope or the message: the session ended before ``MAIL``."""
    assert server.messages == []
    commands = server.commands
    assert not {"MAIL", "RCPT", "DATA"} & set(commands), commands


def deferred_entry(relay: RelaySetup, qid: str) -> dict[str, Any]:
    [entry] = [e for e in queue_list(relay) if e["queue_id"] == qid]
    assert entry["state"] == "deferred", entry
    assert [r["state"] for r in entry["recipients"]] == ["pending"], entry
    return entry


def wait_attempts(relay: RelaySetup, qid: str, count: int) -> None:
    """Until the relay has deferred ``qid`` ``count`` times (the retry schedule is one second)."""
    wait_until(
        lambda: relay.log().count(f"event=deferred qid={qid} ") >= count, WAIT, f"{count} deferrals of {qid}"
    )


def headers_only_dsn(dsn: bytes, recipient: str, status: str) -> None:
    assert f"Final-Recipient: rfc822; {recipient}\r\n".encode() in dsn
    assert f"Status: {status}\r\n".encode() in dsn
    assert b"text/rfc822-headers" in dsn
    returned = dsn.split(b"text/rfc822-headers", 1)[1]
    assert b"Message-ID: " in returned  # what finds the original in the sender's sent mail
    # The original was protected by policy: its subject (the tag here) stays out of the DSN,
    # which travels with opportunistic TLS.
    assert b"[tls-" not in dsn
    assert SECRET.encode() not in dsn


# -- verified (PKIX) -----------------------------------------------------------------------------


def test_verified_is_met_by_a_valid_certificate_for_the_mx_name(world: World) -> None:
    issued = world.ca.issue("mx.v.test")
    [server] = world.mx.start(issued)
    zone(world.dns, "v.test", "mx.v.test")
    world.start()
    verified = world.send("r@v.test", "[tls-verified]")
    best = world.send("r@v.test", "[tls-best]")  # no DANE, no MTA-STS: best is its minimum
    for qid in (verified, best):
        world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
        assert f"event=delivered qid={qid} to=<r@v.test> relay=mx.v.test" in world.relay.log()
    assert len(server.messages) == 2
    assert all(m.tls and SECRET.encode() in m.data for m in server.messages)
    # Each delivery's record names the certificate the server presented (issue 5).
    leaf = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    delivered = {r["queue_id"]: r for r in world.relay.audit_records() if r["kind"] == "delivered"}
    for qid in (verified, best):
        record = delivered[qid]
        assert record["details"]["tls"].startswith("verified TLSv1.")
        certificate = record["details"]["certificate"]
        assert f"sha256={leaf.fingerprint(hashes.SHA256()).hex()}" in certificate
        assert "subject=CN=mx.v.test" in certificate
    assert spooled(world.relay) == {}
    reports = tls_reports(world.relay, "mx.v.test")
    assert reports and all(r["success"] and r["policy_type"] == "no-policy-found" for r in reports)
    assert "event=tls_unmet" not in world.finish()


@pytest.mark.parametrize(
    ("server", "failure"),
    [
        pytest.param({"names": ("other.w.test",)}, "certificate-host-mismatch", id="wrong-name"),
        pytest.param({"expired": True}, "certificate-expired", id="expired"),
        pytest.param({"self_signed": True}, "certificate-not-trusted", id="self-signed"),
        pytest.param({"plain": True}, None, id="no-starttls"),
    ],
)
def test_verified_unmet_defers_and_sends_not_a_byte(
    world: World, server: dict[str, Any], failure: str | None
) -> None:
    options = dict(server)
    plain = options.pop("plain", False)
    names = options.pop("names", ("mx.w.test",))
    [mx] = world.mx.start(None if plain else world.ca.issue(*names, **options))
    zone(world.dns, "w.test", "mx.w.test")
    world.start()
    qid = world.send("r@w.test", "[tls-verified]")
    wait_attempts(world.relay, qid, 2)  # retried, and refused again: never with less
    entry = deferred_entry(world.relay, qid)
    assert entry["last_error"].startswith("451 4.7.10 TLS verified required and not available"), entry
    assert mx.sessions >= 2
    assert_nothing_sent(mx)
    assert ("STARTTLS" in mx.commands) is not plain
    [report, *_] = tls_reports(world.relay, "mx.w.test")
    assert not report["success"]
    if failure is not None:  # STARTTLS missing: see test_tls_rpt_names_a_missing_starttls
        assert report["failure"] == failure, report
    log = world.finish()
    assert f"event=tls_unmet qid={qid} level=verified fallback=defer" in log
    assert f"event=bounced qid={qid}" not in log
    assert world.sender_sink.messages == []


def test_verified_unmet_with_fallback_bounce_returns_headers_only_to_the_sender(world: World) -> None:
    [mx] = world.mx.start(world.ca.issue("other.x.test"))
    zone(world.dns, "x.test", "mx.x.test")
    world.start()
    qid = world.send("r@x.test", "[tls-bounce]")
    [dsn] = world.sender_sink.wait_for(1, timeout=WAIT)
    assert dsn.recipients == (SENDER,)
    headers_only_dsn(dsn.data, "r@x.test", "5.7.10")
    assert b"Diagnostic-Code: smtp; 550 5.7.10 TLS verified required and not available" in dsn.data
    [dsn_qid] = dsn_queued_for(world.relay, qid)
    world.relay.wait_for_log(f"event=removed qid={dsn_qid}", timeout=WAIT)
    assert spooled(world.relay) == {}
    assert_nothing_sent(mx)
    log = world.finish()
    assert f"event=bounced qid={qid} to=<r@x.test>" in log
    assert f"event=deferred qid={qid}" not in log  # bounced on the first attempt


def test_first_mx_failing_verification_falls_back_to_the_second(world: World) -> None:
    first, second = world.mx.start(world.ca.issue("mx1.f.test", expired=True), world.ca.issue("mx2.f.test"))
    zone(world.dns, "f.test", "mx1.f.test", "mx2.f.test")
    world.start()
    qid = world.send("r@f.test", "[tls-verified]")
    world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = second.messages
    assert received.tls and SECRET.encode() in received.data
    assert first.sessions == 1  # asked first, in MX order
    assert_nothing_sent(first)
    [refused] = tls_reports(world.relay, "mx1.f.test")
    assert refused["failure"] == "certificate-expired"
    log = world.finish()
    assert f"event=delivered qid={qid} to=<r@f.test> relay=mx2.f.test" in log
    assert f"event=deferred qid={qid}" not in log


# -- MTA-STS -------------------------------------------------------------------------------------


def test_mta_sts_enforce_delivers_to_the_listed_mx_and_never_contacts_the_other(world: World) -> None:
    unlisted, listed = world.mx.start(world.ca.issue("mx0.s.test"), world.ca.issue("mx1.s.test"))
    zone(world.dns, "s.test", "mx0.s.test", "mx1.s.test")
    world.sts("s.test", "enforce", "mx1.s.test")
    world.start()
    qid = world.send("r@s.test")  # the plan asks for opportunistic only: the domain's policy rules
    world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = listed.messages
    assert received.tls and SECRET.encode() in received.data
    assert unlisted.sessions == 0
    assert world.https.requests == ["mta-sts.s.test"]
    [skipped] = tls_reports(world.relay, "mx0.s.test")
    assert skipped["policy_type"] == "sts" and not skipped["success"]
    [delivered] = tls_reports(world.relay, "mx1.s.test")
    assert (delivered["policy_type"], delivered["success"]) == ("sts", True), delivered
    log = world.finish()
    assert f"event=hop_refused qid={qid} relay=mx0.s.test action=skip" in log
    assert f"event=delivered qid={qid} to=<r@s.test> relay=mx1.s.test" in log


def test_mta_sts_enforce_listing_no_mx_defers_without_connecting(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("mx.n.test"))
    zone(world.dns, "n.test", "mx.n.test")
    world.sts("n.test", "enforce", "mail.elsewhere.test")
    world.start()
    qid = world.send("r@n.test")
    wait_attempts(world.relay, qid, 2)
    entry = deferred_entry(world.relay, qid)
    assert entry["last_error"].startswith("451 4.7.5 TLS policy of n.test"), entry
    assert server.sessions == 0
    log = world.finish()
    assert f"event=hop_refused qid={qid} relay=mx.n.test action=skip" in log
    assert f"event=delivered qid={qid}" not in log


def test_mta_sts_enforce_holds_a_listed_mx_to_pkix_even_for_an_opportunistic_plan(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("mx.e.test", self_signed=True))
    zone(world.dns, "e.test", "mx.e.test")
    world.sts("e.test", "enforce", "mx.e.test")
    world.start()
    qid = world.send("r@e.test")
    wait_attempts(world.relay, qid, 1)
    entry = deferred_entry(world.relay, qid)
    assert entry["last_error"].startswith("451 4.7.10 TLS mta-sts required"), entry  # the domain's level
    assert f"event=tls_unmet qid={qid} level=mta-sts" in world.relay.log()
    assert server.sessions >= 1
    assert_nothing_sent(server)
    [report, *_] = tls_reports(world.relay, "mx.e.test")
    assert (report["policy_type"], report["failure"]) == ("sts", "certificate-not-trusted")
    world.finish()


def test_mta_sts_testing_mode_delivers_despite_a_bad_certificate_and_reports_it(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("other.t.test"))
    zone(world.dns, "t.test", "mx.t.test")
    world.sts("t.test", "testing", "mx.t.test")
    world.start()
    qid = world.send("r@t.test")
    world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = server.messages
    assert received.tls and SECRET.encode() in received.data
    assert world.https.requests == ["mta-sts.t.test"]
    [report] = tls_reports(world.relay, "mx.t.test")
    assert report["policy_type"] == "sts"
    assert (report["success"], report["failure"]) == (False, "certificate-host-mismatch"), report
    assert report["mx_host"] == ["mx.t.test"]
    assert "mode: testing" in report["policy_strings"]
    world.finish()


# -- DANE ----------------------------------------------------------------------------------------


def test_dane_match_delivers_to_a_self_signed_certificate(world: World) -> None:
    leaf = world.ca.issue("unrelated.name.test", self_signed=True)
    [server] = world.mx.start(leaf)
    zone(world.dns, "d.test", "mx.d.test")
    world.dns.add("_25._tcp.mx.d.test.", "TLSA", f"3 1 1 {spki_sha256(leaf)}")
    world.dns.sign("d.test.")
    world.start()
    qid = world.send("r@d.test", "[tls-best]")
    world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = server.messages
    assert received.tls and SECRET.encode() in received.data
    [report] = tls_reports(world.relay, "mx.d.test")
    assert (report["policy_type"], report["success"]) == ("tlsa", True), report
    assert report["policy_strings"] == [f"3 1 1 {spki_sha256(leaf)}"]
    world.finish()


def test_dane_mismatch_applies_the_fallback_and_sends_not_a_byte(world: World) -> None:
    leaf = world.ca.issue("mx.m.test")  # PKIX-valid, yet DANE decides: the TLSA is for another key
    [server] = world.mx.start(leaf)
    zone(world.dns, "m.test", "mx.m.test")
    world.dns.add("_25._tcp.mx.m.test.", "TLSA", f"3 1 1 {spki_sha256(world.ca.issue('mx.m.test'))}")
    world.dns.sign("m.test.")
    world.start()
    qid = world.send("r@m.test", "[tls-best-bounce]")
    [dsn] = world.sender_sink.wait_for(1, timeout=WAIT)
    headers_only_dsn(dsn.data, "r@m.test", "5.7.10")
    assert server.sessions == 1
    assert_nothing_sent(server)
    [report] = tls_reports(world.relay, "mx.m.test")
    assert (report["policy_type"], report["failure"]) == ("tlsa", "tlsa-invalid"), report
    log = world.finish()
    assert f"event=bounced qid={qid} to=<r@m.test>" in log


def test_dane_bogus_defers_even_with_fallback_bounce_and_never_connects(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("mx.b.test"))
    zone(world.dns, "b.test", "mx.b.test")
    world.dns.add("_25._tcp.mx.b.test.", "TLSA", "3 1 1 " + "ab" * 32)
    world.dns.sign("b.test.")
    world.dns.bogus("_25._tcp.mx.b.test.")
    world.start()
    qid = world.send("r@b.test", "[tls-best-bounce]")
    wait_attempts(world.relay, qid, 2)
    entry = deferred_entry(world.relay, qid)
    assert entry["last_error"].startswith("451 4.7.5 TLS policy of b.test"), entry
    assert server.sessions == 0
    [report, *_] = tls_reports(world.relay, "mx.b.test")
    assert (report["policy_type"], report["failure"]) == ("tlsa", "dnssec-invalid"), report
    log = world.finish()
    assert f"event=bounced qid={qid}" not in log
    assert world.sender_sink.messages == []


def test_dane_takes_precedence_over_an_mta_sts_policy_that_does_not_list_the_host(world: World) -> None:
    leaf = world.ca.issue("mx.p.test", self_signed=True)  # fails PKIX, so MTA-STS could not pass
    [server] = world.mx.start(leaf)
    zone(world.dns, "p.test", "mx.p.test")
    world.dns.add("_25._tcp.mx.p.test.", "TLSA", f"3 1 1 {spki_sha256(leaf)}")
    world.dns.sign("p.test.")
    world.sts("p.test", "enforce", "mail.elsewhere.test")
    world.start()
    qid = world.send("r@p.test", "[tls-best]")
    world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = server.messages
    assert received.tls and SECRET.encode() in received.data
    assert world.https.requests == ["mta-sts.p.test"]  # the policy was in force, and overruled
    [report] = tls_reports(world.relay, "mx.p.test")
    assert (report["policy_type"], report["success"]) == ("tlsa", True), report
    log = world.finish()
    assert "event=hop_refused" not in log


# -- STARTTLS stripping and the opportunistic baseline --------------------------------------------


def test_stripped_starttls_fails_a_plan_that_requires_encryption(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("mx.x2.test"), advertise_starttls=False)
    zone(world.dns, "x2.test", "mx.x2.test")
    world.start()
    qid = world.send("r@x2.test", "[tls-encrypted]")
    wait_attempts(world.relay, qid, 1)
    entry = deferred_entry(world.relay, qid)
    assert entry["last_error"].startswith("451 4.7.10 TLS encrypted required and not available"), entry
    assert server.commands[:1] == ["EHLO"] and "STARTTLS" not in server.commands
    assert_nothing_sent(server)
    log = world.finish()
    assert f"event=tls_unmet qid={qid} level=encrypted fallback=defer" in log


def test_tls_rpt_names_a_missing_starttls(world: World) -> None:
    [server] = world.mx.start(world.ca.issue("mx.x3.test"), advertise_starttls=False)
    zone(world.dns, "x3.test", "mx.x3.test")
    world.start()
    qid = world.send("r@x3.test", "[tls-verified]")
    wait_attempts(world.relay, qid, 1)
    assert_nothing_sent(server)
    world.finish()
    [report, *_] = tls_reports(world.relay, "mx.x3.test")
    assert report["failure"] == "starttls-not-supported", report


def test_opportunistic_delivers_in_the_clear_or_over_unverified_tls(world: World) -> None:
    plain, self_signed = world.mx.start(None, world.ca.issue("mx.o2.test", self_signed=True))
    zone(world.dns, "o1.test", "mx.o1.test")
    world.dns.add("o2.test.", "MX", "10 mx.o2.test.")
    world.dns.add("mx.o2.test.", "A", ADDRESSES[1])
    world.start()
    clear = world.send("r@o1.test")
    encrypted = world.send("r@o2.test")
    for qid in (clear, encrypted):
        world.relay.wait_for_log(f"event=removed qid={qid}", timeout=WAIT)
    [received] = plain.messages
    assert not received.tls and body_reached(plain)
    [received] = self_signed.messages
    assert received.tls and body_reached(self_signed)
    assert re.search(r"event=(deferred|tls_unmet)", world.finish()) is None
    # Unchecked certificates are recorded too; a session in the clear has none to record.
    delivered = {r["queue_id"]: r["details"] for r in world.relay.audit_records() if r["kind"] == "delivered"}
    assert (delivered[clear]["tls"], delivered[clear]["certificate"]) == ("none", None)
    assert delivered[encrypted]["tls"].startswith("encrypted TLSv1.")
    assert "subject=CN=mx.o2.test" in delivered[encrypted]["certificate"]
