"""DANE state of MX hosts: TLSA records at ``_25._tcp.HOST``, used only when DNSSEC-secure.

RFC 7672 section 2: DANE applies to an MX host when the domain's MX RRset is authenticated
(section 2.2.1; for a domain without MX, its own signed denial stands in) and the host's TLSA
RRset is authenticated too. "Authenticated" means the AD bit of the configured resolver (see
dnsquery.py): this module does no DNSSEC validation itself and trusts only a local validating
resolver. A SERVFAIL or timeout where a validated answer was needed is "bogus" (section 2.1.1):
the host must not be delivered to until DNS recovers.

The port in the TLSA name is 25, the SMTP service (RFC 7672 section 2.2.3), even when tests
deliver to another port. TLSA results are kept for their TTL in the persistent state cache
(statecache.py) when one is given, so they survive a restart of the relay or its resolver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from dns.rdtypes.ANY.TLSA import TLSA

from relay.clock import Clock, SystemClock
from relay.tls.dnsquery import DnsAnswer, DnsClient, DnsKind
from relay.tls.levels import DaneState, DaneStatus
from relay.tls.names import is_ip, normalise
from relay.tls.statecache import TlsStateCache
from relay.tls.tlsa import TlsaRecord

SMTP_PORT = 25


class DaneLookup:
    def __init__(
        self,
        dns: DnsClient,
        *,
        cache: TlsStateCache | None = None,
        clock: Clock | None = None,
        max_ttl: float = 86_400.0,
    ) -> None:
        self._dns = dns
        self._cache = cache
        self._clock = clock or SystemClock()
        self._max_ttl = max_ttl

    async def states(
        self, domain: str, hosts: Sequence[str], *, routed: bool = False
    ) -> dict[str, DaneState]:
        """DANE state per host of ``hosts``; ``routed`` hosts come from a static route, not from
        the domain's MX records, so the MX RRset's security does not apply to them."""
        if not hosts:
            return {}
        if not routed:
            gate = await self._mx_gate(domain)
            if gate is not None:
                return dict.fromkeys(hosts, gate)
        found = await asyncio.gather(*(self.tlsa_state(host) for host in hosts))
        return dict(zip(hosts, found, strict=True))

    async def _mx_gate(self, domain: str) -> DaneState | None:
        """None when the MX RRset (or its signed denial) is authenticated, else the state of every
        host: insecure for an unsigned domain, bogus when the validating resolver failed."""
        mx = await self._dns.query(normalise(domain) + ".", "MX")
        if mx.failed:
            return DaneState(status=DaneStatus.BOGUS, detail=f"MX lookup failed: {mx.detail}")
        if not mx.authenticated:
            return DaneState(
                status=DaneStatus.INSECURE, detail=f"MX RRset of {normalise(domain)} is not DNSSEC-signed"
            )
        return None

    async def tlsa_state(self, host: str) -> DaneState:
        """The DANE state of one host from its TLSA RRset alone (cached for its TTL)."""
        name = normalise(host)
        if is_ip(name):
            return DaneState(
                status=DaneStatus.INSECURE, detail=f"{name} is an address, it has no TLSA records"
            )
        now = self._clock.now()
        if self._cache is not None and (cached := self._cache.tlsa(name, now)) is not None:
            return cached
        answer = await self._dns.query(f"_{SMTP_PORT}._tcp.{name}.", "TLSA")
        state = _tlsa_state(name, answer)
        if self._cache is not None:
            self._cache.put_tlsa(name, state, now=now, ttl=min(answer.ttl, self._max_ttl))
        return state


def _tlsa_state(name: str, answer: DnsAnswer) -> DaneState:
    if answer.failed:
        return DaneState(status=DaneStatus.BOGUS, detail=f"TLSA lookup failed: {answer.detail}")
    if answer.kind is not DnsKind.FOUND:
        signed = "signed denial" if answer.authenticated else "unsigned"
        return DaneState(status=DaneStatus.INSECURE, detail=f"no TLSA records for {name} ({signed})")
    if not answer.authenticated:
        return DaneState(
            status=DaneStatus.INSECURE, detail=f"TLSA records of {name} are not DNSSEC-signed"
        )
    records = tuple(
        TlsaRecord(usage=r.usage, selector=r.selector, mtype=r.mtype, data=bytes(r.cert))
        for r in answer.rdata
        if isinstance(r, TLSA)
    )
    usable = sum(r.usable for r in records)
    return DaneState(
        status=DaneStatus.SECURE,
        records=records,
        detail=f"{len(records)} TLSA record(s) for {name}, {usable} usable",
    )
