"""``recipient_tls`` rules decided at delivery time, through the running relay.

The recipient domain's MX (a STARTTLS server with a test-CA certificate) is found through the
test DNS server; the relay trusts the test CA (``outbound_tls.ca_file``). The policy delivers
directly when the server supports at least ``verified`` and holds the copy for the portal
otherwise, so what reaches the server (or not) shows which branch the relay chose.
"""

from __future__ import annotations

import textwrap

from certs import LocalCA
from dnsserver import DnsServer
from helpers import SENDER, message_bytes
from relayproc import RelaySetup, queue_list
from smtpclient import submit
from tlsservers import StarttlsServer

MX = "mx.partner.test"
POLICY = """\
rules:
  - name: direct-when-verified
    when:
      recipient_domain: partner.test
      recipient_tls: {at_least: verified}
    then:
      deliver: {tls: verified, fallback: defer}
  - name: partner-portal
    when: {recipient_domain: partner.test}
    then: {encrypt: portal}
"""


def start_relay(relay: RelaySetup, dns: DnsServer, server: StarttlsServer, ca: LocalCA) -> None:
    dns.add("partner.test.", "MX", f"10 {MX}.")
    dns.add(f"{MX}.", "A", server.host)
    (relay.directory / "policies" / "partner.yaml").write_text(textwrap.dedent(POLICY))
    relay.configure(
        dns={"nameservers": [f"{dns.host}:{dns.port}"]},
        delivery={"port": server.port},
        outbound_tls={"ca_file": str(ca.ca_cert), "mta_sts": False},
    )
    relay.start()


def test_a_server_with_verified_tls_gets_the_message_directly(
    relay: RelaySetup, dns_server: DnsServer, local_ca: LocalCA
) -> None:
    with StarttlsServer(local_ca.issue(MX)) as server:
        start_relay(relay, dns_server, server, local_ca)
        qid = submit(relay, SENDER, ["dr@partner.test"], message_bytes(body="SENTINEL-5521"))
        relay.wait_for_log(f"event=removed qid={qid}")
        [received] = server.messages
        assert received.tls and b"SENTINEL-5521" in received.data
        log = relay.log()
        assert f"event=tls_capability qid={qid} domain=partner.test capability=verified" in log
        assert "rule=direct-when-verified plan=deliver/verified/defer" in log
        assert relay.stop() == 0


def test_a_server_without_verified_tls_never_sees_the_message(
    relay: RelaySetup, dns_server: DnsServer, local_ca: LocalCA
) -> None:
    with StarttlsServer(local_ca.issue(MX, self_signed=True)) as server:
        start_relay(relay, dns_server, server, local_ca)
        qid = submit(relay, SENDER, ["dr@partner.test"], message_bytes(body="SENTINEL-5522"))
        relay.wait_for_log(f"event=tls_capability qid={qid} domain=partner.test capability=encrypted")
        relay.wait_for_log(f"event=deferred qid={qid}")
        assert "rule=- plan=portal/" in relay.log()
        assert server.messages == [] and "MAIL" not in server.commands  # probed, never sent to
        [entry] = queue_list(relay)
        assert entry["queue_id"] == qid
        assert "4.7.0" in str(entry)  # held for the portal
        assert relay.stop() == 0


def test_the_probed_capability_outlives_a_restart(
    relay: RelaySetup, dns_server: DnsServer, local_ca: LocalCA
) -> None:
    with StarttlsServer(local_ca.issue(MX)) as server:
        start_relay(relay, dns_server, server, local_ca)
        first = submit(relay, SENDER, ["dr@partner.test"], message_bytes())
        relay.wait_for_log(f"event=removed qid={first}")
        assert relay.stop() == 0
        sessions = server.sessions
        relay.start()
        second = submit(relay, SENDER, ["dr@partner.test"], message_bytes())
        relay.wait_for_log(f"event=removed qid={second}")
        assert len(server.messages) == 2
        assert server.sessions == sessions + 1  # the delivery only: no second probe
        assert "(cached)" in relay.log().split(f"event=tls_capability qid={second}")[1].splitlines()[0]
        assert relay.stop() == 0
