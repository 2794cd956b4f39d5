"""The stub resolver every DNS client of the relay uses, built from ``dns:`` in relay.yaml.

MX resolution, the MTA-STS TXT lookups, DANE's TLSA lookups and the readiness probe all ask the
same resolvers the same way; building it here keeps them from drifting apart.
"""

from __future__ import annotations

import ipaddress

import dns.asyncresolver
import dns.exception
import dns.inet
import dns.nameserver

from relay.config.schema import DnsConfig
from relay.errors import ConfigError


def stub_resolver(config: DnsConfig) -> dns.asyncresolver.Resolver:
    """The configured nameservers, or /etc/resolv.conf's when none are given; ``lifetime`` is
    the configured timeout."""
    if config.nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        for ns in config.nameservers:
            if not dns.inet.is_address(ns.host):
                raise ConfigError(f"{ns.host!r} is not an IP address", key="dns.nameservers")
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in config.nameservers]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()  # /etc/resolv.conf
        except (dns.exception.DNSException, OSError) as exc:
            raise ConfigError(
                f"no nameservers given and the system resolver is unusable: {exc}", key="dns.nameservers"
            ) from exc
    resolver.lifetime = config.timeout
    return resolver


def remote_nameservers(resolver: dns.asyncresolver.Resolver) -> list[str]:
    """The resolver's nameservers that are not on this host. DANE trusts their AD bit, which
    is only as trustworthy as the network it crossed (RFC 7672 section 1.3)."""
    found = []
    for nameserver in resolver.nameservers:
        if isinstance(nameserver, dns.nameserver.AddressAndPortNameserver):
            address = nameserver.address
        elif isinstance(nameserver, str):
            address = nameserver
        else:  # a URL (DNS over HTTPS): not this host, as far as we can tell
            found.append(str(nameserver))
            continue
        if not ipaddress.ip_address(address).is_loopback:
            found.append(address)
    return found
