"""The TLS capability of a recipient domain's server: what ``recipient_tls`` rules are decided on.

A rule such as ``recipient_tls: {at_least: verified}`` is about the server the copy would go to,
which is known only at delivery time (docs/policy.md). The capability is the strongest level
the domain's preferred usable next hop can be held to:

* DANE or MTA-STS when the domain's DNS proves it (DNSSEC-signed usable TLSA records; an
  MTA-STS policy in enforce mode listing the host), from the same lookups delivery makes;
* otherwise what a probe of that host reaches: VERIFIED when a handshake with PKIX checks for
  the host name succeeds, ENCRYPTED when only an unverified one does, NONE when the server
  offers no STARTTLS or no handshake succeeds. The probe (relay/tls/probe.py) sends no mail.

Probed capabilities are kept in the state cache for ``capability_ttl``. A capability never
lowers what is demanded: the branch it selects states its own level, and the delivery session
must prove that level like any other.
"""

from __future__ import annotations

from relay.model import TlsLevel
from relay.tls.levels import DomainTlsPlan, TlsRequirement
from relay.tls.probe import ProbeResult
from relay.tls.statecache import Capability

_PROVEN_BY_DNS = frozenset({TlsRequirement.DANE, TlsRequirement.MTA_STS})


def dns_capability(plan: DomainTlsPlan) -> Capability | None:
    """DANE or MTA-STS when the domain's DNS proves it for its preferred usable hop (``plan``
    made with ``requested=best`` and no minimum); None when a probe has to tell."""
    usable = plan.usable_hops
    if not usable or usable[0].requirement not in _PROVEN_BY_DNS:
        return None
    hop = usable[0]
    how = "DNSSEC-signed TLSA records" if hop.requirement is TlsRequirement.DANE else "MTA-STS policy"
    return Capability(level=hop.requirement.level, detail=f"{hop.host}: {how}")


def probed_capability(result: ProbeResult) -> Capability | None:
    """What one probe showed; None when the server could not be reached (nothing learned)."""
    where = f"{result.host}[{result.address}]:{result.port}"
    session = result.session
    if not session.connected:
        return None
    if result.pkix_ok:
        return Capability(level=TlsLevel.VERIFIED, detail=f"{where}: PKIX-verified TLS")
    if session.tls_established:
        why = result.pkix.error if result.pkix is not None and result.pkix.error else "not verified"
        return Capability(level=TlsLevel.ENCRYPTED, detail=f"{where}: TLS, certificate {why}")
    if session.starttls_offered:
        return Capability(level=TlsLevel.NONE, detail=f"{where}: STARTTLS failed: {session.error}")
    return Capability(level=TlsLevel.NONE, detail=f"{where}: no STARTTLS")
