"""Next-hop resolution against a real DNS server on loopback (tests/dnsserver.py)."""

from __future__ import annotations

import random
import time

import pytest
from dnsserver import DnsServer

from relay.config.schema import DnsConfig, HostPort
from relay.delivery.mx import (
    MAX_MX_HOSTS,
    MxResolver,
    NextHop,
    Resolution,
    ResolutionStatus,
    reply_for,
)
from relay.errors import ConfigError
from relay.model import Reply


def resolver(server: DnsServer, *, seed: int = 0, timeout: float = 2.0) -> MxResolver:
    return MxResolver(server.dns_config(timeout=timeout), rng=random.Random(seed))


async def test_mx_hosts_sorted_by_preference(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "20 mx2.example.test.", "10 mx1.example.test.")
    dns_server.add("mx1.example.test.", "A", "127.0.0.2")
    dns_server.add("mx2.example.test.", "A", "127.0.0.3", "127.0.0.4")

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.OK
    assert result.detail == ""
    # Addresses keep the order of the answer, which an RRset does not fix: compare as sets.
    assert [(hop.host, hop.preference, set(hop.addresses)) for hop in result.hops] == [
        ("mx1.example.test", 10, {"127.0.0.2"}),
        ("mx2.example.test", 20, {"127.0.0.3", "127.0.0.4"}),
    ]


async def test_equal_preference_shuffled_by_the_injected_random(dns_server: DnsServer) -> None:
    equal = [f"mx{i}.example.test" for i in range(1, 6)]
    dns_server.add("example.test.", "MX", *(f"10 {h}." for h in equal), "20 backup.example.test.")
    for host in [*equal, "backup.example.test"]:
        dns_server.add(f"{host}.", "A", "127.0.0.2")

    orders = set()
    for seed in range(8):
        expected = sorted(equal)
        random.Random(seed).shuffle(expected)
        first = await resolver(dns_server, seed=seed).resolve("example.test")
        again = await resolver(dns_server, seed=seed).resolve("example.test")
        hosts = [hop.host for hop in first.hops]
        assert hosts == [*expected, "backup.example.test"]
        assert [hop.host for hop in again.hops] == hosts
        orders.add(tuple(hosts))
    assert len(orders) > 1


async def test_same_host_listed_twice_keeps_its_best_preference(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "30 mx.example.test.", "5 mx.example.test.")
    dns_server.add("mx.example.test.", "A", "127.0.0.2")

    result = await resolver(dns_server).resolve("example.test")

    assert result.hops == (NextHop(host="mx.example.test", preference=5, addresses=("127.0.0.2",)),)


async def test_no_mx_falls_back_to_the_domains_own_address(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "A", "127.0.0.5")
    dns_server.add("example.test.", "TXT", '"v=spf1 -all"')

    result = await resolver(dns_server).resolve("Example.TEST")

    assert result.status is ResolutionStatus.OK
    assert result.hops == (NextHop(host="example.test", preference=0, addresses=("127.0.0.5",)),)


async def test_internationalised_domain_is_asked_in_a_labels(dns_server: DnsServer) -> None:
    dns_server.add("xn--bcher-kva.test.", "A", "127.0.0.5")

    result = await resolver(dns_server).resolve("bücher.test")

    assert result.hops == (NextHop(host="xn--bcher-kva.test", preference=0, addresses=("127.0.0.5",)),)


async def test_implicit_mx_with_only_aaaa(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "AAAA", "::1")

    result = await resolver(dns_server).resolve("example.test")

    assert result.hops == (NextHop(host="example.test", preference=0, addresses=("::1",)),)


async def test_mx_host_with_a_and_aaaa(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "10 mx.example.test.")
    dns_server.add("mx.example.test.", "A", "127.0.0.2")
    dns_server.add("mx.example.test.", "AAAA", "::1")

    result = await resolver(dns_server).resolve("example.test")

    assert result.hops == (NextHop(host="mx.example.test", preference=10, addresses=("127.0.0.2", "::1")),)


async def test_null_mx(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "0 .")
    dns_server.add("example.test.", "A", "127.0.0.5")  # RFC 7505: the null MX wins

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.NULL_MX
    assert result.hops == ()
    assert reply_for(result) == Reply(code=556, enhanced="5.1.10", text="Recipient address has null MX")


async def test_null_mx_beside_real_hosts_is_ignored(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "0 .", "10 mx.example.test.")
    dns_server.add("mx.example.test.", "A", "127.0.0.2")

    result = await resolver(dns_server).resolve("example.test")

    assert [hop.host for hop in result.hops] == ["mx.example.test"]


async def test_nxdomain(dns_server: DnsServer) -> None:
    dns_server.add("other.test.", "A", "127.0.0.5")

    result = await resolver(dns_server).resolve("missing.test")

    assert result.status is ResolutionStatus.NO_SUCH_DOMAIN
    assert "NXDOMAIN" in result.detail
    assert reply_for(result).code == 550
    assert reply_for(result).enhanced == "5.1.2"


async def test_domain_without_mx_or_address_does_not_exist_for_mail(
    dns_server: DnsServer,
) -> None:
    dns_server.add("example.test.", "TXT", '"hello"')

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.NO_SUCH_DOMAIN
    assert "no MX and no address records" in result.detail


@pytest.mark.parametrize(
    "domain", ["a..test", "", "x" * 64 + ".test"], ids=["empty-label", "empty", "long-label"]
)
async def test_invalid_domain_is_not_queried(dns_server: DnsServer, domain: str) -> None:
    result = await resolver(dns_server).resolve(domain)

    assert result.status is ResolutionStatus.NO_SUCH_DOMAIN
    assert dns_server.queries == []


async def test_servfail_is_temporary(dns_server: DnsServer) -> None:
    dns_server.fail("example.test.")

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.TEMPORARY
    assert "SERVFAIL" in result.detail
    assert reply_for(result) == Reply(code=451, enhanced="4.4.3", text="Temporary DNS failure")


async def test_silent_server_times_out_as_temporary(dns_server: DnsServer) -> None:
    dns_server.silence("example.test.")

    started = time.monotonic()
    result = await resolver(dns_server, timeout=0.5).resolve("example.test")

    assert result.status is ResolutionStatus.TEMPORARY
    assert "timed out" in result.detail
    assert time.monotonic() - started < 2.0


async def test_mx_host_without_address_is_skipped(dns_server: DnsServer) -> None:
    dns_server.add(
        "example.test.", "MX", "10 gone.example.test.", "20 bare.example.test.", "30 mx.example.test."
    )
    dns_server.add("bare.example.test.", "TXT", '"no address here"')
    dns_server.add("mx.example.test.", "A", "127.0.0.2")

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.OK
    assert [hop.host for hop in result.hops] == ["mx.example.test"]
    assert "gone.example.test A: NXDOMAIN" in result.detail
    assert "bare.example.test AAAA: no records" in result.detail


async def test_no_mx_host_has_an_address(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "10 gone1.example.test.", "20 gone2.example.test.")

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.NO_ADDRESS
    assert result.hops == ()
    assert reply_for(result) == Reply(code=451, enhanced="4.4.4", text="No MX host has an address")


async def test_mx_host_lookup_failure_without_other_hosts_is_temporary(
    dns_server: DnsServer,
) -> None:
    dns_server.add("example.test.", "MX", "10 mx.example.test.", "20 gone.example.test.")
    dns_server.fail("mx.example.test.")

    result = await resolver(dns_server).resolve("example.test")

    assert result.status is ResolutionStatus.TEMPORARY
    assert "mx.example.test A" in result.detail


async def test_ip_literal_mx_target_is_its_own_address(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "10 127.0.0.9.")

    result = await resolver(dns_server).resolve("example.test")

    assert result.hops == (NextHop(host="127.0.0.9", preference=10, addresses=("127.0.0.9",)),)
    assert ("127.0.0.9.", "A") not in dns_server.queries


async def test_mx_target_behind_cname(dns_server: DnsServer) -> None:
    dns_server.add("example.test.", "MX", "10 alias.example.test.")
    dns_server.add("alias.example.test.", "CNAME", "real.example.test.")
    dns_server.add("real.example.test.", "A", "127.0.0.2")

    result = await resolver(dns_server).resolve("example.test")

    assert result.hops == (NextHop(host="alias.example.test", preference=10, addresses=("127.0.0.2",)),)


async def test_large_mx_set_over_tcp_and_capped(dns_server: DnsServer) -> None:
    # 60 long MX names do not fit in 1232 octets: the answer is truncated and retried over TCP.
    hosts = [f"mx{i:02d}-{'x' * 40}.example.test" for i in range(60)]
    dns_server.add("example.test.", "MX", *(f"{i} {h}." for i, h in enumerate(hosts)))
    for host in hosts:
        dns_server.add(f"{host}.", "A", "127.0.0.2")

    result = await resolver(dns_server).resolve("example.test")

    assert [hop.host for hop in result.hops] == hosts[:MAX_MX_HOSTS]
    asked = {name for name, rdtype in dns_server.queries if rdtype == "A"}
    assert asked == {f"{h}." for h in hosts[:MAX_MX_HOSTS]}


@pytest.mark.parametrize(
    ("status", "code", "enhanced"),
    [
        (ResolutionStatus.NULL_MX, 556, "5.1.10"),
        (ResolutionStatus.NO_SUCH_DOMAIN, 550, "5.1.2"),
        (ResolutionStatus.TEMPORARY, 451, "4.4.3"),
        (ResolutionStatus.NO_ADDRESS, 451, "4.4.4"),
    ],
    ids=lambda v: v.name if isinstance(v, ResolutionStatus) else str(v),
)
def test_reply_for(status: ResolutionStatus, code: int, enhanced: str) -> None:
    reply = reply_for(Resolution(status=status))

    assert (reply.code, reply.enhanced) == (code, enhanced)
    assert reply.is_permanent is (code >= 500)


def test_reply_for_ok_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="OK"):
        reply_for(Resolution(status=ResolutionStatus.OK))


def test_nameserver_must_be_an_ip_address() -> None:
    config = DnsConfig(nameservers=(HostPort(host="dns.example.test", port=53),))

    with pytest.raises(ConfigError, match=r"dns\.nameservers"):
        MxResolver(config)
