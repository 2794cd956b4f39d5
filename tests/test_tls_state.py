"""What the relay remembers about recipients' TLS across restarts: TLSA results and capability.

The cache is a file; "a restart" here is a second ``TlsPolicy`` (or cache) opened on the same
file after the first was closed, as a restarted relay does. Lookups go to the test DNS server
standing in for the validating resolver, probes to real STARTTLS servers with test-CA certificates.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from dnsserver import TTL, DnsServer
from tlsservers import StarttlsServer

from relay.clock import FakeClock
from relay.delivery.mx import NextHop
from relay.errors import ConfigError
from relay.model import TlsLevel
from relay.tls.levels import DaneState, DaneStatus
from relay.tls.outbound import TlsPolicy
from relay.tls.settings import TlsOutboundConfig
from relay.tls.statecache import Capability, TlsStateCache
from relay.tls.tlsa import TlsaRecord

TLSA = "3 1 1 " + "ab" * 32
HOST = "mx.example.test"
SECURE = DaneState(status=DaneStatus.SECURE, records=(TlsaRecord.from_text(TLSA),), detail="1 TLSA record")


# -- the cache file -----------------------------------------------------------------------------


def test_tlsa_results_survive_reopening_until_their_ttl(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = TlsStateCache(path)
    first.put_tlsa(HOST, SECURE, now=1000.0, ttl=300)
    first.close()
    again = TlsStateCache(path)
    found = again.tlsa(HOST, 1299.0)
    assert found is not None and found.status is DaneStatus.SECURE
    assert [r.presentation() for r in found.records] == [TLSA]
    assert "cached" in found.detail
    assert again.tlsa(HOST, 1300.0) is None  # the TTL ran out
    assert again.tlsa("other.example.test", 1000.0) is None


@pytest.mark.parametrize(
    ("state", "ttl"),
    [
        pytest.param(DaneState(status=DaneStatus.BOGUS, detail="SERVFAIL"), 300, id="bogus"),
        pytest.param(SECURE, 0, id="no-ttl"),
    ],
)
def test_bogus_results_and_answers_without_ttl_are_not_kept(
    tmp_path: Path, state: DaneState, ttl: int
) -> None:
    cache = TlsStateCache(tmp_path / "state.sqlite3")
    cache.put_tlsa(HOST, state, now=1000.0, ttl=ttl)
    assert cache.tlsa(HOST, 1000.0) is None


def test_capabilities_survive_reopening_until_they_expire(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = TlsStateCache(path)
    first.put_capability("example.test", Capability(level=TlsLevel.VERIFIED, detail="probe"), now=0.0, ttl=60)
    first.close()
    again = TlsStateCache(path)
    found = again.capability("example.test", 59.0)
    assert found is not None and found.level is TlsLevel.VERIFIED
    assert again.capability("example.test", 60.0) is None


def test_both_tables_are_bounded_oldest_first(tmp_path: Path) -> None:
    cache = TlsStateCache(tmp_path / "state.sqlite3", max_entries=3)
    for n in range(5):
        cache.put_tlsa(f"mx{n}.test", SECURE, now=float(n), ttl=1000)
        cache.put_capability(f"d{n}.test", Capability(level=TlsLevel.NONE, detail=""), now=float(n), ttl=1000)
    assert [cache.tlsa(f"mx{n}.test", 10.0) is not None for n in range(5)] == [False, False, True, True, True]
    kept = [cache.capability(f"d{n}.test", 10.0) is not None for n in range(5)]
    assert kept == [False, False, True, True, True]


def test_rows_it_cannot_read_are_looked_up_again(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    TlsStateCache(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO tlsa_results VALUES (?, 'secure', 'not a record', '', 0, 1e12)", (HOST,))
        db.execute("INSERT INTO capabilities VALUES ('example.test', 'superb', '', 0, 1e12)")
    cache = TlsStateCache(path)
    assert cache.tlsa(HOST, 1.0) is None
    assert cache.capability("example.test", 1.0) is None


def test_an_unwritable_cache_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as raised:
        TlsStateCache(blocker / "state.sqlite3")
    assert raised.value.key == "outbound_tls.state_path"


# -- TLSA lookups through TlsPolicy ---------------------------------------------------------------

PolicyFactory = Callable[[], TlsPolicy]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_policy(
    tmp_path: Path, dns_server: DnsServer, clock: FakeClock, local_ca: LocalCA
) -> Iterator[PolicyFactory]:
    """A fresh ``TlsPolicy`` on the same spool each call: a restart of the relay."""
    made: list[TlsPolicy] = []
    settings = TlsOutboundConfig(mta_sts=False, ca_file=local_ca.ca_cert).resolved(tmp_path / "spool")

    def make() -> TlsPolicy:
        for old in made:
            old.close()
        made.append(TlsPolicy(settings, dns_server.dns_config(), clock=clock))
        return made[-1]

    yield make
    if made:
        made[-1].close()


def _signed_zone(dns: DnsServer) -> None:
    dns.add("example.test.", "MX", f"10 {HOST}.")
    dns.add(f"{HOST}.", "A", "127.0.0.1")
    dns.add(f"_25._tcp.{HOST}.", "TLSA", TLSA)
    dns.sign("example.test.")


async def test_a_restarted_relay_reuses_tlsa_results_within_their_ttl(
    dns_server: DnsServer, make_policy: PolicyFactory, clock: FakeClock
) -> None:
    _signed_zone(dns_server)
    first = await make_policy().dane_states("example.test", [HOST])
    assert first[HOST].status is DaneStatus.SECURE
    dns_server.remove(f"_25._tcp.{HOST}.", "TLSA")  # changed in DNS: not seen until the TTL ends
    restarted = make_policy()
    again = await restarted.dane_states("example.test", [HOST])
    assert again[HOST].status is DaneStatus.SECURE and "cached" in again[HOST].detail
    clock.advance(TTL)
    later = await make_policy().dane_states("example.test", [HOST])
    assert later[HOST].status is DaneStatus.INSECURE, later[HOST].detail


async def test_a_bogus_answer_is_asked_again_after_a_restart(
    dns_server: DnsServer, make_policy: PolicyFactory
) -> None:
    _signed_zone(dns_server)
    dns_server.bogus(f"_25._tcp.{HOST}.")
    assert (await make_policy().dane_states("example.test", [HOST]))[HOST].status is DaneStatus.BOGUS
    dns_server.heal(f"_25._tcp.{HOST}.")  # the resolver recovered
    again = await make_policy().dane_states("example.test", [HOST])
    assert again[HOST].status is DaneStatus.SECURE and "cached" not in again[HOST].detail


# -- the capability of a recipient's server ---------------------------------------------------------


def _hop(server: StarttlsServer) -> NextHop:
    return NextHop(host=HOST, preference=10, addresses=(server.host,))


async def _capability(policy: TlsPolicy, server: StarttlsServer) -> Capability | None:
    return await policy.capability(
        "example.test", [_hop(server)], port=server.port, helo="relay.test", timeout=5, routed=True
    )


@pytest.mark.parametrize(
    ("kind", "level"),
    [
        pytest.param("valid", TlsLevel.VERIFIED, id="valid-certificate"),
        pytest.param("wrong-name", TlsLevel.ENCRYPTED, id="wrong-name"),
        pytest.param("self-signed", TlsLevel.ENCRYPTED, id="self-signed"),
        pytest.param("expired", TlsLevel.ENCRYPTED, id="expired"),
        pytest.param("no-starttls", TlsLevel.NONE, id="no-starttls"),
    ],
)
async def test_probed_capability(
    local_ca: LocalCA, make_policy: PolicyFactory, kind: str, level: TlsLevel
) -> None:
    cert = {
        "valid": lambda: local_ca.issue(HOST),
        "wrong-name": lambda: local_ca.issue("other.example.test"),
        "self-signed": lambda: local_ca.issue(HOST, self_signed=True),
        "expired": lambda: local_ca.issue(HOST, expired=True),
        "no-starttls": lambda: None,
    }[kind]()
    with StarttlsServer(cert) as server:
        found = await _capability(make_policy(), server)
        assert found is not None and found.level is level, found
        assert "MAIL" not in server.commands  # a probe never sends mail


async def test_a_probed_capability_is_kept_across_a_restart_until_it_expires(
    local_ca: LocalCA, make_policy: PolicyFactory, clock: FakeClock, tmp_path: Path
) -> None:
    with StarttlsServer(local_ca.issue(HOST)) as server:
        first = await _capability(make_policy(), server)
        probes = server.sessions
        assert first is not None and first.level is TlsLevel.VERIFIED and probes >= 1
        again = await _capability(make_policy(), server)
        assert again is not None and again.level is TlsLevel.VERIFIED and "cached" in again.detail
        assert server.sessions == probes  # not probed again
        clock.advance(TlsOutboundConfig().capability_ttl)
        await _capability(make_policy(), server)
        assert server.sessions > probes


async def test_an_unreachable_server_has_no_capability_and_nothing_is_kept(
    make_policy: PolicyFactory, local_ca: LocalCA
) -> None:
    policy = make_policy()
    hop = NextHop(host=HOST, preference=10, addresses=("127.0.0.1",))
    # Bound and never listening, so refused for certain: a port freed by a stopped server could be
    # taken by the next port-0 bind meanwhile.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        found = await policy.capability("example.test", [hop], port=port, helo="relay.test", timeout=2)
    assert found is None
    with StarttlsServer(local_ca.issue(HOST)) as back:
        assert (await _capability(policy, back)) is not None
        assert back.sessions >= 1  # nothing was cached: probed again


async def test_dns_proven_dane_needs_no_probe(
    dns_server: DnsServer, make_policy: PolicyFactory, local_ca: LocalCA
) -> None:
    _signed_zone(dns_server)
    with StarttlsServer(local_ca.issue(HOST)) as server:
        found = await make_policy().capability(
            "example.test", [_hop(server)], port=server.port, helo="relay.test", timeout=5
        )
        assert found is not None and found.level is TlsLevel.DANE, found
        assert server.sessions == 0
