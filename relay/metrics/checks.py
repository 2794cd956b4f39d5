"""Readiness checks for ``/readyz``: each a named probe that returns None when fine, else why not.

The server takes whatever probes it is given; these are the ones the relay needs, built from
what the serving process can see: the spool directory (can we write there?), the workers'
metric files (has every live worker loaded its policy?) and the configured DNS resolver (does
it answer?). A probe is bounded by its own timeout; not-ready is a value, never an exception.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from relay.config.schema import DnsConfig
from relay.metrics.collectors import DB_NAME, WorkerList
from relay.metrics.multiproc import live_gauge_files, read_gauge

Probe = Callable[[], str | None]

DNS_PROBE_TIMEOUT = 2.0
"""Upper bound on the resolver probe, below the usual 5 s probe timeout of an orchestrator;
dns.timeout applies when it is shorter."""
DNS_PROBE_NAME = "."
"""The root zone's SOA: every resolver answers it, from cache, without leaving the site."""
READY_GAUGE = "relay_policy_loaded"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadinessCheck:
    name: str
    """Shown before the reason in a 503 (``spool: ...``)."""
    probe: Probe


def spool_check(spool: Path, *, min_free_bytes: int = 0) -> ReadinessCheck:
    """A file can be created, written and removed in the spool, and the disk has room."""

    def probe() -> str | None:
        try:
            with tempfile.NamedTemporaryFile(dir=spool, prefix=".readyz-") as handle:
                handle.write(b"x")
                handle.flush()
            free = shutil.disk_usage(spool).free
        except OSError as exc:
            return f"cannot write in {spool}: {exc.strerror or exc}"
        if free < min_free_bytes:
            return f"{free} bytes free, below {min_free_bytes}"
        database = spool / DB_NAME
        if database.exists() and not os.access(database, os.W_OK):
            return f"{database} is not writable"
        return None

    return ReadinessCheck(name="spool", probe=probe)


def workers_policy_check(directory: Path, workers: WorkerList) -> ReadinessCheck:
    """Every live worker reports ``relay_policy_loaded 1`` in its multiprocess gauge files."""

    def probe() -> str | None:
        live = list(workers())
        if not live:
            return "no worker is running"
        files = live_gauge_files(directory, live)
        for worker in live:
            if read_gauge(files[worker.index], READY_GAUGE) != 1:
                return f"worker {worker.index} has not loaded a policy yet"
        return None

    return ReadinessCheck(name="policy", probe=probe)


def policy_check(is_loaded: Callable[[], bool]) -> ReadinessCheck:
    """For a process that holds the policy itself."""
    return ReadinessCheck(name="policy", probe=lambda: None if is_loaded() else "no policy is loaded")


def dns_check(config: DnsConfig) -> ReadinessCheck:
    """The configured resolver (or /etc/resolv.conf's) answers a query for the root SOA."""
    timeout = min(config.timeout, DNS_PROBE_TIMEOUT)

    def probe() -> str | None:
        try:
            resolver = _resolver(config)
        except dns.resolver.NoResolverConfiguration:
            return "no nameserver configured"
        try:
            resolver.resolve(DNS_PROBE_NAME, dns.rdatatype.SOA, lifetime=timeout, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None  # an answer, even a negative one, is what readiness asks for
        except dns.resolver.LifetimeTimeout:
            return f"resolver did not answer within {timeout:g}s"
        except dns.resolver.NoNameservers as exc:
            return f"resolver failed: {_first_line(str(exc))}"
        except dns.exception.DNSException as exc:
            return f"resolver error: {type(exc).__name__}"
        return None

    return ReadinessCheck(name="dns", probe=probe)


def _resolver(config: DnsConfig) -> dns.resolver.Resolver:
    if not config.nameservers:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in config.nameservers]
    return resolver


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""
