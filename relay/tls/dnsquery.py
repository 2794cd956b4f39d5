"""DNS questions of the TLS layer (TLSA, MX security, MTA-STS TXT, policy host addresses).

Asked through the relay's configured resolver (``dns.nameservers``), never behind its back, so
tests point it at a loopback server and production at a local validating resolver. Each query
asks for DNSSEC status (AD and DO set, RFC 6840 section 5.7 and RFC 3225) and returns whether
the answer was authenticated: the relay trusts the AD bit of the resolver it is configured
with, so that resolver must be a validating one on the same host (unbound on 127.0.0.1), since an
AD bit that crossed a network is only as good as that network.

Every outcome is a ``DnsAnswer`` value; dnspython's exceptions end here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.resolver

from relay.config.schema import DnsConfig
from relay.dnsresolver import stub_resolver

EDNS_PAYLOAD = 1232
"""As in relay/delivery/mx.py (DNS flag day 2020): fits TLSA sets without fragmentation."""


class DnsKind(enum.Enum):
    FOUND = "found"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    """The resolver answered SERVFAIL: for a validating resolver, often a bogus signature."""
    TIMEOUT = "timeout"
    ERROR = "error"
    """Anything else that left us without an answer (refused, malformed, network error)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswer:
    kind: DnsKind
    rdata: tuple[dns.rdata.Rdata, ...] = ()
    authenticated: bool = False
    """The resolver set AD: the answer (or the denial) is DNSSEC-validated."""
    ttl: int = 0
    """How long the answer may be reused: the RRset's TTL, or for a denial the negative TTL of
    the zone's SOA (RFC 2308 section 5); 0 when the resolver did not say (do not keep it)."""
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in (DnsKind.SERVFAIL, DnsKind.TIMEOUT, DnsKind.ERROR)


class DnsClient:
    """dnspython's async stub resolver, configured from ``DnsConfig``, asking for AD."""

    def __init__(self, config: DnsConfig) -> None:
        resolver = stub_resolver(config)
        resolver.flags = dns.flags.RD | dns.flags.AD
        resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
        self._resolver = resolver
        self._timeout = config.timeout

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """One lookup of ``name`` (absolute or not, no search list), bounded by the DNS timeout."""
        try:
            qname = dns.name.from_text(name)
            kind = dns.rdatatype.from_text(rdtype)
        except dns.exception.DNSException as exc:
            return DnsAnswer(kind=DnsKind.ERROR, detail=f"{name}: invalid name: {exc}")
        what = f"{qname.to_text(omit_final_dot=True)} {rdtype}"
        try:
            answer = await self._resolver.resolve(
                qname, kind, lifetime=self._timeout, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN as exc:
            responses: list[dns.message.Message] = list((exc.kwargs.get("responses") or {}).values())
            return DnsAnswer(
                kind=DnsKind.NXDOMAIN,
                authenticated=bool(responses) and all(bool(r.flags & dns.flags.AD) for r in responses),
                ttl=min((_negative_ttl(r) for r in responses), default=0),
                detail=f"{what}: NXDOMAIN",
            )
        except dns.resolver.LifetimeTimeout:
            return DnsAnswer(kind=DnsKind.TIMEOUT, detail=f"{what}: timed out after {self._timeout:g}s")
        except dns.resolver.NoNameservers as exc:
            errors = exc.kwargs.get("errors") or []
            servfail = any(str(error[3]) == "SERVFAIL" for error in errors)
            text = (
                "; ".join(f"{error[0]} answered {error[3]}" for error in errors) or "no nameserver answered"
            )
            return DnsAnswer(kind=DnsKind.SERVFAIL if servfail else DnsKind.ERROR, detail=f"{what}: {text}")
        except (dns.exception.DNSException, OSError) as exc:
            return DnsAnswer(kind=DnsKind.ERROR, detail=f"{what}: {type(exc).__name__}: {exc}")
        authenticated = bool(answer.response.flags & dns.flags.AD)
        if answer.rrset is None:
            return DnsAnswer(
                kind=DnsKind.NODATA,
                authenticated=authenticated,
                ttl=_negative_ttl(answer.response),
                detail=f"{what}: no records",
            )
        return DnsAnswer(
            kind=DnsKind.FOUND, rdata=tuple(answer.rrset), authenticated=authenticated, ttl=answer.rrset.ttl
        )


def _negative_ttl(response: dns.message.Message) -> int:
    """RFC 2308 section 5: a denial is cached for min(SOA TTL, SOA MINIMUM) of the authority's SOA."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return int(min(rrset.ttl, rrset[0].minimum))
    return 0
