"""Settings of outbound TLS security (MTA-STS, DANE, TLS-RPT), with every default and its reason.

``TlsOutboundConfig`` is the ``outbound_tls:`` section of relay.yaml, in the style of
``relay/config/schema.py``. The loader resolves relative paths against the configuration
file's directory; ``resolved`` anchors them at the spool for callers that build it by hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from relay.markers import DURATION, SIZE

MTA_STS_MAX_AGE_LIMIT = 31_557_600
"""RFC 8461 section 3.2: max_age is at most 31557600 seconds (about one year)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsOutboundConfig:
    mta_sts: bool = True
    """Look up and honour recipient domains' MTA-STS policies (RFC 8461)."""
    dane: bool = True
    """Look up TLSA records (RFC 7672). Needs a local validating resolver in ``dns.nameservers``:
    the relay trusts the AD bit of the resolver it asks and does no DNSSEC validation itself."""
    mta_sts_port: int = 443
    """Port of the HTTPS policy host (RFC 8461 section 3.3 says 443); tests use a loopback port."""
    ca_file: Path | None = None
    """CA bundle (PEM) for PKIX checks of MX hosts and policy hosts; None means the system's CAs."""
    cache_path: Path = Path("var/tls/mta-sts.sqlite3")
    """Persistent MTA-STS policy cache (SQLite)."""
    cache_max_entries: int = 10_000
    """Policies kept; the least recently used go first. One per recipient domain seen."""
    state_path: Path = Path("var/tls/state.sqlite3")
    """Persistent cache of TLSA lookup results and of recipient servers' TLS capability."""
    state_max_entries: int = 10_000
    """TLSA results and capabilities kept (each); the longest-stored go first."""
    tlsa_cache_max_ttl: Annotated[float, DURATION] = 86_400.0
    """A TLSA result is reused for its DNS TTL, at most this long."""
    capability_ttl: Annotated[float, DURATION] = 3_600.0
    """How long a probed TLS capability of a recipient domain's server is trusted before it is
    probed again. Only policies with ``recipient_tls`` conditions probe (docs/policy.md). The
    level a delivery then demands is still proven in its own session, so a stale capability can
    only pick a branch whose demand then fails and falls back, never send with less."""
    fetch_timeout: Annotated[float, DURATION] = 20.0
    """Whole policy fetch (connect, TLS, request, body). RFC 8461 section 3.3 suggests senders
    bound it "to a reasonable time"; Postfix's resolver uses 10 s, a slow host gets twice that."""
    max_policy_size: Annotated[int, SIZE] = 64 * 1024
    """RFC 8461 section 3.3: policy bodies larger than 64 KiB are not accepted."""
    report_dir: Path = Path("var/tls/reports")
    """Where TLS-RPT results are appended (one JSONL file per UTC day)."""
    report_organization: str = ""
    """``organization-name`` in TLS-RPT reports (RFC 8460 section 4.4); default: the hostname."""
    report_from: str = ""
    """Sender of the TLS-RPT report mail (``relay tls report --send``); default postmaster@HOSTNAME."""
    report_contact: str = ""
    """``contact-info`` in TLS-RPT reports, e.g. ``mailto:postmaster@example.org``."""
    route_names: dict[str, str] = dataclasses.field(default_factory=dict)
    """Per routed domain (a key of ``routes``), the name the next hop's certificate must carry
    when a route names its host by IP address or by an internal name (Postfix's ``match=``);
    without one, the route's own host is the name."""

    def resolved(self, spool: Path) -> TlsOutboundConfig:
        """The same settings with relative paths anchored at ``spool``."""
        return dataclasses.replace(
            self,
            cache_path=self.cache_path if self.cache_path.is_absolute() else spool / self.cache_path,
            state_path=self.state_path if self.state_path.is_absolute() else spool / self.state_path,
            report_dir=self.report_dir if self.report_dir.is_absolute() else spool / self.report_dir,
        )
