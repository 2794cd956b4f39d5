"""Fixtures for the TLS tests: a fresh test CA, and an HTTPS server for MTA-STS policies.

Registered in tests/conftest.py; the servers themselves are in tests/tlsservers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from tlsservers import PolicyServer


@pytest.fixture
def local_ca(tmp_path: Path) -> LocalCA:
    """A root CA of this test alone, in ``tmp_path/ca``."""
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def policy_server(local_ca: LocalCA) -> Iterator[PolicyServer]:
    """A started HTTPS policy server whose certificates ``local_ca`` issues; ``serve`` fills it."""
    server = PolicyServer(local_ca).start()
    try:
        yield server
    finally:
        server.stop()
