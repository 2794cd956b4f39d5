"""A small authoritative DNS server for tests, on loopback, over UDP and TCP on one port.

Tests hand it records in zone-file text and point the relay's resolver at ``server.port``::

    with DnsServer(records={"example.test.": {"MX": ["10 mx1.example.test."]},
                            "mx1.example.test.": {"A": ["127.0.0.2"]}}) as server:
        resolver = MxResolver(server.dns_config())

Names it holds (and their ancestors, as empty non-terminals) exist; any other name gets
NXDOMAIN; an existing name without the asked type gets NOERROR with no data. CNAMEs are
followed within the server's own data. Faults are injected per name: ``fail(name)`` answers
SERVFAIL and ``silence(name)`` never answers (the client times out). Only loopback addresses
may be bound, so no test can reach a real resolver through it.

It can also stand in for the local validating resolver DANE needs: ``sign(zone)`` marks a zone
as DNSSEC-signed, and answers about names in it (data, no data or NXDOMAIN) then carry the AD
bit when the query asked for it with AD or DO, as unbound does (RFC 6840 section 5.7). An
answer that follows a CNAME into an unsigned zone does not. ``bogus(name)`` answers SERVFAIL,
which is what a validating resolver answers when signatures do not validate.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from relay.config.schema import DnsConfig, HostPort

Records = Mapping[str, Mapping[str, Sequence[str]]]

TTL = 300
BIND_ATTEMPTS = 10
"""Tries to find a port free for both UDP and TCP (the UDP port may be taken over TCP)."""
POLL = 0.05
"""Seconds between checks of the stop flag in the serving threads."""
MAX_CNAME_CHAIN = 8


class DnsServer:
    def __init__(
        self,
        records: Records | None = None,
        *,
        servfail: Iterable[str] = (),
        silent: Iterable[str] = (),
        signed: Iterable[str] = (),
        host: str = "127.0.0.1",
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"DnsServer binds loopback only, not {host}")
        self.host = host
        self.queries: list[tuple[str, str]] = []
        """(name, type) of every question received, in order, e.g. ("example.test.", "MX")."""
        self._data: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rrset.RRset]] = {}
        self._servfail: set[dns.name.Name] = set()
        self._silent: set[dns.name.Name] = set()
        self._signed: set[dns.name.Name] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self.port = 0
        for name, by_type in (records or {}).items():
            for rdtype, values in by_type.items():
                self.add(name, rdtype, *values)
        for name in servfail:
            self.fail(name)
        for name in silent:
            self.silence(name)
        for zone in signed:
            self.sign(zone)

    # -- data and faults ---------------------------------------------------------------------

    def add(self, name: str, rdtype: str, *values: str) -> None:
        """Add records, e.g. ``add("example.test.", "MX", "10 mx1.example.test.")``."""
        owner = dns.name.from_text(name)
        kind = dns.rdatatype.from_text(rdtype)
        rrset = dns.rrset.from_text_list(owner, TTL, dns.rdataclass.IN, kind, list(values))
        with self._lock:
            existing = self._data.setdefault(owner, {}).get(kind)
            if existing is None:
                self._data[owner][kind] = rrset
            else:
                existing.union_update(rrset)

    def remove(self, name: str, rdtype: str) -> None:
        """Drop the records of ``rdtype`` at ``name`` (to republish them changed)."""
        with self._lock:
            self._data.get(dns.name.from_text(name), {}).pop(dns.rdatatype.from_text(rdtype), None)

    def fail(self, name: str) -> None:
        """Answer SERVFAIL for every question about ``name``."""
        with self._lock:
            self._servfail.add(dns.name.from_text(name))

    def heal(self, name: str) -> None:
        """Undo ``fail``/``bogus``/``silence`` for ``name``: answer from the data again."""
        with self._lock:
            self._servfail.discard(dns.name.from_text(name))
            self._silent.discard(dns.name.from_text(name))

    def silence(self, name: str) -> None:
        """Never answer questions about ``name``."""
        with self._lock:
            self._silent.add(dns.name.from_text(name))

    def sign(self, zone: str) -> None:
        """Treat ``zone`` and every name below it as DNSSEC-signed and validated (AD answers)."""
        with self._lock:
            self._signed.add(dns.name.from_text(zone))

    def bogus(self, name: str) -> None:
        """Answer as a validating resolver does when ``name``'s signatures fail: SERVFAIL."""
        self.fail(name)

    def _is_signed(self, name: dns.name.Name) -> bool:
        return any(name.is_subdomain(zone) for zone in self._signed)

    # -- what the relay needs to reach it ----------------------------------------------------

    @property
    def nameserver(self) -> HostPort:
        return HostPort(host=self.host, port=self.port)

    def dns_config(self, timeout: float = 2.0) -> DnsConfig:
        return DnsConfig(nameservers=(self.nameserver,), timeout=timeout)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(BIND_ATTEMPTS):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                udp.bind((self.host, 0))
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen()
            self._udp, self._tcp = udp, tcp
            self.port = udp.getsockname()[1]
            break
        else:
            raise RuntimeError(f"no port free for both UDP and TCP after {BIND_ATTEMPTS} tries")
        self._stop.clear()
        self._spawn(self._serve)

    def stop(self) -> None:
        self._stop.set()
        # The first thread is the acceptor: once it has ended no connection thread is added.
        while self._threads:
            self._threads.pop(0).join(timeout=5)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def __enter__(self) -> DnsServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ)
            selector.register(self._tcp, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=POLL):
                    if key.fileobj is self._udp:
                        self._serve_udp(self._udp)
                    else:
                        try:
                            conn, _ = self._tcp.accept()
                        except OSError:
                            continue  # the client reset it before we took it; UDP goes on
                        self._spawn(self._serve_tcp, conn)

    def _serve_udp(self, udp: socket.socket) -> None:
        wire, peer = udp.recvfrom(65535)
        response = self._respond(wire)
        if response is None:
            return
        # RFC 1035 4.2.1 / RFC 6891 6.2.5: at most 512 octets, or the client's EDNS payload;
        # beyond that the answer is cut and TC set, and the client retries over TCP.
        size = response.request_payload or 512
        udp.sendto(response.to_wire(max_size=size, prefer_truncation=True), peer)

    def _serve_tcp(self, conn: socket.socket) -> None:
        # RFC 1035 4.2.2 / RFC 7766: each message is preceded by a two-octet length.
        with conn:
            conn.settimeout(POLL)
            buffer = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65535)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
                    size = struct.unpack("!H", buffer[:2])[0]
                    wire, buffer = buffer[2 : 2 + size], buffer[2 + size :]
                    response = self._respond(wire)
                    if response is not None:
                        out = response.to_wire(max_size=65535)  # the EDNS size is for UDP
                        try:
                            conn.sendall(struct.pack("!H", len(out)) + out)
                        except OSError:
                            # The client gave up and hung up first. Uncaught, this would end the
                            # thread with an exception: an error of whatever test runs then.
                            return

    def _respond(self, wire: bytes) -> dns.message.Message | None:
        try:
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
        except dns.exception.DNSException:
            return None  # not a DNS query; a real server would send FORMERR, silence will do
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        with self._lock:
            self.queries.append((qname.to_text().lower(), qtype.name))
            if qname in self._silent:
                return None
            if qname in self._servfail or question.rdclass != dns.rdataclass.IN:
                response.set_rcode(dns.rcode.SERVFAIL)
                return response
            response.set_rcode(self._answer(qname, qtype, response))
            asked = bool(query.flags & dns.flags.AD) or bool(query.ednsflags & dns.flags.DO)
            owners = [qname, *(rrset.name for rrset in response.answer)]
            if asked and response.rcode() != dns.rcode.SERVFAIL and all(self._is_signed(o) for o in owners):
                response.flags |= dns.flags.AD
        return response

    def _answer(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType, response: dns.message.Message
    ) -> dns.rcode.Rcode:
        for _ in range(MAX_CNAME_CHAIN):
            by_type = self._data.get(qname)
            if by_type is None:
                exists = any(owner.is_subdomain(qname) for owner in self._data)
                return dns.rcode.NOERROR if exists else dns.rcode.NXDOMAIN
            if qtype in by_type:
                response.answer.append(by_type[qtype])
                return dns.rcode.NOERROR
            cname = by_type.get(dns.rdatatype.CNAME)
            if cname is None:
                return dns.rcode.NOERROR  # the name exists, not with this type: no data
            response.answer.append(cname)
            qname = cname[0].target
        return dns.rcode.SERVFAIL  # CNAME loop


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """A started, empty ``DnsServer``; fill it with ``add``, ``fail`` and ``silence``."""
    with DnsServer() as server:
        yield server
