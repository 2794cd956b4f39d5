"""MX routing through the real relay process and a real DNS server (RFC 5321 5.1, RFC 7505).

Two sinks stand in for a domain's MX hosts: mx1 on 127.0.0.2 and mx2 on 127.0.0.3, on one port
that the relay uses as ``delivery.port``. The relay's only resolver is the test DNS server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from dnsserver import DnsServer
from helpers import SENDER, message_bytes
from relayproc import RelaySetup, dsn_queued_for, queue_list, spooled
from sink import Sink
from smtpclient import submit

MX1, MX2 = "127.0.0.2", "127.0.0.3"
BIND_ATTEMPTS = 10


class MxHosts:
    """mx1 and mx2 on one port; mx1 may be down (its address refuses connections)."""

    def __init__(self) -> None:
        self.port = 0
        self.mx1: Sink | None = None
        self.mx2: Sink | None = None
        self._reserved: socket.socket | None = None

    def start(self, *, mx1_down: bool = False, **mx1_options: Any) -> None:
        for _ in range(BIND_ATTEMPTS):
            probe = socket.socket()
            probe.bind((MX1, 0))
            port = probe.getsockname()[1]
            started: list[Sink] = []
            try:
                if mx1_down:
                    self._reserved = probe  # bound, never listening: connections are refused
                else:
                    probe.close()
                    started.append(mx1 := Sink(MX1, port, **mx1_options))
                    mx1.start()
                started.append(mx2 := Sink(MX2, port))
                mx2.start()
            except OSError:  # the port is taken on one of the addresses: pick another
                for sink in started:
                    sink.stop()
                probe.close()
                self._reserved = None
                continue
            self.port = port
            self.mx1 = None if mx1_down else started[0]
            self.mx2 = mx2
            return
        raise RuntimeError(f"no port free on both {MX1} and {MX2} after {BIND_ATTEMPTS} tries")

    def stop(self) -> None:
        for sink in (self.mx1, self.mx2):
            if sink is not None:
                sink.stop()
        if self._reserved is not None:
            self._reserved.close()


@pytest.fixture
def mx() -> Iterator[MxHosts]:
    hosts = MxHosts()
    yield hosts
    hosts.stop()


@pytest.fixture
def zone(dns_server: DnsServer) -> DnsServer:
    """a.test: MX 10 mx1, MX 20 mx2; b.test: address only; n.test: null MX (and an address)."""
    dns_server.add("a.test.", "MX", "10 mx1.a.test.", "20 mx2.a.test.")
    dns_server.add("mx1.a.test.", "A", MX1)
    dns_server.add("mx2.a.test.", "A", MX2)
    dns_server.add("b.test.", "A", MX1)
    dns_server.add("n.test.", "MX", "0 .")
    dns_server.add("n.test.", "A", MX1)  # a relay that ignored the null MX would connect here
    return dns_server


def start_relay(relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink) -> None:
    relay.configure(
        dns={"nameservers": [f"{zone.host}:{zone.port}"]},
        delivery={"port": mx.port},
        routes={"clinic.test": sender_sink.address},
    )
    relay.start()


def test_mail_goes_to_the_most_preferred_mx_or_to_the_domain_without_mx(
    relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink
) -> None:
    mx.start()
    assert mx.mx1 is not None and mx.mx2 is not None
    start_relay(relay, zone, mx, sender_sink)
    with_mx = submit(relay, SENDER, ["r@a.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={with_mx}")
    # RFC 5321 5.1: no MX records, so the domain's own address is the implicit MX.
    without_mx = submit(relay, SENDER, ["r@b.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={without_mx}")
    assert [m.recipients for m in mx.mx1.wait_for(2)] == [("r@a.test",), ("r@b.test",)]
    log = relay.log()
    assert f"event=delivered qid={with_mx} to=<r@a.test> relay=mx1.a.test" in log
    assert f"event=delivered qid={without_mx} to=<r@b.test> relay=b.test" in log
    assert relay.stop() == 0
    assert mx.mx2.connections == 0
    assert {("a.test.", "MX"), ("b.test.", "MX"), ("b.test.", "A")} <= set(zone.queries)


def test_unreachable_first_mx_falls_back_to_the_second(
    relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink
) -> None:
    mx.start(mx1_down=True)
    assert mx.mx2 is not None
    start_relay(relay, zone, mx, sender_sink)
    qid = submit(relay, SENDER, ["r@a.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    [received] = mx.mx2.wait_for(1)
    assert received.recipients == ("r@a.test",)
    log = relay.log()
    assert f"event=connect_failed qid={qid} relay=mx1.a.test[{MX1}]" in log
    assert f"event=delivered qid={qid} to=<r@a.test> relay=mx2.a.test" in log
    assert f"event=deferred qid={qid}" not in log
    assert relay.stop() == 0


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"greeting": "421 4.3.2 mx1.a.test service not available"}, id="greeting-421"),
        pytest.param({"mail": "451 4.3.0 local problem"}, id="mail-451"),
        pytest.param({"mail": "421 4.7.0 too busy, closing"}, id="mail-421"),
    ],
)
def test_first_mx_refusing_temporarily_falls_back_to_the_second(
    relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink, fault: dict[str, str]
) -> None:
    mx.start(greeting=fault.get("greeting"))
    assert mx.mx1 is not None and mx.mx2 is not None
    if "mail" in fault:
        mx.mx1.script("mail", "*", fault["mail"])
    start_relay(relay, zone, mx, sender_sink)
    qid = submit(relay, SENDER, ["r@a.test", "s@a.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    [received] = mx.mx2.wait_for(1)
    assert received.recipients == ("r@a.test", "s@a.test")
    assert mx.mx1.connections >= 1  # it was asked first
    assert relay.stop() == 0
    assert mx.mx1.messages == []
    assert f"event=deferred qid={qid}" not in relay.log()


def test_recipient_refused_by_the_first_mx_is_not_offered_to_the_second(
    relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink
) -> None:
    # mx1 refuses one recipient for good, accepts the other, then fails the DATA temporarily.
    mx.start()
    assert mx.mx1 is not None and mx.mx2 is not None
    mx.mx1.script("rcpt", "gone@a.test", "550 5.1.1 no such user")
    mx.mx1.script("data", "r@a.test", "451 4.3.0 try again later")
    start_relay(relay, zone, mx, sender_sink)
    qid = submit(relay, SENDER, ["gone@a.test", "r@a.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    [received] = mx.mx2.wait_for(1)
    assert received.recipients == ("r@a.test",)
    [dsn] = sender_sink.wait_for(1)
    assert b"Final-Recipient: rfc822; gone@a.test\r\n" in dsn.data
    assert b"Remote-MTA: dns; mx1.a.test\r\n" in dsn.data
    assert b"r@a.test" not in dsn.data.split(b"text/rfc822-headers")[0]
    assert relay.stop() == 0
    assert mx.mx1.messages == []


@pytest.mark.parametrize(
    ("recipient", "status", "code"),
    [
        pytest.param("r@n.test", "5.1.10", "556", id="null-mx"),  # RFC 7505 section 4.2
        pytest.param("r@nowhere.test", "5.1.2", "550", id="nxdomain"),  # RFC 3463 X.1.2
    ],
)
def test_domain_that_takes_no_mail_is_bounced_at_once(
    relay: RelaySetup,
    zone: DnsServer,
    mx: MxHosts,
    sender_sink: Sink,
    recipient: str,
    status: str,
    code: str,
) -> None:
    mx.start()
    assert mx.mx1 is not None and mx.mx2 is not None
    start_relay(relay, zone, mx, sender_sink)
    qid = submit(relay, SENDER, [recipient], message_bytes())
    [received] = sender_sink.wait_for(1)
    [dsn_qid] = dsn_queued_for(relay, qid)
    relay.wait_for_log(f"event=removed qid={dsn_qid}")
    assert received.recipients == (SENDER,)
    assert f"Final-Recipient: rfc822; {recipient}\r\n".encode() in received.data
    assert f"Status: {status}\r\n".encode() in received.data
    assert f"Diagnostic-Code: smtp; {code} {status} ".encode() in received.data
    log = relay.log()
    assert f"event=bounced qid={qid} to=<{recipient}>" in log
    assert f"event=deferred qid={qid}" not in log  # bounced on the first attempt
    assert "event=connect_failed" not in log
    assert spooled(relay) == {}
    assert relay.stop() == 0
    assert (mx.mx1.connections, mx.mx2.connections) == (0, 0)


def test_dns_failure_defers(
    relay: RelaySetup, zone: DnsServer, mx: MxHosts, sender_sink: Sink
) -> None:
    zone.add("s.test.", "MX", "10 mx1.a.test.")
    zone.fail("s.test.")
    mx.start()
    assert mx.mx1 is not None and mx.mx2 is not None
    start_relay(relay, zone, mx, sender_sink)
    qid = submit(relay, SENDER, ["r@s.test"], message_bytes())
    relay.wait_for_log(f"event=deferred qid={qid} to=<r@s.test>")
    [entry] = queue_list(relay)
    assert entry["queue_id"] == qid
    assert entry["state"] == "deferred"
    assert entry["last_error"] == "451 4.4.3 Temporary DNS failure"
    assert entry["recipients"][0]["state"] == "pending"
    assert relay.stop() == 0
    assert "event=bounced" not in relay.log()
    assert sender_sink.messages == []
    assert (mx.mx1.connections, mx.mx2.connections) == (0, 0)
    assert ("s.test.", "MX") in zone.queries
