"""The shape of ``relay.yaml``: every key, its type and its default, in one place.

The loader walks these dataclasses generically, so adding a key means adding a field here
(with its reason) and a line in docs/configuration.md. Field types carry the parsing rule:
``Annotated[float, DURATION]`` accepts ``90``, ``"90s"``, ``"5m"``, ``"1h"``, ``"5d"``;
``Annotated[int, SIZE]`` accepts ``1048576``, ``"512K"``, ``"25M"``, ``"1G"``. Relative paths
are resolved against the directory of the configuration file.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from relay.audit.settings import AuditConfig
from relay.cpus import available_cores
from relay.errors import ConfigError
from relay.markers import DURATION as DURATION
from relay.markers import SIZE as SIZE
from relay.phi.settings import PhiSettings
from relay.tls.settings import TlsOutboundConfig

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class HostPort:
    """``host:port``; IPv6 literals are written ``[::1]:25``."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenConfig:
    smtp: HostPort = HostPort(host="127.0.0.1", port=2525)
    metrics: HostPort = HostPort(host="127.0.0.1", port=9025)
    portal: HostPort = HostPort(host="127.0.0.1", port=8025)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressTlsConfig:
    """Certificate for STARTTLS on the ingress listener; both or neither."""

    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    """SMTP AUTH (PLAIN, LOGIN) against a file written by ``relay user add``; only after TLS."""

    users_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsConfig:
    """Ingress limits; defaults follow Postfix's where it has one."""

    max_message_size: Annotated[int, SIZE] = 25 * 1024 * 1024
    """Refused with 552 5.3.4. Postfix's message_size_limit is 10 MB; clinical attachments run larger."""
    max_recipients: int = 1000
    """Per message; further RCPTs get 452 4.5.3 (RFC 5321 4.5.3.1.8, Postfix smtpd_recipient_limit)."""
    max_line_length: int = 998
    """Octets per line excluding CRLF (RFC 5322 2.1.1); longer lines fail the DATA with 500 5.5.2."""
    command_timeout: Annotated[float, DURATION] = 300.0
    """Idle time allowed between commands (RFC 5321 4.5.3.2.7 suggests 5 minutes)."""
    data_timeout: Annotated[float, DURATION] = 600.0
    """Total time allowed for the DATA phase of one message."""
    max_connections: int = 500
    max_connections_per_ip: int = 50
    """Postfix smtpd_client_connection_count_limit; 421 4.7.0 beyond it."""
    pipeline_timeout: Annotated[float, DURATION] = 60.0
    """Budget for extract -> detect -> decide; exceeded means 451 4.3.0, never 250."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryConfig:
    port: int = 25
    """TCP port of MX hosts (RFC 5321 uses 25); only tests and odd networks change it."""
    retry_schedule: tuple[Annotated[float, DURATION], ...] = (60.0, 300.0, 900.0, 3600.0)
    """Delays after the 1st, 2nd, ... failed attempt; the last one repeats."""
    max_queue_lifetime: Annotated[float, DURATION] = 5 * 86400.0
    """After this a still-deferred recipient is bounced (Postfix maximal_queue_lifetime)."""
    connect_timeout: Annotated[float, DURATION] = 30.0
    command_timeout: Annotated[float, DURATION] = 300.0
    """Per SMTP command toward the remote server (RFC 5321 4.5.3.2 gives 2-10 minutes)."""
    max_concurrency: int = 100
    """Deliveries in flight at once, all destinations together."""
    max_per_destination: int = 20
    """Parallel connections to one destination (Postfix default_destination_concurrency_limit)."""
    max_messages_per_connection: int = 100
    """A connection to a destination is reused for this many messages, then closed."""
    connection_idle_timeout: Annotated[float, DURATION] = 5.0
    """How long an idle reusable connection is kept open."""
    shutdown_timeout: Annotated[float, DURATION] = 30.0
    """On SIGTERM, in-flight deliveries get this long to finish; the rest stays spooled."""
    poll_interval: Annotated[float, DURATION] = 1.0
    """How often the scheduler looks for due messages it was not told about."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsConfig:
    nameservers: tuple[HostPort, ...] = ()
    """Resolvers to ask; empty means the system's /etc/resolv.conf."""
    timeout: Annotated[float, DURATION] = 10.0


MAX_TOP_DOMAINS = 50
"""Domains an admin may list for per-domain delivery counts (each costs 3 series per node)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    top_domains: tuple[str, ...] = ()
    """Recipient domains that get their own ``domain`` label value in
    ``relay_delivery_outcomes_total``; every other domain is counted as ``other``, so no label
    grows with the mail that flows (docs/metrics.md)."""

    def __post_init__(self) -> None:
        if len(set(self.top_domains)) > MAX_TOP_DOMAINS:
            raise ConfigError(
                f"at most {MAX_TOP_DOMAINS} domains, got {len(set(self.top_domains))}",
                key="metrics.top_domains",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole of ``relay.yaml``."""

    hostname: str = field(default_factory=socket.getfqdn)
    """Our name in the greeting, EHLO toward recipients and DSNs."""
    listen: ListenConfig = ListenConfig()
    spool: Path = Path("var/spool")
    policies: Path = Path("policies")
    relay_from: tuple[IPNetwork, ...] = (ipaddress.ip_network("127.0.0.0/8"),)
    """Client networks allowed to relay without AUTH."""
    internal_domains: tuple[str, ...] = ()
    """The organisation's own mail domains (and their subdomains), for the policy conditions
    ``recipient_internal`` and ``sender_internal``."""
    routes: dict[str, HostPort] = field(default_factory=dict)
    """Static next hops by recipient domain; they bypass MX lookup."""
    tls: IngressTlsConfig = IngressTlsConfig()
    auth: AuthConfig = AuthConfig()
    limits: LimitsConfig = LimitsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    dns: DnsConfig = DnsConfig()
    phi: PhiSettings = field(default_factory=PhiSettings)
    """PHI detection in every message before it is queued (docs/phi.md)."""
    outbound_tls: TlsOutboundConfig = field(default_factory=TlsOutboundConfig)
    """TLS toward recipients' servers: MTA-STS, DANE, the CA store, TLS-RPT (docs/tls.md)."""
    audit: AuditConfig = field(default_factory=AuditConfig)
    """The tamper-evident audit log (docs/audit.md); on by default, next to the spool."""
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    """What the Prometheus exposition labels by recipient domain (docs/metrics.md)."""
    workers: int = 1
    """Ingress/delivery processes sharing the listener (SO_REUSEPORT) and the spool; 0 = one per core."""
    log_level: str = "info"
    source: Path = Path("relay.yaml")
    """The file this was loaded from (set by the loader, not a key)."""

    def processes(self) -> int:
        """How many relay processes ``workers`` asks for on this machine."""
        return self.workers or available_cores()

    def __post_init__(self) -> None:
        for domain in self.outbound_tls.route_names:
            if domain not in self.routes:
                raise ConfigError(
                    "names the certificate of a route that does not exist; add the domain to routes",
                    key=f"outbound_tls.route_names.{domain}",
                )
