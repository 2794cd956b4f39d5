"""Next-hop resolution for a recipient domain (RFC 5321 section 5.1, RFC 7505).

This module owns one question: for a recipient domain, which hosts do we try, in which order,
and at which addresses? The answer is a ``Resolution`` value; NXDOMAIN, a null MX, SERVFAIL
and timeouts are statuses, never exceptions. dnspython's exceptions are translated here and
none escapes. Static ``routes`` bypass this module; the scheduler applies them before asking.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import random
from dataclasses import dataclass
from itertools import groupby

import dns.asyncresolver
import dns.exception
import dns.inet
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA

from relay.config.schema import DnsConfig, HostPort
from relay.dnsresolver import stub_resolver
from relay.model import Reply

MAX_MX_HOSTS = 10
"""MX hosts whose addresses we look up, best preference first. A hostile zone could list
hundreds; every one costs two queries. Postfix tries at most 5 addresses (smtp_mx_address_limit)."""

EDNS_PAYLOAD = 1232
"""UDP payload size we advertise (DNS flag day 2020): large MX sets fit without TCP fallback,
and no answer is big enough to be fragmented."""


class ResolutionStatus(enum.Enum):
    OK = "ok"
    NULL_MX = "null-mx"
    """The domain publishes a null MX: it accepts no mail (RFC 7505); bounce."""
    NO_SUCH_DOMAIN = "no-such-domain"
    """NXDOMAIN, an invalid name, or no MX and no address records at all; bounce."""
    TEMPORARY = "temporary"
    """SERVFAIL, timeout or no nameserver answered; defer."""
    NO_ADDRESS = "no-address"
    """MX hosts exist but none has an address; deferred like Postfix (often a transient error)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NextHop:
    host: str
    """The MX target (or the domain itself for an implicit MX), lower-case, no final dot."""
    preference: int
    addresses: tuple[str, ...]
    """IPv4 addresses first, then IPv6, as the DNS returned them; never empty."""


def route_hop(route: HostPort, certificate_name: str | None = None) -> NextHop:
    """The one next hop of a static route: connect to the route's host, and hold its
    certificate to ``certificate_name`` (``outbound_tls.route_names``) or else to that host."""
    return NextHop(host=(certificate_name or route.host).lower(), preference=0, addresses=(route.host,))


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    status: ResolutionStatus
    hops: tuple[NextHop, ...] = ()
    """Hosts to try in order; non-empty exactly when status is OK."""
    detail: str = ""
    """What the DNS said, for logs: failures, or the MX hosts skipped on an OK result."""


_REPLIES = {
    # RFC 7505 section 4.2 (556 and the enhanced code 5.1.10 are defined there).
    ResolutionStatus.NULL_MX: Reply(code=556, enhanced="5.1.10", text="Recipient address has null MX"),
    # RFC 3463 X.1.2: the destination system does not exist or cannot accept mail.
    ResolutionStatus.NO_SUCH_DOMAIN: Reply(code=550, enhanced="5.1.2", text="Host or domain name not found"),
    # RFC 3463 X.4.3: directory server failure (the DNS could not be asked).
    ResolutionStatus.TEMPORARY: Reply(code=451, enhanced="4.4.3", text="Temporary DNS failure"),
    # RFC 3463 X.4.4: unable to route.
    ResolutionStatus.NO_ADDRESS: Reply(code=451, enhanced="4.4.4", text="No MX host has an address"),
}


def reply_for(resolution: Resolution) -> Reply:
    """The reply to record against a recipient whose domain could not be resolved.

    Asking for the reply of an OK resolution is a programming error (``ValueError``).
    """
    try:
        return _REPLIES[resolution.status]
    except KeyError:
        raise ValueError(f"no failure reply for a {resolution.status.name} resolution") from None


class _Kind(enum.Enum):
    FOUND = "found"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"
    TEMPORARY = "temporary"


@dataclass(frozen=True, slots=True)
class _Answer:
    """One query's outcome, dnspython's exceptions already translated."""

    kind: _Kind
    rdata: tuple[dns.rdata.Rdata, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Addresses:
    addresses: tuple[str, ...]
    temporary: bool = False
    detail: str = ""


class MxResolver:
    """Resolves recipient domains to ordered next hops through dnspython's async stub resolver."""

    def __init__(self, config: DnsConfig, *, rng: random.Random | None = None) -> None:
        resolver = stub_resolver(config)
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
        self._resolver = resolver
        self._timeout = config.timeout
        self._rng = rng if rng is not None else random.Random()

    async def resolve(self, domain: str) -> Resolution:
        """Next hops for ``domain``; takes at most about twice the configured DNS timeout."""
        try:
            name = dns.name.from_text(domain)  # absolute; U-labels become A-labels (IDNA)
        except dns.exception.DNSException as exc:  # empty or over-long label, bad IDNA
            return Resolution(status=ResolutionStatus.NO_SUCH_DOMAIN, detail=f"invalid domain: {exc}")
        if len(name) < 2:  # the root itself is nobody's mail domain
            return Resolution(status=ResolutionStatus.NO_SUCH_DOMAIN, detail="empty domain")
        mx = await self._query(name, dns.rdatatype.MX)
        if mx.kind is _Kind.NXDOMAIN:
            return Resolution(status=ResolutionStatus.NO_SUCH_DOMAIN, detail=mx.detail)
        if mx.kind is _Kind.TEMPORARY:
            return Resolution(status=ResolutionStatus.TEMPORARY, detail=mx.detail)
        if mx.kind is _Kind.NODATA:
            return await self._implicit_mx(name)
        return await self._explicit_mx(tuple(r for r in mx.rdata if isinstance(r, MX)))

    async def _implicit_mx(self, name: dns.name.Name) -> Resolution:
        # RFC 5321 section 5.1: no MX records means the domain itself, preference 0.
        found = await self._addresses(name)
        if found.addresses:
            hop = NextHop(host=_host_text(name), preference=0, addresses=found.addresses)
            return Resolution(status=ResolutionStatus.OK, hops=(hop,))
        if found.temporary:
            return Resolution(status=ResolutionStatus.TEMPORARY, detail=found.detail)
        return Resolution(
            status=ResolutionStatus.NO_SUCH_DOMAIN,
            detail=f"no MX and no address records: {found.detail}",
        )

    async def _explicit_mx(self, records: tuple[MX, ...]) -> Resolution:
        # RFC 7505 section 3: a lone MX whose target is "." says "no mail here". A "." listed
        # beside real hosts violates the RFC; we ignore it and use the real hosts.
        best: dict[dns.name.Name, int] = {}
        for record in records:
            if record.exchange != dns.name.root:
                best[record.exchange] = min(record.preference, best.get(record.exchange, 65535))
        if not best:
            return Resolution(status=ResolutionStatus.NULL_MX, detail="null MX (RFC 7505)")
        ordered = self._order(best)[:MAX_MX_HOSTS]
        found = await asyncio.gather(*(self._addresses(host) for host, _ in ordered))
        hops = tuple(
            NextHop(host=_host_text(host), preference=pref, addresses=f.addresses)
            for (host, pref), f in zip(ordered, found, strict=True)
            if f.addresses
        )
        detail = "; ".join(f.detail for f in found if not f.addresses)
        if hops:
            return Resolution(status=ResolutionStatus.OK, hops=hops, detail=detail)
        if any(f.temporary for f in found):
            return Resolution(status=ResolutionStatus.TEMPORARY, detail=detail)
        return Resolution(status=ResolutionStatus.NO_ADDRESS, detail=detail)

    def _order(self, best: dict[dns.name.Name, int]) -> list[tuple[dns.name.Name, int]]:
        """Ascending preference; hosts of equal preference in random order (RFC 5321 5.1)."""
        by_pref = sorted(best.items(), key=lambda item: (item[1], item[0].to_text()))
        ordered: list[tuple[dns.name.Name, int]] = []
        for _, group in groupby(by_pref, key=lambda item: item[1]):
            same = list(group)
            self._rng.shuffle(same)
            ordered.extend(same)
        return ordered

    async def _addresses(self, host: dns.name.Name) -> _Addresses:
        """A and AAAA of ``host`` looked up in parallel, or the host itself if it is an IP."""
        literal = _ip_literal(host)
        if literal is not None:
            # RFC 5321 5.1 forbids IP literals as MX targets, but they occur in the wild.
            return _Addresses(addresses=(literal,))
        answers = await asyncio.gather(
            self._query(host, dns.rdatatype.A), self._query(host, dns.rdatatype.AAAA)
        )
        addresses = dict.fromkeys(
            r.address for answer in answers for r in answer.rdata if isinstance(r, A | AAAA)
        )
        return _Addresses(
            addresses=tuple(addresses),
            temporary=any(answer.kind is _Kind.TEMPORARY for answer in answers),
            detail="; ".join(a.detail for a in answers if a.kind is not _Kind.FOUND),
        )

    async def _query(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> _Answer:
        """One lookup, bounded by the resolver lifetime (the configured DNS timeout)."""
        what = f"{_host_text(name)} {rdtype.name}"
        try:
            answer = await self._resolver.resolve(name, rdtype, lifetime=self._timeout, search=False)
        except dns.resolver.NXDOMAIN:
            return _Answer(_Kind.NXDOMAIN, detail=f"{what}: NXDOMAIN")
        except dns.resolver.NoAnswer:
            return _Answer(_Kind.NODATA, detail=f"{what}: no records")
        except dns.resolver.LifetimeTimeout:
            return _Answer(_Kind.TEMPORARY, detail=f"{what}: timed out after {self._timeout:g}s")
        except dns.resolver.NoNameservers as exc:
            return _Answer(_Kind.TEMPORARY, detail=f"{what}: {_server_errors(exc)}")
        except (dns.exception.DNSException, OSError) as exc:
            return _Answer(_Kind.TEMPORARY, detail=f"{what}: {type(exc).__name__}: {exc}")
        return _Answer(_Kind.FOUND, rdata=tuple(answer))


def _host_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _ip_literal(name: dns.name.Name) -> str | None:
    text = _host_text(name).removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _server_errors(exc: dns.resolver.NoNameservers) -> str:
    """``127.0.0.1@53 answered SERVFAIL`` for each server that failed, from dnspython's trace."""
    errors = exc.kwargs.get("errors") or []
    answers = [f"{error[0]} answered {error[3]}" for error in errors]
    return "; ".join(answers) or "no nameserver answered"
