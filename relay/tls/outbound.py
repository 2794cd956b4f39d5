"""``TlsPolicy``: the one object delivery talks to about outbound TLS.

Delivery wires it in four steps per recipient domain (see docs/tls.md, "For developers"):

1. ``plan = await tls.requirements(domain, hops, requested, minimum)`` before connecting: per
   hop DELIVER (with a requirement), SKIP, BOGUS or UNMET, and for the domain DELIVER, FALLBACK
   (apply the plan's fallback) or DEFER.
2. For each usable hop: connect with ``tls_context=tls.ssl_context_for(hop)`` (None means no
   STARTTLS at all) and ``server_hostname=hop.host``.
3. Right after STARTTLS, before MAIL FROM: ``check = tls.check_peer(hop, ssl_object, hop.host)``
   with the session's ``ssl.SSLObject`` (None when the session is not encrypted). When
   ``check.ok`` is false: QUIT, and try the next hop; a failed handshake counts the same, its
   reason from ``verify.handshake_failure``. When every usable hop failed,
   ``plan.after_failures(failed_hosts)`` says FALLBACK or DEFER. Never retry a hop with less.
4. ``tls.record(plan, hop, check, receiving_ip=...)`` for TLS-RPT, and ``check`` is what the
   delivery records (level reached, protocol, cipher, certificate).

Before step 1, a recipient whose plan has ``recipient_tls`` branches needs
``await tls.capability(domain, hops, ...)`` to pick its branch (capability.py).

It owns the DNS client, the DANE lookup, the MTA-STS resolver, the persistent caches (MTA-STS
policies; TLSA results and capabilities), the SSL contexts (built once per requirement) and
the TLS-RPT log. ``close()`` releases the caches.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from relay.clock import Clock, SystemClock
from relay.config.schema import DnsConfig
from relay.model import TlsLevel
from relay.tls.capability import dns_capability, probed_capability
from relay.tls.dane import DaneLookup
from relay.tls.dnsquery import DnsClient
from relay.tls.levels import (
    DaneState,
    DomainTlsPlan,
    HopTls,
    StsMode,
    StsState,
    TlsRequirement,
    plan_domain,
)
from relay.tls.mtasts.cache import PolicyCache
from relay.tls.mtasts.fetch import PolicyFetcher
from relay.tls.mtasts.policy import PolicyMode
from relay.tls.mtasts.resolver import MtaStsResolver, MtaStsResult, StsStatus
from relay.tls.names import normalise
from relay.tls.probe import probe
from relay.tls.report import SessionResult, TlsRptLog
from relay.tls.results import FailureType, TlsCheck
from relay.tls.rptresult import session_result
from relay.tls.settings import TlsOutboundConfig
from relay.tls.statecache import Capability, TlsStateCache
from relay.tls.verify import check_peer

MIN_REQUIRED_TLS = ssl.TLSVersion.TLSv1_2
"""When TLS is required it is 1.2 or later (RFC 8996 retired 1.0 and 1.1; RFC 7672 section 8.1)."""


LOOKUP_CACHE_SECONDS = 60.0
"""How long one domain's MTA-STS/DANE lookup results are reused: short, so a changed TLSA or
policy id takes effect within a minute; long enough that a burst to one domain asks once."""
LOOKUP_CACHE_ENTRIES = 10_000
"""Domains remembered at most (cleared when full: a cache miss only costs a lookup)."""
_PROVEN_BY_DNS = frozenset({TlsLevel.BEST, TlsLevel.MTA_STS, TlsLevel.DANE})


class Hop(Protocol):
    """What ``requirements`` needs of a next hop (``relay.delivery.mx.NextHop`` is one)."""

    @property
    def host(self) -> str: ...


class ReachableHop(Hop, Protocol):
    """A next hop with its addresses, for a probe (``relay.delivery.mx.NextHop`` is one)."""

    @property
    def addresses(self) -> tuple[str, ...]: ...


def make_context(requirement: TlsRequirement, *, ca_file: str | None = None) -> ssl.SSLContext | None:
    """The client context for a requirement; None for NONE (do not even try STARTTLS)."""
    if requirement is TlsRequirement.NONE:
        return None
    if requirement.pkix:
        context = ssl.create_default_context(cafile=ca_file)  # CERT_REQUIRED, check_hostname
    else:
        # Unverified: OPPORTUNISTIC and ENCRYPTED by definition, DANE because the TLSA records
        # (checked by check_peer) replace the CAs (RFC 7672 section 3.1).
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if requirement.requires_tls:
        context.minimum_version = MIN_REQUIRED_TLS
    return context


class TlsPolicy:
    def __init__(
        self,
        settings: TlsOutboundConfig,
        dns: DnsConfig,
        *,
        clock: Clock | None = None,
        persistent_cache: bool = True,
    ) -> None:
        self.settings = settings
        self._clock = clock or SystemClock()
        self._dns = DnsClient(dns)
        self._ca_file = str(settings.ca_file) if settings.ca_file is not None else None
        self._cache = (
            PolicyCache(settings.cache_path, max_entries=settings.cache_max_entries)
            if persistent_cache and settings.mta_sts
            else None
        )
        https = ssl.create_default_context(cafile=self._ca_file)
        https.minimum_version = MIN_REQUIRED_TLS
        fetcher = PolicyFetcher(
            self._dns,
            ssl_context=https,
            port=settings.mta_sts_port,
            timeout=settings.fetch_timeout,
            max_size=settings.max_policy_size,
        )
        self._sts = MtaStsResolver(self._dns, fetcher, clock=self._clock, cache=self._cache)
        self._state = (
            TlsStateCache(settings.state_path, max_entries=settings.state_max_entries)
            if persistent_cache
            else None
        )
        self._dane = DaneLookup(
            self._dns, cache=self._state, clock=self._clock, max_ttl=settings.tlsa_cache_max_ttl
        )
        self._contexts = {r: make_context(r, ca_file=self._ca_file) for r in TlsRequirement}
        self.report = TlsRptLog(settings.report_dir)
        self._recent: dict[
            tuple[str, tuple[str, ...], bool], tuple[float, MtaStsResult, dict[str, DaneState]]
        ] = {}

    async def mta_sts(self, domain: str) -> MtaStsResult:
        if not self.settings.mta_sts:
            return MtaStsResult(status=StsStatus.NONE, detail="MTA-STS disabled in the configuration")
        return await self._sts.policy_for(domain)

    async def dane_states(
        self, domain: str, hosts: Sequence[str], *, routed: bool = False
    ) -> dict[str, DaneState]:
        if not self.settings.dane:
            return {}
        return await self._dane.states(domain, hosts, routed=routed)

    async def requirements(
        self,
        domain: str,
        hops: Sequence[Hop],
        requested: TlsLevel,
        minimum: TlsLevel,
        *,
        routed: bool = False,
    ) -> DomainTlsPlan:
        """The TLS plan for ``domain`` over ``hops`` (MX hosts in order, or a static route's
        host with ``routed=True``); DNS and the policy fetch are bounded by their timeouts.

        A static route is the admin's choice of next hop, not the domain's: its MTA-STS and DANE
        records are looked up only when the plan asks for them (best, mta-sts, dane); otherwise
        the route is held to the plan's level alone, with no DNS on the delivery path.
        """
        hosts = [normalise(h.host) for h in hops]
        sts_result = MtaStsResult(status=StsStatus.NONE, detail="not looked up for a static route")
        dane: dict[str, DaneState] = {}
        if not routed or {requested, minimum} & _PROVEN_BY_DNS:
            sts_result, dane = await self._lookups(normalise(domain), hosts, routed=routed)
        return plan_domain(
            normalise(domain),
            hosts,
            requested=requested,
            minimum=minimum,
            sts=sts_state(sts_result),
            dane=dane,
            routed=routed,
        )

    async def _lookups(
        self, domain: str, hosts: list[str], *, routed: bool
    ) -> tuple[MtaStsResult, dict[str, DaneState]]:
        """MTA-STS and DANE for a domain, remembered for ``LOOKUP_CACHE_SECONDS`` so a burst of
        mail to one domain costs one set of queries (the MTA-STS policy has its own cache)."""
        key = (domain, tuple(hosts), routed)
        now = self._clock.monotonic()
        cached = self._recent.get(key)
        if cached is not None and now - cached[0] < LOOKUP_CACHE_SECONDS:
            return cached[1], cached[2]
        sts, dane = await asyncio.gather(self.mta_sts(domain), self.dane_states(domain, hosts, routed=routed))
        if len(self._recent) >= LOOKUP_CACHE_ENTRIES:
            self._recent.clear()
        self._recent[key] = (now, sts, dane)
        return sts, dane

    async def capability(
        self,
        domain: str,
        hops: Sequence[ReachableHop],
        *,
        port: int,
        helo: str,
        timeout: float,
        routed: bool = False,
    ) -> Capability | None:
        """The TLS capability of ``domain``'s server for ``recipient_tls`` rules (capability.py):
        from DNS when it proves DANE or MTA-STS, else a cached or fresh probe of the first usable
        hop that answers; None when none could be reached. A static route is probed, not looked
        up: the admin chose that hop, the domain's records do not describe it."""
        domain = normalise(domain)
        hosts = [normalise(h.host) for h in hops]
        usable = set(hosts)
        if not routed:
            sts, dane = await self._lookups(domain, hosts, routed=False)
            plan = plan_domain(
                domain, hosts, requested=TlsLevel.BEST, minimum=TlsLevel.NONE, sts=sts_state(sts), dane=dane
            )
            if (proven := dns_capability(plan)) is not None:
                return proven
            usable = {h.host for h in plan.usable_hops}
        now = self._clock.now()
        if self._state is not None and (known := self._state.capability(domain, now)) is not None:
            return known
        for hop in hops:
            if normalise(hop.host) not in usable:
                continue
            for address in hop.addresses:
                result = await probe(
                    hop.host,
                    address,
                    port,
                    helo=helo,
                    timeout=timeout,
                    unverified=self._tls_context(TlsRequirement.ENCRYPTED),
                    verified=self._tls_context(TlsRequirement.VERIFIED),
                )
                if (found := probed_capability(result)) is not None:
                    if self._state is not None:
                        self._state.put_capability(domain, found, now=now, ttl=self.settings.capability_ttl)
                    return found
        return None

    def _tls_context(self, requirement: TlsRequirement) -> ssl.SSLContext:
        context = self._contexts[requirement]
        if context is None:
            raise ValueError(f"the requirement {requirement.value} has no TLS context")
        return context

    def ssl_context_for(self, requirement: TlsRequirement | HopTls) -> ssl.SSLContext | None:
        """The context to STARTTLS with (shared, do not modify); None: no STARTTLS at all."""
        if isinstance(requirement, HopTls):
            requirement = requirement.requirement
        return self._contexts[requirement]

    def check_peer(
        self, hop: HopTls, ssl_object: ssl.SSLObject | ssl.SSLSocket | None, host: str
    ) -> TlsCheck:
        """Whether the session meets ``hop``'s requirement (see verify.check_peer)."""
        return check_peer(hop, ssl_object, host, now=datetime.fromtimestamp(self._clock.now(), UTC))

    def record(
        self,
        plan: DomainTlsPlan,
        hop: HopTls,
        check: TlsCheck | None,
        *,
        receiving_ip: str = "",
        sending_ip: str = "",
        failure: FailureType | None = None,
    ) -> SessionResult:
        """Log one session (or refusal) for TLS-RPT and return what was logged."""
        result = session_result(
            plan,
            hop,
            check,
            at=self._clock.now(),
            receiving_ip=receiving_ip,
            sending_ip=sending_ip,
            failure=failure,
        )
        self.report.record(result)
        return result

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        if self._state is not None:
            self._state.close()


def sts_state(result: MtaStsResult) -> StsState:
    """What the TLS levels need to know of an MTA-STS lookup."""
    policy = result.policy
    failure = result.failure.value if result.failure is not None else ""
    if result.status is not StsStatus.VALID or policy is None:
        return StsState(failure=failure)
    mode = {PolicyMode.ENFORCE: StsMode.ENFORCE, PolicyMode.TESTING: StsMode.TESTING}.get(
        policy.mode, StsMode.NONE
    )
    return StsState(
        mode=mode,
        mx=policy.mx,
        policy_id=result.policy_id,
        policy_strings=tuple(policy.to_text().splitlines()),
        failure=failure,
    )
