"""A real DNSSEC chain for the DANE tests: signed zones, their authoritative server, and unbound.

``AuthZone`` is one zone built from records in zone-file text, signed with dnspython
(``dns.dnssec.sign_zone``: one ECDSA P-256 key with the SEP flag, RRSIGs on every RRset and an
NSEC chain) or left unsigned. ``tamper`` changes an RRset after signing and keeps its old RRSIG,
so a validator finds the signature does not match: bogus. ``AuthoritativeServer`` serves zones
on a loopback port, over UDP and TCP (tests/dnsserver.py's transport), as an authoritative
server answers a query with DO set (RFC 4035 section 3.1): the RRset with its RRSIGs, and for a
denial the SOA and the NSEC records that prove it (no data at a name or an empty non-terminal,
or NXDOMAIN with the wildcard denied too). ``Unbound`` runs Debian's unbound as the validating
resolver in front of it, the way production runs it in front of the Internet: a trust anchor (the
DS of each signed zone), a stub zone per test zone, nothing reachable beyond loopback.

Why sign with dnspython and serve the zones ourselves rather than run knot with automatic
signing: the signatures are made in-process in milliseconds (no key store, no signing daemon to
wait for), the faults a test needs are plain data (knot would re-sign a record changed after
signing, so a bogus RRset would need a second, unsigned server), and it adds no package beyond
the resolver. What must not be faked is the validation, and that is unbound's, unmodified: the
answers it accepts are checked the way production checks them, and the relay asks it exactly as
it asks a production resolver (``dns.nameservers``). ``Unbound.start`` checks that unbound sets
AD for a signed zone before any test relies on it.

Typical use::

    zone = AuthZone("dane.test.", {"mx.dane.test.": {"A": ["127.0.0.2"]}}, signed=True)
    with AuthoritativeServer([zone]) as auth, Unbound(tmp_dir, auth, [zone]) as resolver:
        config = resolver.dns_config()       # the relay's dns.nameservers: unbound only

unbound is not installed by the project's Python dependencies; when it is missing the tests
fail (never skip) and say that ``make test`` installs it (Makefile ``TEST_DEBS``).
"""

from __future__ import annotations

import bisect
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from dnsserver import DnsServer
from helpers import eventually

from relay.config.schema import DnsConfig, HostPort

Records = Mapping[str, Mapping[str, Sequence[str]]]

TTL = 300
NEGATIVE_TTL = 300
SIGNATURE_SKEW = timedelta(hours=1)
"""Signatures are valid from an hour ago, so clocks a little apart still accept them."""
SIGNATURE_LIFETIME = timedelta(days=2)
EDNS_PAYLOAD = 1232
"""DNS flag day 2020; what unbound and the relay ask for too."""
START_TIMEOUT = 15.0
"""Bound on unbound's start-up (it reads its config and binds; well under a second here)."""
STOP_TIMEOUT = 10.0
QUERY_TIMEOUT = 1.0
BIND_ATTEMPTS = 5
"""Tries to start unbound on a free port (another process may take it between probe and bind)."""
INSTALL_HINT = "unbound is not installed: `make test` installs it (Makefile TEST_DEBS, scripts/apt-ensure)"


class AuthZone:
    """One zone's data: SOA, NS and ``records`` at ``origin``, DNSSEC-signed when ``signed``.

    Enough of a zone for MX, A and TLSA tests: no CNAMEs, wildcards or delegations."""

    def __init__(self, origin: str, records: Records, *, signed: bool, now: datetime | None = None) -> None:
        self.origin = dns.name.from_text(origin)
        self.signed = signed
        self.zone = dns.zone.Zone(self.origin, relativize=False)
        ns = dns.name.from_text("ns", self.origin)
        soa = f"{ns} hostmaster.{self.origin} 1 3600 600 86400 {NEGATIVE_TTL}"
        with self.zone.writer() as txn:
            txn.add(self._rrset(self.origin, "SOA", [soa]))
            txn.add(self._rrset(self.origin, "NS", [ns.to_text()]))
            txn.add(self._rrset(ns, "A", ["127.0.0.1"]))
            for name, by_type in records.items():
                owner = dns.name.from_text(name)
                if not owner.is_subdomain(self.origin):
                    raise ValueError(f"{name} is not in zone {origin}")
                for rdtype, values in by_type.items():
                    txn.add(self._rrset(owner, rdtype, values))
        self.dnskey: dns.rrset.RRset | None = None
        self.ds: dns.rrset.RRset | None = None
        if signed:
            self._sign(now or datetime.now(UTC))
        self.names = sorted(self.zone.nodes)
        """Every owner name, in DNSSEC canonical order (RFC 4034 section 6.1): the NSEC chain."""

    @staticmethod
    def _rrset(owner: dns.name.Name, rdtype: str, values: Sequence[str]) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(owner, TTL, dns.rdataclass.IN, rdtype, list(values))

    def _sign(self, now: datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        dnskey = dns.dnssec.make_dnskey(
            key.public_key(),
            dns.dnssec.Algorithm.ECDSAP256SHA256,
            flags=dns.dnssec.Flag.ZONE | dns.dnssec.Flag.SEP,
        )
        dns.dnssec.sign_zone(
            self.zone,
            keys=[(key, dnskey)],
            inception=now - SIGNATURE_SKEW,
            expiration=now + SIGNATURE_LIFETIME,
        )
        self.dnskey = dns.rrset.from_rdata(self.origin, TTL, dnskey)
        self.ds = dns.rrset.from_rdata(self.origin, TTL, dns.dnssec.make_ds(self.origin, dnskey, "SHA256"))

    @property
    def trust_anchor(self) -> str:
        """The zone's DS record as unbound's ``trust-anchor:`` wants it."""
        assert self.ds is not None, f"{self.origin} is not signed"
        return f"{self.origin} DS {self.ds[0].to_text()}"

    def tamper(self, name: str, rdtype: str, *values: str) -> None:
        """Replace an RRset after signing and keep its RRSIG: a validator finds it bogus.

        Call it before the zone is served (the server reads the zone without locking it)."""
        owner = dns.name.from_text(name)
        node = self.zone.get_node(owner)
        if node is None or node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype)) is None:
            raise ValueError(f"{name} has no {rdtype} RRset to tamper with")
        with self.zone.writer() as txn:
            txn.replace(self._rrset(owner, rdtype, values))

    # -- answers (RFC 1034 section 4.3.2, RFC 4035 section 3.1) --------------------------------

    def answer(
        self,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        response: dns.message.Message,
        *,
        dnssec: bool,
    ) -> dns.rcode.Rcode:
        """Fill ``response`` with the authoritative answer; returns its rcode."""
        node = self.zone.get_node(qname)
        if node is not None:
            rdataset = node.get_rdataset(dns.rdataclass.IN, qtype)
            if rdataset is not None:
                response.answer.append(self._with_sigs(response.answer, qname, qtype, dnssec))
                return dns.rcode.NOERROR
            self._denial(response, [qname], dnssec)  # RFC 4035 3.1.3.1: the name's own NSEC
            return dns.rcode.NOERROR
        if any(name.is_subdomain(qname) for name in self.names):
            # An empty non-terminal (RFC 4035 3.1.3.2): the NSEC covering it, whose next name
            # lies below it, proves the name exists without data.
            self._denial(response, [self._covering(qname)], dnssec)
            return dns.rcode.NOERROR
        encloser = qname.parent()
        while not any(name.is_subdomain(encloser) for name in self.names):
            encloser = encloser.parent()
        wildcard = dns.name.from_text("*", encloser)
        # RFC 4035 3.1.3.2: NXDOMAIN proves the name and the wildcard at its closest encloser absent.
        self._denial(response, [self._covering(qname), self._covering(wildcard)], dnssec)
        return dns.rcode.NXDOMAIN

    def _covering(self, name: dns.name.Name) -> dns.name.Name:
        """The owner of the NSEC record covering ``name``: the last owner before it."""
        return self.names[bisect.bisect_right(self.names, name) - 1]

    def _denial(
        self, response: dns.message.Message, nsec_owners: Sequence[dns.name.Name], dnssec: bool
    ) -> None:
        # RFC 2308 section 3: the SOA in the authority section gives the negative TTL.
        section = response.authority
        section.append(self._with_sigs(section, self.origin, dns.rdatatype.SOA, dnssec))
        if dnssec and self.signed:
            for owner in dict.fromkeys(nsec_owners):
                section.append(self._with_sigs(section, owner, dns.rdatatype.NSEC, dnssec))

    def _with_sigs(
        self,
        section: list[dns.rrset.RRset],
        owner: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        dnssec: bool,
    ) -> dns.rrset.RRset:
        """The RRset at ``owner``; its RRSIGs are appended to ``section`` when DO was set."""
        node = self.zone.get_node(owner)
        assert node is not None
        rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
        assert rdataset is not None, (owner, rdtype)
        sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covers=rdtype)
        if dnssec and sigs is not None:
            section.append(dns.rrset.from_rdata(owner, sigs.ttl, *sigs))
        return dns.rrset.from_rdata(owner, rdataset.ttl, *rdataset)


class AuthoritativeServer(DnsServer):
    """The authoritative server of ``zones`` on loopback; REFUSED for any name outside them."""

    def __init__(self, zones: Sequence[AuthZone], host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self.zones = list(zones)

    def _zone_for(self, qname: dns.name.Name) -> AuthZone | None:
        candidates = [z for z in self.zones if qname.is_subdomain(z.origin)]
        return max(candidates, key=lambda z: len(z.origin), default=None)

    def _respond(self, wire: bytes) -> dns.message.Message | None:
        try:
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
        except dns.exception.DNSException:
            return None
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        dnssec = bool(query.ednsflags & dns.flags.DO)
        if dnssec:
            response.ednsflags |= dns.flags.DO  # RFC 3225 section 3: copied into the response
        with self._lock:
            self.queries.append((qname.to_text().lower(), qtype.name))
        zone = self._zone_for(qname)
        if zone is None or question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        response.set_rcode(zone.answer(qname, qtype, response, dnssec=dnssec))
        return response


def unbound_binary() -> str:
    """The path of unbound (in /usr/sbin, often not on a user's PATH), or the test fails."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    binary = shutil.which("unbound", path=path)
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return binary


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on ``host`` right now (unbound listens on both)."""
    for _ in range(BIND_ATTEMPTS):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind((host, 0))
            try:
                tcp.bind((host, udp.getsockname()[1]))
            except OSError:
                continue
            return int(udp.getsockname()[1])
    raise RuntimeError(f"no port free for both UDP and TCP after {BIND_ATTEMPTS} tries")


class Unbound:
    """unbound validating for ``zones`` (a trust anchor per signed zone), asking ``upstream``.

    A child process in the foreground (``-d``) with a config of its own in ``directory``: no
    chroot, no privilege drop, no remote control, no root hints. Every name it may resolve goes
    to ``upstream``: the test zones through stub zones, and everything else through a stub for
    the root, which the authoritative server refuses, so nothing beyond loopback is ever asked.
    """

    def __init__(
        self,
        directory: Path,
        upstream: AuthoritativeServer,
        zones: Sequence[AuthZone],
        host: str = "127.0.0.1",
    ) -> None:
        self.directory = directory
        self.upstream = upstream
        self.zones = list(zones)
        self.host = host
        self.port = 0
        self.log_path = directory / "unbound.log"
        self.config_path = directory / "unbound.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        upstream = f"{self.upstream.host}@{self.upstream.port}"
        lines = [
            "server:",
            f"  interface: {self.host}",
            f"  port: {self.port}",
            "  do-ip4: yes",
            "  do-ip6: no",
            "  do-udp: yes",
            "  do-tcp: yes",
            "  num-threads: 1",
            "  so-reuseport: no",
            f'  directory: "{self.directory}"',
            '  chroot: ""',
            '  username: ""',
            f'  pidfile: "{self.directory / "unbound.pid"}"',
            "  use-syslog: no",
            f'  logfile: "{self.log_path}"',
            "  verbosity: 1",
            "  val-log-level: 2",
            "  log-servfail: yes",
            "  access-control: 127.0.0.0/8 allow",
            "  do-not-query-localhost: no",  # the authoritative server is on loopback
            '  module-config: "validator iterator"',
            f"  edns-buffer-size: {EDNS_PAYLOAD}",
            # RFC 6761: unbound answers test. itself by default; these zones are real here.
            '  local-zone: "test." nodefault',
            "  trust-anchor-signaling: no",  # RFC 8145 key tag queries: noise in the query log
            *(f'  trust-anchor: "{zone.trust_anchor}"' for zone in self.zones if zone.signed),
            "remote-control:",
            "  control-enable: no",
        ]
        for name in [*(zone.origin.to_text() for zone in self.zones), "."]:
            lines += ["stub-zone:", f'  name: "{name}"', f"  stub-addr: {upstream}"]
        return "\n".join(lines) + "\n"

    @property
    def nameserver(self) -> HostPort:
        return HostPort(host=self.host, port=self.port)

    def dns_config(self, timeout: float = 5.0) -> DnsConfig:
        return DnsConfig(nameservers=(self.nameserver,), timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def query(self, name: str, rdtype: str) -> dns.message.Message:
        """One question with AD and DO set, as the relay asks (relay/tls/dnsquery.py)."""
        request = dns.message.make_query(name, rdtype, want_dnssec=True, payload=EDNS_PAYLOAD)
        request.flags |= dns.flags.AD
        return dns.query.udp(request, self.host, timeout=QUERY_TIMEOUT, port=self.port)

    def start(self) -> Unbound:
        binary = unbound_binary()
        for _ in range(BIND_ATTEMPTS):
            self.port = _free_port(self.host)
            self.config_path.write_text(self.config())
            checkconf = Path(binary).with_name("unbound-checkconf")
            if checkconf.exists():  # names the bad line, where unbound itself would only exit
                checked = subprocess.run(
                    [checkconf, self.config_path], capture_output=True, text=True, timeout=30
                )
                if checked.returncode != 0:
                    raise RuntimeError(f"unbound-checkconf rejected {self.config_path}: {checked.stderr}")
            self.log_path.unlink(missing_ok=True)
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [binary, "-d", "-c", str(self.config_path)], stdout=log, stderr=log, cwd=self.directory
                )
            try:
                if self._wait_ready():
                    self._check_validates()
                    return self
            except BaseException:
                # ``with Unbound(...)`` calls no ``__exit__`` when this raises: a process left
                # running here would outlive the test, its Popen a ResourceWarning in a later one.
                self.stop()
                raise
            self.stop()  # the port was taken meanwhile: try another
        raise RuntimeError(f"unbound did not start after {BIND_ATTEMPTS} tries:\n{self.log()[-4000:]}")

    def _wait_ready(self) -> bool:
        """True once unbound answers; False when it exited because its port was taken."""
        assert self.process is not None
        process = self.process

        def answering() -> bool:
            if process.poll() is not None:
                return True
            try:
                self.query(self.zones[0].origin.to_text(), "SOA")
            except (dns.exception.Timeout, OSError):
                return False
            return True

        if not eventually(answering, START_TIMEOUT):
            raise RuntimeError(f"unbound did not answer within {START_TIMEOUT}s:\n{self.log()[-4000:]}")
        if process.poll() is None:
            return True
        if "bind" in self.log().lower():
            return False
        raise RuntimeError(f"unbound exited with {process.returncode}:\n{self.log()[-4000:]}")

    def _check_validates(self) -> None:
        """A signed zone's SOA comes back authenticated (AD), an unsigned one's does not."""
        for zone in self.zones:
            response = self._query_patiently(zone.origin.to_text(), "SOA")
            authenticated = bool(response.flags & dns.flags.AD)
            if response.rcode() != dns.rcode.NOERROR or authenticated is not zone.signed:
                raise RuntimeError(
                    f"unbound does not validate {zone.origin} as expected (signed={zone.signed}):\n"
                    f"{response}\n{self.log()[-4000:]}"
                )

    def _query_patiently(self, name: str, rdtype: str) -> dns.message.Message:
        """``query``, asked again while it times out, for up to ``START_TIMEOUT``: unbound's
        first question about a zone fetches and validates its keys from the authoritative
        server (a thread of this busy process) first, which may take longer than one query."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                return self.query(name, rdtype)
            except dns.exception.Timeout:
                if time.monotonic() >= deadline:
                    raise

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)

    def __enter__(self) -> Unbound:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
