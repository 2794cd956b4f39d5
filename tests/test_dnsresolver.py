"""Which configured nameservers DANE would have to trust across a network."""

from __future__ import annotations

import pytest

from relay.config.schema import DnsConfig, HostPort
from relay.dnsresolver import remote_nameservers, stub_resolver


@pytest.mark.parametrize(
    ("nameservers", "remote"),
    [
        pytest.param(["127.0.0.1"], [], id="unbound-on-loopback"),
        pytest.param(["127.0.0.53", "::1"], [], id="loopback-v4-v6"),
        pytest.param(["127.0.0.1", "10.20.0.53", "2001:db8::53"], ["10.20.0.53", "2001:db8::53"], id="mixed"),
    ],
)
def test_remote_nameservers(nameservers: list[str], remote: list[str]) -> None:
    config = DnsConfig(nameservers=tuple(HostPort(host=ns, port=53) for ns in nameservers))
    assert remote_nameservers(stub_resolver(config)) == remote
