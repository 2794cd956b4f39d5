"""relay.yaml loading: defaults, a full round trip, and one exact error line per failure mode."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import pickle
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import yaml

from relay.audit.settings import AddressMode, AuditConfig, FsyncPolicy, SubjectMode
from relay.config import Config, load_config
from relay.config import values as v
from relay.config.schema import (
    AuthConfig,
    DeliveryConfig,
    DnsConfig,
    HostPort,
    IngressTlsConfig,
    LimitsConfig,
    ListenConfig,
    MetricsConfig,
)
from relay.cpus import available_cores
from relay.errors import ConfigError
from relay.phi.settings import PhiSettings
from relay.tls.settings import TlsOutboundConfig


def write(directory: Path, text: str, name: str = "relay.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    """A directory holding the files the TLS and AUTH keys may point at."""
    (tmp_path / "cert.pem").write_text("cert")
    (tmp_path / "key.pem").write_text("key")
    (tmp_path / "adir").mkdir()
    return tmp_path


# --- defaults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "# every key commented out\n", "---\n", "tls:\nroutes:\nlimits:\n"],
    ids=["empty", "comments-only", "empty-document", "null-sections"],
)
def test_empty_file_gives_the_shipped_defaults(tmp_path: Path, text: str) -> None:
    config = load_config(write(tmp_path, text))
    assert config == dataclasses.replace(
        Config(),
        spool=tmp_path / "var/spool",
        policies=tmp_path / "policies",
        audit=AuditConfig(directory=tmp_path / "var/audit"),
        outbound_tls=TlsOutboundConfig(
            cache_path=tmp_path / "var/tls/mta-sts.sqlite3",
            state_path=tmp_path / "var/tls/state.sqlite3",
            report_dir=tmp_path / "var/tls/reports",
        ),
        source=tmp_path / "relay.yaml",
    )


# --- a full file -----------------------------------------------------------------------------

FULL = """\
hostname: MX1.Example.ORG.
listen:
  smtp: 0.0.0.0:25
  metrics: "[::1]:9100"
  portal: localhost:8080
spool: /var/spool/relay
policies: conf/policies
relay_from:
  - 10.0.0.0/8
  - 192.168.1.7
  - "2001:db8::/32"
internal_domains: [clinic.example, lab.clinic.example]
routes:
  Example.COM: smtp.example.com:2525
  lab.example.net: "[2001:db8::25]:25"
tls:
  cert: cert.pem
  key: key.pem
auth:
  users_file: adir/users
limits:
  max_message_size: 10MiB
  max_recipients: 50
  max_line_length: 2000
  command_timeout: 2m
  data_timeout: 1h
  max_connections: 20
  max_connections_per_ip: 5
  pipeline_timeout: 45s
delivery:
  port: 2525
  retry_schedule: [30, 5m, 1.5h, 1d]
  max_queue_lifetime: 1w
  connect_timeout: 10
  command_timeout: 4m
  max_concurrency: 8
  max_per_destination: 2
  max_messages_per_connection: 7
  connection_idle_timeout: 500ms
  shutdown_timeout: 90s
  poll_interval: 0.25
phi:
  enabled: false
  model: en_core_web_lg
  min_score: 0.5
  workers: 3
  time_budget: 5s
  blis: true
outbound_tls:
  mta_sts: false
  dane: false
  mta_sts_port: 8443
  ca_file: cert.pem
  cache_path: /var/cache/relay/mta-sts.sqlite3
  cache_max_entries: 50
  state_path: /var/cache/relay/tls-state.sqlite3
  state_max_entries: 20
  tlsa_cache_max_ttl: 2h
  capability_ttl: 10m
  fetch_timeout: 5s
  max_policy_size: 32K
  report_dir: reports
  report_organization: Example Clinic
  report_from: tlsrpt@example.org
  report_contact: mailto:postmaster@example.org
  route_names: {lab.example.net: mx.lab.example.net}
audit:
  directory: /var/log/relay-audit
  signing_key: key.pem
  seal_every_records: 500
  seal_every_seconds: 60
  rotate_bytes: 1048576
  retention_days: 3000
  addresses: hash
  subjects: Hash
  hash_key: cert.pem
  fsync: seal
metrics:
  top_domains: [Partner.Example, insurer.example.]
dns:
  nameservers: ["9.9.9.9:53", "[2620:fe::fe]:53"]
  timeout: 3s
workers: 0
log_level: DEBUG
"""


def test_full_file_round_trips_every_key(certs: Path) -> None:
    config = load_config(write(certs, FULL))
    assert config == Config(
        hostname="mx1.example.org",
        listen=ListenConfig(
            smtp=HostPort(host="0.0.0.0", port=25),
            metrics=HostPort(host="::1", port=9100),
            portal=HostPort(host="localhost", port=8080),
        ),
        spool=Path("/var/spool/relay"),
        policies=certs / "conf/policies",
        relay_from=(
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_network("192.168.1.7/32"),
            ipaddress.ip_network("2001:db8::/32"),
        ),
        internal_domains=("clinic.example", "lab.clinic.example"),
        routes={
            "example.com": HostPort(host="smtp.example.com", port=2525),
            "lab.example.net": HostPort(host="2001:db8::25", port=25),
        },
        tls=IngressTlsConfig(cert=certs / "cert.pem", key=certs / "key.pem"),
        auth=AuthConfig(users_file=certs / "adir/users"),
        limits=LimitsConfig(
            max_message_size=10 * 1024 * 1024,
            max_recipients=50,
            max_line_length=2000,
            command_timeout=120.0,
            data_timeout=3600.0,
            max_connections=20,
            max_connections_per_ip=5,
            pipeline_timeout=45.0,
        ),
        delivery=DeliveryConfig(
            port=2525,
            retry_schedule=(30.0, 300.0, 5400.0, 86400.0),
            max_queue_lifetime=604800.0,
            connect_timeout=10.0,
            command_timeout=240.0,
            max_concurrency=8,
            max_per_destination=2,
            max_messages_per_connection=7,
            connection_idle_timeout=0.5,
            shutdown_timeout=90.0,
            poll_interval=0.25,
        ),
        phi=PhiSettings(
            enabled=False,
            model="en_core_web_lg",
            min_score=0.5,
            workers=3,
            time_budget=5.0,
            blis=True,
        ),
        outbound_tls=TlsOutboundConfig(
            mta_sts=False,
            dane=False,
            mta_sts_port=8443,
            ca_file=certs / "cert.pem",
            cache_path=Path("/var/cache/relay/mta-sts.sqlite3"),
            cache_max_entries=50,
            state_path=Path("/var/cache/relay/tls-state.sqlite3"),
            state_max_entries=20,
            tlsa_cache_max_ttl=7200.0,
            capability_ttl=600.0,
            fetch_timeout=5.0,
            max_policy_size=32 * 1024,
            report_dir=certs / "reports",
            report_organization="Example Clinic",
            report_from="tlsrpt@example.org",
            report_contact="mailto:postmaster@example.org",
            route_names={"lab.example.net": "mx.lab.example.net"},
        ),
        dns=DnsConfig(
            nameservers=(HostPort(host="9.9.9.9", port=53), HostPort(host="2620:fe::fe", port=53)),
            timeout=3.0,
        ),
        metrics=MetricsConfig(top_domains=("partner.example", "insurer.example")),
        audit=AuditConfig(
            directory=Path("/var/log/relay-audit"),
            signing_key=certs / "key.pem",
            seal_every_records=500,
            seal_every_seconds=60.0,
            rotate_bytes=1048576,
            retention_days=3000,
            addresses=AddressMode.HASH,
            subjects=SubjectMode.HASH,
            hash_key=certs / "cert.pem",
            fsync=FsyncPolicy.SEAL,
        ),
        workers=0,
        log_level="debug",
        source=certs / "relay.yaml",
    )


def _leaves(obj: object, prefix: str = "") -> dict[str, object]:
    if not dataclasses.is_dataclass(obj) or isinstance(obj, HostPort):
        return {prefix: obj}
    found: dict[str, object] = {}
    for field in dataclasses.fields(obj):
        found |= _leaves(getattr(obj, field.name), f"{prefix}{field.name}.")
    return found


def test_full_file_sets_every_key_of_the_schema(certs: Path) -> None:
    """Guards the round trip above: a key added to the schema must be added to FULL too."""
    loaded = _leaves(load_config(write(certs, FULL)))
    defaults = _leaves(Config())
    assert [key for key in loaded if loaded[key] == defaults[key]] == []


# (id, yaml text, what to look at, what it must be)
ACCEPTED: list[tuple[str, str, Callable[[Config], object], object]] = [
    ("tls-nulls", "tls:\n  cert:\n  key: ~\n", lambda c: c.tls, IngressTlsConfig()),
    ("auth-null", "auth:\n  users_file: null\n", lambda c: c.auth, AuthConfig()),
    ("no-relay-networks", "relay_from: []\n", lambda c: c.relay_from, ()),
    (
        "ipv6-host-network",
        "relay_from: ['::1']\n",
        lambda c: c.relay_from,
        (ipaddress.ip_network("::1/128"),),
    ),
    ("system-resolvers", "dns:\n  nameservers: []\n", lambda c: c.dns.nameservers, ()),
    ("no-routes", "routes: {}\n", lambda c: c.routes, {}),
    (
        "hostname-trailing-dot",
        "hostname: MX.Example.org.\n",
        lambda c: c.hostname,
        "mx.example.org",
    ),
    ("hostname-single-label", "hostname: localhost\n", lambda c: c.hostname, "localhost"),
    (
        "listen-all-v6",
        "listen:\n  smtp: '[::]:25'\n",
        lambda c: c.listen.smtp,
        HostPort(host="::", port=25),
    ),
    (
        "size-spaced-mb",
        "limits:\n  max_message_size: 25 MB\n",
        lambda c: c.limits.max_message_size,
        25 * 1024**2,
    ),
    (
        "duration-sexagesimal",
        "limits:\n  data_timeout: 1:30\n",
        lambda c: c.limits.data_timeout,
        90.0,
    ),
    ("workers-many", "workers: 64\n", lambda c: c.workers, 64),
    ("log-level-upper", "log_level: WARNING\n", lambda c: c.log_level, "warning"),
    ("port-high", "delivery:\n  port: 65535\n", lambda c: c.delivery.port, 65535),
    (
        "anchor-alias",
        "routes:\n  a.org: &mx mx.example.org:25\n  b.org: *mx\n",
        lambda c: c.routes["b.org"],
        HostPort(host="mx.example.org", port=25),
    ),
]


@pytest.mark.parametrize(
    ("text", "look", "expected"),
    [case[1:] for case in ACCEPTED],
    ids=[case[0] for case in ACCEPTED],
)
def test_accepted_spellings(
    tmp_path: Path, text: str, look: Callable[[Config], object], expected: object
) -> None:
    assert look(load_config(write(tmp_path, text))) == expected


# --- errors: every one names file, line and key ----------------------------------------------


def test_error_is_one_line_with_file_line_and_key(tmp_path: Path) -> None:
    text = """\
    hostname: mx.example.org
    listen:
      smtp: 127.0.0.1:25
    relay_from: [10.0.0.0/8]

    limits:
      max_recipients: lots
    """
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:7: limits.max_recipients: expected an integer, got 'lots'"


# (id, yaml text, line, key, fragment of the problem)
ERRORS: list[tuple[str, str, int, str, str]] = [
    # unknown keys, with the closest allowed one and the list of allowed ones
    ("unknown-top", "workers: 2\nhostnme: x\n", 2, "hostnme", "did you mean 'hostname'?"),
    (
        "unknown-nested",
        "limits:\n  max_recipent: 3\n",
        2,
        "limits.max_recipent",
        "allowed: max_message_size, max_recipients,",
    ),
    ("unknown-no-match", "dns:\n  zzz: 1\n", 2, "dns.zzz", "unknown key; allowed: nameservers"),
    ("source-is-not-a-key", "source: /etc/x.yaml\n", 1, "source", "unknown key"),
    # wrong types
    ("str-for-int", "workers: many\n", 1, "workers", "expected an integer, got 'many'"),
    ("bool-for-int", "\nworkers: yes\n", 2, "workers", "got True (a boolean"),
    (
        "float-for-int",
        "limits:\n  max_recipients: 1.5\n",
        2,
        "limits.max_recipients",
        "expected an integer, got 1.5",
    ),
    (
        "quoted-int",
        "limits:\n  max_connections: '10'\n",
        2,
        "limits.max_connections",
        "expected an integer, got '10'",
    ),
    (
        "list-for-int",
        "limits:\n  max_connections:\n    - 1\n",
        3,
        "limits.max_connections",
        "expected an integer, got a list",
    ),
    (
        "null-for-int",
        "limits:\n  max_connections:\n",
        2,
        "limits.max_connections",
        "got an empty value",
    ),
    ("section-scalar", "limits: 5\n", 1, "limits", "expected a mapping of keys, got 5"),
    (
        "top-domain-not-a-domain",
        "metrics:\n  top_domains: [partner.example, 'not a domain']\n",
        2,
        "metrics.top_domains[1]",
        "expected a domain name",
    ),
    (
        "too-many-top-domains",
        "metrics:\n  top_domains: [" + ", ".join(f"d{n}.example" for n in range(51)) + "]\n",
        2,
        "metrics.top_domains",
        "at most 50 domains, got 51",
    ),
    ("section-list", "listen:\n  - a\n", 2, "listen", "got a list"),
    ("unknown-tag", "workers: !env WORKERS\n", 1, "workers", "tag '!env'"),
    ("bad-timestamp", "spool: 2024-13-45\n", 1, "spool", "cannot read this value"),
    # counts and ports
    (
        "negative-count",
        "delivery:\n  max_concurrency: -1\n",
        2,
        "delivery.max_concurrency",
        "expected an integer >= 1, got -1",
    ),
    ("zero-count", "limits:\n  max_line_length: 0\n", 2, "limits.max_line_length", ">= 1, got 0"),
    ("negative-workers", "workers: -1\n", 1, "workers", "expected an integer >= 0, got -1"),
    ("internal-not-a-domain", "internal_domains: [clinic.example, '@@']\n", 1, "internal_domains[1]", "@@"),
    ("negative-phi-workers", "phi:\n  workers: -2\n", 2, "phi.workers", "integer >= 0, got -2"),
    ("port-zero", "delivery:\n  port: 0\n", 2, "delivery.port", "integer 1-65535, got 0"),
    ("port-high", "delivery:\n  port: 65536\n", 2, "delivery.port", "1-65535, got 65536"),
    ("port-name", "delivery:\n  port: smtp\n", 2, "delivery.port", "got 'smtp'"),
    # host:port
    ("hp-no-port", "listen:\n  smtp: localhost\n", 2, "listen.smtp", "the port is missing"),
    (
        "hp-v6-bare",
        "listen:\n  smtp: '::1:25'\n",
        2,
        "listen.smtp",
        "IPv6 addresses go in brackets",
    ),
    ("hp-v6-no-port", "listen:\n  smtp: '[::1]'\n", 2, "listen.smtp", "expected [IPv6]:port"),
    ("hp-v6-bad", "listen:\n  smtp: '[zz::1]:25'\n", 2, "listen.smtp", "not an IPv6 address"),
    ("hp-port-zero", "listen:\n  portal: 127.0.0.1:0\n", 2, "listen.portal", "port 1-65535"),
    ("hp-port-big", "listen:\n  metrics: 127.0.0.1:70000\n", 2, "listen.metrics", "'70000'"),
    ("hp-port-name", "listen:\n  smtp: 127.0.0.1:smtp\n", 2, "listen.smtp", "got 'smtp'"),
    ("hp-no-host", "listen:\n  smtp: ':25'\n", 2, "listen.smtp", "use 0.0.0.0 or [::]"),
    ("hp-bad-ipv4", "listen:\n  smtp: 10.0.0.300:25\n", 2, "listen.smtp", "bad host"),
    ("hp-bad-name", "listen:\n  smtp: bad_host:25\n", 2, "listen.smtp", "label 'bad_host'"),
    ("hp-int", "listen:\n  smtp: 2525\n", 2, "listen.smtp", "expected host:port"),
    (
        "routes-value",
        "routes:\n  example.org: mx.example.org\n",
        2,
        "routes.example.org",
        "the port is missing",
    ),
    (
        "routes-key",
        "routes:\n  ok.example: a:25\n  bad_domain.example: b:25\n",
        3,
        "routes.bad_domain.example",
        "expected a domain name",
    ),
    (
        "routes-wildcard",
        "routes:\n  '*.example.org': a:25\n",
        2,
        "routes.*.example.org",
        "label '*'",
    ),
    ("routes-list", "routes:\n  - example.org\n", 2, "routes", "expected a mapping, got a list"),
    (
        "ns-name",
        "dns:\n  nameservers:\n    - 9.9.9.9:53\n    - dns.google:53\n",
        4,
        "dns.nameservers[1]",
        "not an IP address",
    ),
    ("ns-no-port", "dns:\n  nameservers: ['9.9.9.9']\n", 2, "dns.nameservers[0]", "9.9.9.9:53"),
    (
        "ns-scalar",
        "dns:\n  nameservers: 9.9.9.9:53\n",
        2,
        "dns.nameservers",
        "write it as a list: [9.9.9.9:53]",
    ),
    # networks
    (
        "cidr-host-bits",
        "relay_from:\n  - 10.0.0.0/8\n  - 10.1.2.3/16\n",
        3,
        "relay_from[1]",
        "write the network 10.1.0.0/16 or the single address 10.1.2.3",
    ),
    ("cidr-prefix", "relay_from: [10.0.0.0/33]\n", 1, "relay_from[0]", "expected an IP network"),
    ("cidr-garbage", "relay_from: [lan]\n", 1, "relay_from[0]", "got 'lan'"),
    (
        "cidr-scalar",
        "relay_from: 10.0.0.0/8\n",
        1,
        "relay_from",
        "expected a list of IP networks, got '10.0.0.0/8'; write it as a list: [10.0.0.0/8]",
    ),
    ("cidr-null", "relay_from:\n", 1, "relay_from", "write it as a list: []"),
    # durations
    (
        "dur-word",
        "limits:\n  data_timeout: forever\n",
        2,
        "limits.data_timeout",
        "expected a duration such as 90, 90s, 5m, 1h, 2d or 1w, got 'forever'",
    ),
    ("dur-zero", "limits:\n  data_timeout: 0\n", 2, "limits.data_timeout", "greater than zero"),
    ("dur-zero-unit", "dns:\n  timeout: 0s\n", 2, "dns.timeout", "greater than zero, got '0s'"),
    (
        "dur-negative",
        "delivery:\n  poll_interval: -1\n",
        2,
        "delivery.poll_interval",
        "greater than zero",
    ),
    (
        "dur-upper-unit",
        "delivery:\n  max_queue_lifetime: 5M\n",
        2,
        "delivery.max_queue_lifetime",
        "got '5M'",
    ),
    (
        "dur-infinite",
        "delivery:\n  connect_timeout: .inf\n",
        2,
        "delivery.connect_timeout",
        "expected a finite duration, got inf",
    ),
    ("dur-bool", "delivery:\n  connect_timeout: no\n", 2, "delivery.connect_timeout", "boolean"),
    (
        "retry-scalar",
        "delivery:\n  retry_schedule: 60s\n",
        2,
        "delivery.retry_schedule",
        "expected a list of durations, got '60s'; write it as a list: [60s]",
    ),
    (
        "retry-empty",
        "delivery:\n  retry_schedule: []\n",
        2,
        "delivery.retry_schedule",
        "at least one value",
    ),
    (
        "retry-item",
        "delivery:\n  retry_schedule:\n    - 1m\n    - soon\n",
        4,
        "delivery.retry_schedule[1]",
        "got 'soon'",
    ),
    # sizes
    (
        "size-word",
        "limits:\n  max_message_size: big\n",
        2,
        "limits.max_message_size",
        "expected a size such as 1048576, 512K, 25M, 1G or 10MiB, got 'big'",
    ),
    ("size-zero", "limits:\n  max_message_size: 0\n", 2, "limits.max_message_size", "at least 1"),
    (
        "size-zero-unit",
        "limits:\n  max_message_size: 0K\n",
        2,
        "limits.max_message_size",
        "at least 1 byte",
    ),
    (
        "size-negative",
        "limits:\n  max_message_size: -1\n",
        2,
        "limits.max_message_size",
        "at least 1",
    ),
    ("size-float", "limits:\n  max_message_size: 1.5\n", 2, "limits.max_message_size", "got 1.5"),
    ("size-unit", "limits:\n  max_message_size: 10X\n", 2, "limits.max_message_size", "'10X'"),
    # strings with a closed or shaped set of values
    ("log-level", "log_level: warn\n", 1, "log_level", "did you mean 'warning'?"),
    ("log-level-int", "log_level: 10\n", 1, "log_level", "debug, info, warning, error, got 10"),
    ("hostname-underscore", "hostname: my_host.example\n", 1, "hostname", "label 'my_host'"),
    ("hostname-hyphen", "hostname: -mx.example.org\n", 1, "hostname", "label '-mx'"),
    ("hostname-empty-label", "hostname: mx..example.org\n", 1, "hostname", "empty label"),
    ("hostname-ip-like", "hostname: 10.0.0.1\n", 1, "hostname", "all digits"),
    ("hostname-long-label", f"hostname: {'a' * 64}.org\n", 1, "hostname", "longer than 63"),
    ("hostname-number", "hostname: 42\n", 1, "hostname", "expected a domain name, got 42"),
    ("path-empty", "spool: ''\n", 1, "spool", "expected a path, got ''"),
    ("path-number", "policies: 7\n", 1, "policies", "expected a path, got 7"),
    # TLS and AUTH files, checked at load
    (
        "tls-cert-only",
        "tls:\n  cert: cert.pem\n",
        2,
        "tls.key",
        "must be set together with tls.cert (both or neither)",
    ),
    (
        "tls-key-only",
        "tls:\n\n  key: key.pem\n",
        3,
        "tls.cert",
        "must be set together with tls.key",
    ),
    (
        "tls-cert-missing",
        "tls:\n  cert: nope.pem\n  key: key.pem\n",
        2,
        "tls.cert",
        "nope.pem': No such file or directory",
    ),
    (
        "tls-key-directory",
        "tls:\n  cert: cert.pem\n  key: adir\n",
        3,
        "tls.key",
        "adir': Is a directory",
    ),
    ("users-dir-missing", "auth:\n  users_file: nodir/users\n", 2, "auth.users_file", "nodir' of"),
    ("users-is-dir", "auth:\n  users_file: adir\n", 2, "auth.users_file", "is a directory"),
    # duplicate keys: the line is the second one
    (
        "dup-top",
        "workers: 1\nlog_level: info\nworkers: 2\n",
        3,
        "workers",
        "duplicate key (first set on line 1)",
    ),
    (
        "dup-nested",
        "limits:\n  max_recipients: 1\n  max_recipients: 2\n",
        3,
        "limits.max_recipients",
        "first set on line 2",
    ),
    ("dup-section", "dns:\n  timeout: 1s\ndns:\n  timeout: 2s\n", 3, "dns", "first set on line 1"),
    (
        "dup-route-case",
        "routes:\n  example.org: a:25\n  Example.ORG: b:25\n",
        3,
        "routes.example.org",
        "duplicate key (first set on line 2)",
    ),
    ("hp-mapping", "listen:\n  smtp: {host: a, port: 25}\n", 2, "listen.smtp", "got a mapping"),
    ("cidr-nested-list", "relay_from: [[10.0.0.0/8]]\n", 1, "relay_from[0]", "got a list"),
    (
        "retry-mapping",
        "delivery:\n  retry_schedule: {a: 1}\n",
        2,
        "delivery.retry_schedule",
        "expected a list of durations, got a mapping",
    ),
    ("hostname-empty", "hostname: '.'\n", 1, "hostname", "it is empty"),
    ("hostname-too-long", f"hostname: {'a.' * 130}org\n", 1, "hostname", "longer than 253"),
    # the shape of the file
    ("top-list", "- workers\n", 1, "", "expected a mapping of keys at the top level, got a list"),
    ("top-scalar", "\nhello\n", 2, "", "at the top level, got 'hello'"),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_error_names_file_line_and_key(certs: Path, text: str, line: int, key: str, problem: str) -> None:
    path = write(certs, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: {key + ': ' if key else ''}")
    assert "\n" not in str(error)


SYNTAX: list[tuple[str, str, int, str]] = [
    ("bad-indent", "listen:\n  smtp: a:25\n portal: b:25\n", 3, "expected <block end>"),
    ("unquoted-ipv6", "workers: 1\nlisten:\n  smtp: [::1]:25\n", 3, "quote IPv6 host:port"),
    ("tab-indent", "listen:\n\tsmtp: a:25\n", 2, "found character '\\t'"),
    ("unclosed-quote", "hostname: 'mx\n", 2, "found unexpected end of stream"),
    ("two-documents", "workers: 1\n---\nworkers: 2\n", 2, "expected a single document"),
    ("colon-in-value", "hostname: a: b\n", 1, "mapping values are not allowed here"),
    ("control-char", "workers: 1\nhostname: a\x07\n", 2, "character #x0007 is not allowed"),
]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [case[1:] for case in SYNTAX],
    ids=[case[0] for case in SYNTAX],
)
def test_yaml_syntax_error_gives_its_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.line, caught.value.key) == (line, "")
    assert caught.value.problem.startswith("invalid YAML: ")
    assert problem in caught.value.problem
    assert "\n" not in str(caught.value)


def test_missing_file_names_it_with_line_zero(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.file, caught.value.line) == (str(path), 0)
    assert str(caught.value) == f"{path}: cannot read: No such file or directory"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.mkdir(), "cannot read: Is a directory"),
        (lambda p: p.write_bytes(b"hostname: \xff\n"), "not UTF-8 text"),
        (lambda p: p.write_bytes(b"#" * (1 << 20) + b"\n"), "larger than 1048576 bytes"),
    ],
    ids=["directory", "not-utf8", "too-large"],
)
def test_unreadable_file(tmp_path: Path, make: Callable[[Path], object], problem: str) -> None:
    path = tmp_path / "relay.yaml"
    make(path)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.file, caught.value.line) == (str(path), 0)
    assert problem in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = write(tmp_path, "workers: 1\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read: Permission denied"):
        load_config(path)


# --- paths -----------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    (etc / "tls").mkdir(parents=True)
    (etc / "tls/cert.pem").write_text("c")
    (tmp_path / "key.pem").write_text("k")
    write(
        etc,
        """\
        spool: spool
        policies: /srv/policies
        tls:
          cert: tls/cert.pem
          key: ../key.pem
        auth:
          users_file: users
        """,
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc/relay.yaml"))
    assert config.source == etc / "relay.yaml"
    assert config.source.is_absolute()
    assert config.spool == etc / "spool"
    assert config.policies == Path("/srv/policies")
    assert config.tls == IngressTlsConfig(cert=etc / "tls/cert.pem", key=etc / "../key.pem")
    assert config.auth.users_file == etc / "users"


def test_default_paths_resolve_against_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "workers: 2\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("relay.yaml"))
    assert (config.spool, config.policies) == (tmp_path / "var/spool", tmp_path / "policies")


def test_errors_name_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "workers: x\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(Path("relay.yaml"))
    assert str(caught.value) == "relay.yaml:1: workers: expected an integer, got 'x'"


# --- leaf syntaxes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("500ms", 0.5),
        ("90s", 90.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1.5h", 5400.0),
        (" 10 s ", 10.0),
    ],
    ids=lambda x: repr(x),
)
def test_duration_syntax(written: object, seconds: float) -> None:
    assert v.to_duration(written) == seconds


@pytest.mark.parametrize(
    ("written", "size"),
    [
        (1048576, 1048576),
        ("100", 100),
        ("100B", 100),
        ("512K", 512 * 1024),
        ("512k", 512 * 1024),
        ("512KB", 512 * 1024),
        ("25M", 25 * 1024**2),
        ("10MiB", 10 * 1024**2),
        ("1G", 1024**3),
        ("1.5G", 3 * 1024**3 // 2),
        ("2T", 2 * 1024**4),
    ],
    ids=lambda x: repr(x),
)
def test_size_syntax(written: object, size: int) -> None:
    assert v.to_size(written) == size


@pytest.mark.parametrize("written", ["", "  ", 5, None], ids=["empty", "blank", "int", "null"])
def test_generic_string_refuses_empty_and_non_strings(written: object) -> None:
    """The fallback for plain ``str`` keys (none today besides those with their own rule)."""
    with pytest.raises(v.Invalid, match="expected a non-empty string"):
        v.to_str(written)
    assert v.to_str(" x ") == "x"


@pytest.mark.parametrize(
    "written",
    [True, 10**400, "1" * 400 + "T", "1e6", "5 minutes", None, [], {}],
    ids=["bool", "huge-int", "huge-unit", "exponent", "words", "null", "list", "mapping"],
)
def test_values_refused_as_duration_and_size(written: object) -> None:
    with pytest.raises(v.Invalid):
        v.to_size(written)
    with pytest.raises(v.Invalid):
        v.to_duration(written)


# --- the operator's page ---------------------------------------------------------------------

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def _schema_keys(cls: Any, prefix: str = "") -> list[str]:
    hints = get_type_hints(cls)
    found: list[str] = []
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint) and hint is not HostPort:
            found += _schema_keys(hint, f"{prefix}{field.name}.")
        elif field.name != "source":
            found.append(prefix + field.name)
    return found


def test_docs_name_every_key() -> None:
    """schema.py: adding a key means adding a line in docs/configuration.md."""
    text = DOCS.read_text()
    assert [key for key in _schema_keys(Config) if f"| `{key}` |" not in text] == []


def _has(mapping: dict[str, Any], parts: list[str]) -> bool:
    head, *rest = parts
    return head in mapping and (not rest or _has(mapping[head], rest))


def test_docs_examples_load(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls/relay1.crt.pem").write_text("c")
    (tmp_path / "tls/relay1.key.pem").write_text("k")
    examples = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert len(examples) == 2
    full = load_config(write(tmp_path, examples[0]))
    assert full.tls.cert == tmp_path / "tls/relay1.crt.pem"
    written = yaml.safe_load(examples[0])
    unset = [k for k in _schema_keys(Config) if not _has(written, k.split("."))]
    assert unset == [], "the full example should show every key"
    assert load_config(write(tmp_path, examples[1])).routes["example.test"].port == 2526


def test_scanners_share_the_cores_among_relay_processes() -> None:
    """``phi.workers: 0`` keeps about one scanner per core on the node, however many relay
    processes ``workers`` starts; a number is taken as it is."""
    cores = available_cores()
    shared = PhiSettings()
    assert shared.workers == 0
    assert shared.processes(1) == cores
    assert shared.processes(cores) == 1
    assert shared.processes(cores * 3) == 1, "never fewer than one scanner"
    assert [shared.processes(n) for n in (1, 2, 4)] == [max(1, cores // n) for n in (1, 2, 4)]
    assert PhiSettings(workers=3).processes(cores * 2) == 3


def test_zero_workers_means_one_relay_process_per_core(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "workers: 0\n")).processes() == available_cores()
    assert load_config(write(tmp_path, "workers: 3\n")).processes() == 3


def test_shipped_relay_yaml_uses_every_core() -> None:
    assert load_config(Path(__file__).parent.parent / "relay.yaml").workers == 0


def test_config_error_crosses_a_process_boundary_whole() -> None:
    """A scanner process's ConfigError is pickled back to the relay: the line must not change."""
    error = ConfigError("not installed", file="relay.yaml", line=4, key="phi.model")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.key, again.line, again.problem) == (str(error), "phi.model", 4, "not installed")
