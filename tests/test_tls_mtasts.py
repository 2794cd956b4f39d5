"""MTA-STS resolution end to end: real DNS server, real HTTPS policy server, on loopback.

The 25 cases of postfix-mta-sts-resolver (shared/corpora/mta-sts/snawoot_cases.json) run as
published: their TXT records from the test DNS server, their policy bodies (with the HTTP status,
Content-Type, certificate and transfer encoding they name) from a loopback HTTPS server whose
certificates come from a test CA. Then the bounds (redirects, slow hosts, size), the cache
(max_age, TXT id change, restarts, fetch failures) and the resolver path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from certs import LocalCA
from dnsserver import DnsServer
from tlsservers import Answer, PolicyServer, policy_body, publish

from relay.clock import FakeClock
from relay.tls.dnsquery import DnsClient
from relay.tls.mtasts.cache import PolicyCache
from relay.tls.mtasts.fetch import FetchStatus, PolicyFetcher
from relay.tls.mtasts.policy import PolicyMode
from relay.tls.mtasts.resolver import MtaStsResolver, StsFailure, StsStatus

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "mta-sts" / "snawoot_cases.json"
OVERLENGTH = policy_body() + b"a" * 131_000
OVER = b"x" * (64 * 1024 + 1)
POLICY = policy_body()
HTTP = FetchStatus.HTTP_STATUS
HTTP_OK = FetchStatus.OK


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def https(ca: LocalCA) -> Iterator[PolicyServer]:
    server = PolicyServer(ca).start()
    try:
        yield server
    finally:
        server.stop()


class World:
    """A resolver wired to the DNS server and HTTPS server, with a fake clock and a cache."""

    def __init__(self, dns: DnsServer, https: PolicyServer, ca: LocalCA, cache_path: Path) -> None:
        self.dns = dns
        self.https = https
        self.clock = FakeClock()
        self.cache_path = cache_path
        self.client = DnsClient(dns.dns_config(timeout=0.5))
        self.fetcher = PolicyFetcher(
            self.client, ssl_context=ca.client_context(), port=https.port, timeout=2.0, max_size=64 * 1024
        )
        self.cache = PolicyCache(cache_path)
        self.resolver = self.make_resolver()

    def make_resolver(self) -> MtaStsResolver:
        return MtaStsResolver(self.client, self.fetcher, clock=self.clock, cache=self.cache)

    def restart(self) -> None:
        self.cache.close()
        self.cache = PolicyCache(self.cache_path)
        self.resolver = self.make_resolver()


@pytest.fixture
def world(dns_server: DnsServer, https: PolicyServer, ca: LocalCA, tmp_path: Path) -> Iterator[World]:
    made = World(dns_server, https, ca, tmp_path / "cache" / "mta-sts.sqlite3")
    yield made
    made.cache.close()


# -- the corpus ---------------------------------------------------------------------------------


def _cases() -> list[Any]:
    data = json.loads(CORPUS.read_text())
    return [pytest.param(case, id=case["domain"]) for case in data["cases"]]


def _serve_case(world: World, ca: LocalCA, tmp_path: Path, case: dict[str, Any]) -> None:
    domain = case["domain"].strip(".")
    policy = case["policy"]
    if domain == "blackhole.loc":
        world.dns.silence("_mta-sts.blackhole.loc.")
        return
    if domain == "no-data.loc":
        world.dns.add("_mta-sts.no-data.loc.", "A", "127.0.0.1")
    publish(world.dns, domain, case["txt_record"])
    if policy is None:
        return
    body = policy["body"].encode()
    transfer = policy.get("transfer", "")
    if body.startswith(b"<valid policy followed by"):
        body = OVERLENGTH
    host = f"mta-sts.{domain}"
    cert = None
    if policy["cert"] == "signed by an untrusted CA":
        cert = LocalCA(tmp_path / "untrusted", name="Untrusted CA").issue(host)
    elif domain == "bad-cert2.loc":
        cert = ca.issue("bad-cert2.loc")
    answer = Answer(
        status=policy["http_status"],
        body=body,
        content_type=policy["content_type"],
        chunked=transfer == "chunked",
    )
    world.https.serve(host, answer, cert=cert)


@pytest.mark.parametrize("case", _cases())
async def test_snawoot_case(case: dict[str, Any], world: World, ca: LocalCA, tmp_path: Path) -> None:
    _serve_case(world, ca, tmp_path, case)
    result = await world.resolver.policy_for(case["domain"])
    expected = case["expected"].split()[0]
    assert result.status is StsStatus[expected], result.detail
    if case["domain"].startswith("."):
        assert world.https.requests == [] and world.dns.queries == []  # malformed: nothing asked
    if result.status is StsStatus.VALID:
        assert result.policy is not None and result.policy_id == "20180907T090909"
    if case["domain"] == "fast-expire.loc":
        assert world.https.requests == ["mta-sts.fast-expire.loc"]
        world.clock.advance(2)  # max_age: 1 has run out: fetched again
        again = await world.resolver.policy_for(case["domain"])
        assert again.status is StsStatus.VALID and not again.from_cache
        assert len(world.https.requests) == 2


def test_corpus_has_25_cases() -> None:
    assert len(_cases()) == 25


# -- bounds of the fetch (RFC 8461 section 3.3) ---------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        pytest.param(Answer(status=301, location="https://elsewhere.loc/"), HTTP, id="redirect"),
        pytest.param(Answer(status=302, location="/other"), HTTP, id="relative-redirect"),
        pytest.param(Answer(status=500), HTTP, id="server-error"),
        pytest.param(Answer(body=POLICY, content_type="text/html"), FetchStatus.CONTENT_TYPE, id="html"),
        pytest.param(Answer(body=POLICY, content_type=""), FetchStatus.CONTENT_TYPE, id="no-type"),
        pytest.param(Answer(body=OVER), FetchStatus.TOO_LARGE, id="one-byte-over-fixed"),
        pytest.param(Answer(body=OVER, chunked=True), FetchStatus.TOO_LARGE, id="one-byte-over-chunked"),
        pytest.param(Answer(body=OVER[1:]), FetchStatus.OK, id="exactly-64k"),
        pytest.param(Answer(body=POLICY, content_type="text/plain; charset=utf-8"), HTTP_OK, id="charset"),
        pytest.param(Answer(body=POLICY, delay=5), FetchStatus.TIMEOUT, id="slow"),
    ],
)
async def test_fetch_bounds(world: World, answer: Answer, status: FetchStatus) -> None:
    publish(world.dns, "bounds.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.bounds.loc", answer)
    result = await world.fetcher.fetch("bounds.loc")
    assert result.status is status, result.detail
    assert world.https.requests == ["mta-sts.bounds.loc"]  # a redirect is never followed


async def test_fetch_without_address_is_a_dns_error(world: World) -> None:
    world.dns.add("_mta-sts.noaddr.loc.", "TXT", '"v=STSv1; id=1"')
    result = await world.fetcher.fetch("noaddr.loc")
    assert result.status is FetchStatus.DNS_ERROR


async def test_fetch_connects_to_the_address_from_the_relays_resolver(
    world: World, ca: LocalCA, tmp_path: Path
) -> None:
    """mta-sts.DOMAIN resolves to 127.0.0.2 through the test DNS server; a second server there
    (not the one on 127.0.0.1) answers, with SNI and certificate checks for mta-sts.DOMAIN."""
    other = PolicyServer(ca, host="127.0.0.2", port=world.https.port)
    try:
        other.start()
    except OSError:
        other.stop()  # its loop thread runs already: leave no running loop behind
        pytest.skip("port taken on 127.0.0.2")
    try:
        other.serve("mta-sts.two.loc", Answer(body=policy_body(mx=("mx.two.loc",))))
        world.https.serve("mta-sts.two.loc", Answer(body=policy_body(mx=("wrong.two.loc",))))
        publish(world.dns, "two.loc", "v=STSv1; id=1", address="127.0.0.2")
        result = await world.resolver.policy_for("two.loc")
        assert result.policy is not None and result.policy.mx == ("mx.two.loc",)
        assert other.requests == ["mta-sts.two.loc"] and world.https.requests == []
    finally:
        other.stop()


# -- the cache (RFC 8461 section 5.1) ----------------------------------------------------------


async def test_cached_policy_is_used_while_the_id_is_unchanged(world: World) -> None:
    publish(world.dns, "c.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body()))
    first = await world.resolver.policy_for("c.loc")
    second = await world.resolver.policy_for("c.loc")
    assert not first.from_cache and second.from_cache
    assert first.policy == second.policy
    assert len(world.https.requests) == 1


async def test_a_new_txt_id_refreshes_the_policy(world: World) -> None:
    publish(world.dns, "c.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body(mode="testing")))
    first = await world.resolver.policy_for("c.loc")
    assert first.policy is not None and first.policy.mode is PolicyMode.TESTING
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body(mode="enforce")))
    assert (await world.resolver.policy_for("c.loc")).from_cache  # same id: not fetched
    world.dns.remove("_mta-sts.c.loc.", "TXT")
    world.dns.add("_mta-sts.c.loc.", "TXT", '"v=STSv1; id=2"')
    second = await world.resolver.policy_for("c.loc")
    assert second.policy_id == "2" and not second.from_cache
    assert second.policy is not None and second.policy.mode is PolicyMode.ENFORCE
    assert len(world.https.requests) == 2


async def test_a_failing_txt_lookup_keeps_the_cached_policy(world: World) -> None:
    publish(world.dns, "c.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body()))
    await world.resolver.policy_for("c.loc")
    world.dns.fail("_mta-sts.c.loc.")
    kept = await world.resolver.policy_for("c.loc")
    assert kept.status is StsStatus.VALID and kept.from_cache


async def test_a_failing_txt_lookup_without_cache_is_a_fetch_error(world: World) -> None:
    world.dns.fail("_mta-sts.f.loc.")
    result = await world.resolver.policy_for("f.loc")
    assert result.status is StsStatus.FETCH_ERROR


async def test_cache_survives_a_restart_and_expires_with_max_age(world: World) -> None:
    publish(world.dns, "c.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body(max_age=600)))
    await world.resolver.policy_for("c.loc")
    world.restart()
    world.https.serve("mta-sts.c.loc", Answer(status=500))  # fetching now would fail
    kept = await world.resolver.policy_for("c.loc")
    assert kept.status is StsStatus.VALID and kept.from_cache
    world.clock.advance(601)
    expired = await world.resolver.policy_for("c.loc")
    assert expired.status is StsStatus.FETCH_ERROR and expired.failure is StsFailure.FETCH_ERROR


async def test_a_failed_refresh_keeps_the_fresh_cached_policy(world: World) -> None:
    publish(world.dns, "c.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.c.loc", Answer(body=policy_body()))
    await world.resolver.policy_for("c.loc")
    world.dns.add("_mta-sts.c.loc.", "TXT", '"v=STSv1; id=2"')  # now two records: no valid record
    kept = await world.resolver.policy_for("c.loc")
    assert kept.status is StsStatus.VALID and kept.from_cache


async def test_an_invalid_policy_is_reported_as_such(world: World) -> None:
    publish(world.dns, "inv.loc", "v=STSv1; id=1")
    world.https.serve("mta-sts.inv.loc", Answer(body=b"version: STSv1\nmode: enforce\nmax_age: 1\n"))
    result = await world.resolver.policy_for("inv.loc")
    assert result.status is StsStatus.FETCH_ERROR and result.failure is StsFailure.INVALID


async def test_an_untrusted_certificate_is_a_webpki_failure(world: World, tmp_path: Path) -> None:
    publish(world.dns, "pki.loc", "v=STSv1; id=1")
    other = LocalCA(tmp_path / "other", name="Other CA")
    world.https.serve("mta-sts.pki.loc", Answer(body=policy_body()), cert=other.issue("mta-sts.pki.loc"))
    result = await world.resolver.policy_for("pki.loc")
    assert result.status is StsStatus.FETCH_ERROR and result.failure is StsFailure.WEBPKI_INVALID


def test_cache_is_bounded(tmp_path: Path) -> None:
    from relay.tls.mtasts.cache import CachedPolicy
    from relay.tls.mtasts.policy import StsPolicy

    cache = PolicyCache(tmp_path / "c.sqlite3", max_entries=3)
    policy = StsPolicy(mode=PolicyMode.ENFORCE, max_age=60, mx=("mx.a.loc",))
    for n in range(5):
        cache.put(
            CachedPolicy(domain=f"d{n}.loc", policy_id="1", policy=policy, fetched_at=n, expires_at=n + 60)
        )
    assert len(cache) == 3
    assert cache.get("d0.loc") is None and cache.get("d4.loc") is not None
    cache.close()
