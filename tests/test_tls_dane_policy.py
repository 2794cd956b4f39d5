"""DANE lookups through a validating resolver, and ``TlsPolicy.requirements`` end to end.

The test DNS server stands in for the local validating resolver: ``sign(zone)`` makes it set AD
on answers in that zone (when asked, as unbound does), ``bogus(name)`` makes it SERVFAIL. The
relay's resolver path is the production one (dnspython, AD and DO set in the query).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from dnsserver import DnsServer
from tlsservers import Answer, PolicyServer, policy_body, publish

from relay.model import TlsLevel
from relay.tls.dane import DaneLookup
from relay.tls.dnsquery import DnsClient, DnsKind
from relay.tls.levels import DaneStatus, DomainAction, HopAction, StsMode, TlsRequirement
from relay.tls.outbound import TlsPolicy
from relay.tls.settings import TlsOutboundConfig

TLSA = "3 1 1 " + "ab" * 32


def _zone(dns: DnsServer, domain: str, *hosts: str) -> None:
    for n, host in enumerate(hosts, start=1):
        dns.add(f"{domain}.", "MX", f"{n * 10} {host}.")
        dns.add(f"{host}.", "A", "127.0.0.1")


async def test_ad_bit_is_asked_for_and_read(dns_server: DnsServer) -> None:
    _zone(dns_server, "signed.test", "mx.signed.test")
    _zone(dns_server, "plain.test", "mx.plain.test")
    dns_server.sign("signed.test.")
    client = DnsClient(dns_server.dns_config())
    signed = await client.query("signed.test.", "MX")
    plain = await client.query("plain.test.", "MX")
    denied = await client.query("nothing.signed.test.", "MX")
    assert signed.kind is DnsKind.FOUND and signed.authenticated
    assert plain.kind is DnsKind.FOUND and not plain.authenticated
    assert denied.kind is DnsKind.NXDOMAIN and denied.authenticated


@pytest.mark.parametrize(
    ("signed", "tlsa", "bogus", "status"),
    [
        pytest.param(("example.test.",), True, None, DaneStatus.SECURE, id="secure"),
        pytest.param(("example.test.",), False, None, DaneStatus.INSECURE, id="signed-no-tlsa"),
        pytest.param((), True, None, DaneStatus.INSECURE, id="unsigned-zone"),
        pytest.param(("mx.example.test.",), True, None, DaneStatus.INSECURE, id="unsigned-mx-rrset"),
        pytest.param(
            ("example.test.",), True, "_25._tcp.mx.example.test.", DaneStatus.BOGUS, id="bogus-tlsa"
        ),
        pytest.param(("example.test.",), True, "example.test.", DaneStatus.BOGUS, id="bogus-mx"),
    ],
)
async def test_dane_states(
    dns_server: DnsServer, signed: tuple[str, ...], tlsa: bool, bogus: str | None, status: DaneStatus
) -> None:
    _zone(dns_server, "example.test", "mx.example.test")
    if tlsa:
        dns_server.add("_25._tcp.mx.example.test.", "TLSA", TLSA)
    for zone in signed:
        dns_server.sign(zone)
    if bogus:
        dns_server.bogus(bogus)
    states = await DaneLookup(DnsClient(dns_server.dns_config())).states("example.test", ["mx.example.test"])
    state = states["mx.example.test"]
    assert state.status is status, state.detail
    if status is DaneStatus.SECURE:
        assert [r.presentation() for r in state.records] == [TLSA]


async def test_dane_timeout_is_bogus(dns_server: DnsServer) -> None:
    _zone(dns_server, "example.test", "mx.example.test")
    dns_server.sign("example.test.")
    dns_server.silence("_25._tcp.mx.example.test.")
    lookup = DaneLookup(DnsClient(dns_server.dns_config(timeout=0.3)))
    state = await lookup.tlsa_state("mx.example.test")
    assert state.status is DaneStatus.BOGUS


# -- TlsPolicy.requirements: MTA-STS and DANE together -----------------------------------------


@pytest.fixture
def https(tmp_path: Path) -> Iterator[PolicyServer]:
    server = PolicyServer(LocalCA(tmp_path / "ca")).start()
    yield server
    server.stop()


@pytest.fixture
def policy(dns_server: DnsServer, https: PolicyServer, tmp_path: Path) -> Iterator[TlsPolicy]:
    settings = TlsOutboundConfig(ca_file=https.ca.ca_cert, mta_sts_port=https.port, fetch_timeout=2.0)
    made = TlsPolicy(settings.resolved(tmp_path / "spool"), dns_server.dns_config(timeout=1.0))
    yield made
    made.close()


class _Hop:
    def __init__(self, host: str) -> None:
        self.host = host


async def test_dane_takes_precedence_over_mta_sts(
    dns_server: DnsServer, https: PolicyServer, policy: TlsPolicy
) -> None:
    _zone(dns_server, "both.test", "mx1.both.test", "mx2.both.test", "rogue.other.test")
    dns_server.add("_25._tcp.mx1.both.test.", "TLSA", TLSA)
    dns_server.sign("both.test.")
    publish(dns_server, "both.test", "v=STSv1; id=1")
    https.serve("mta-sts.both.test", Answer(body=policy_body(mx=("*.both.test",))))
    hops = [_Hop("mx1.both.test"), _Hop("mx2.both.test"), _Hop("rogue.other.test")]
    plan = await policy.requirements("both.test", hops, TlsLevel.BEST, TlsLevel.VERIFIED)
    assert plan.sts.mode is StsMode.ENFORCE and plan.action is DomainAction.DELIVER
    mx1, mx2, rogue = plan.hops
    assert (mx1.action, mx1.requirement) == (HopAction.DELIVER, TlsRequirement.DANE)
    assert (mx2.action, mx2.requirement) == (HopAction.DELIVER, TlsRequirement.MTA_STS)
    assert rogue.action is HopAction.SKIP


async def test_policy_in_testing_mode_never_blocks(
    dns_server: DnsServer, https: PolicyServer, policy: TlsPolicy
) -> None:
    _zone(dns_server, "t.test", "mx.t.test")
    publish(dns_server, "t.test", "v=STSv1; id=1")
    https.serve("mta-sts.t.test", Answer(body=policy_body(mode="testing", mx=("other.t.test",))))
    plan = await policy.requirements(
        "t.test", [_Hop("mx.t.test")], TlsLevel.OPPORTUNISTIC, TlsLevel.OPPORTUNISTIC
    )
    hop = plan.hops[0]
    assert hop.action is HopAction.DELIVER and hop.requirement is TlsRequirement.OPPORTUNISTIC
    assert hop.sts_testing and hop.mx_pattern is None
    assert policy.record(plan, hop, None).failure is not None  # reported as a would-be failure


async def test_bogus_dane_defers_and_is_reported(dns_server: DnsServer, policy: TlsPolicy) -> None:
    _zone(dns_server, "bog.test", "mx.bog.test")
    dns_server.sign("bog.test.")
    dns_server.bogus("_25._tcp.mx.bog.test.")
    plan = await policy.requirements("bog.test", [_Hop("mx.bog.test")], TlsLevel.BEST, TlsLevel.OPPORTUNISTIC)
    assert plan.action is DomainAction.DEFER and plan.hops[0].action is HopAction.BOGUS
    result = policy.record(plan, plan.hops[0], None)
    assert result.failure is not None and result.failure.value == "dnssec-invalid"
