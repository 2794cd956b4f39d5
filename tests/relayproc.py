"""Running the real relay as a separate process, as an admin would (``relay serve``).

``RelaySetup(tmp_path)`` writes a relay.yaml (overrides as nested dicts) and can start the
server with ``start()``, stop it with SIGTERM (``stop()``) or SIGKILL (``kill()``), run CLI verbs
against the same config (``cli("queue", "list")``) and read its log. Tests never mock the relay.
``serving(setup)`` runs one for a module's tests and checks that it stops cleanly; the functions
after it read what the relay did from outside: its queue as the CLI lists it, its spool, and the
events in its log.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from relay.model import QueueState
from relay.spool import Spool

EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
PORT_ATTEMPTS = 200
_ports = random.Random()
"""Not the module-level generator, which a test may seed: the ports must not repeat."""
_handed_out: set[int] = set()


def _outside_the_ephemeral_range() -> range:
    """Ports the kernel never picks by itself: neither for a port-0 bind nor for a connection."""
    try:
        low, high = (int(n) for n in EPHEMERAL_PORTS.read_text().split())
    except (OSError, ValueError):
        return range(0)
    return max(range(1024, low), range(high + 1, 65536), key=len)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now, for the relay to listen on when it starts, later.

    The relay must know its ports before it starts (relay.yaml names them, and a restart needs
    the same one), so this cannot be a port-0 bind of its own. A port from a port-0 bind closed
    again could be handed by the kernel to the next port-0 bind meanwhile (a sink, DNS or TLS
    server started before the relay); the ports here come from outside the kernel's ephemeral
    range, which no port-0 bind or outgoing connection ever takes, and never twice in a run.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = _outside_the_ephemeral_range()
    attempts = PORT_ATTEMPTS if len(candidates) > 1000 else 0  # too few to pick from at random
    for _ in range(attempts):
        port = _ports.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket(family) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue  # in use (or reserved) right now
        _handed_out.add(port)
        return port
    with socket.socket(family) as sock:  # no such range here, or none free: the kernel's pick
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    _handed_out.add(port)
    return port


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class RelaySetup:
    def __init__(self, directory: Path, **overrides: Any) -> None:
        self.directory = directory
        self.smtp_port = free_port()
        self.config_path = directory / "relay.yaml"
        self.log_path = directory / "relay.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.settings: dict[str, Any] = {
            "hostname": "relay.test",
            "listen": {
                "smtp": f"127.0.0.1:{self.smtp_port}",
                "metrics": f"127.0.0.1:{free_port()}",
                "portal": f"127.0.0.1:{free_port()}",
            },
            "spool": "spool",
            "policies": "policies",
            "relay_from": ["127.0.0.0/8"],
            "dns": {"nameservers": ["127.0.0.1:9"], "timeout": "2s"},
            "delivery": {"retry_schedule": ["1s"], "poll_interval": "200ms", "connect_timeout": "5s",
                         "command_timeout": "10s"},
            "log_level": "info",
            # Loading the language model costs seconds per relay start; the PHI tests turn it on.
            "phi": {"enabled": False},
        }
        self.configure(**overrides)

    def configure(self, **overrides: Any) -> None:
        self.settings = _merge(self.settings, overrides)
        (self.directory / "policies").mkdir(exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.settings, sort_keys=False))

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start(self, timeout: float = 20.0) -> RelaySetup:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "relay.cli.main", "-c", str(self.config_path), "serve"],
            stdout=log, stderr=log, env=self.env, cwd=self.directory,
            start_new_session=True,  # its own process group: kill() reaches the workers too
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=0.5) as conn:
                    conn.recv(100)
                    conn.sendall(b"QUIT\r\n")
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"relay did not listen within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as systemd does; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "relay.cli.main", "-c", str(self.config_path), *args],
            capture_output=True, text=True, env=self.env, input=input, timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"relay {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def audit_records(self) -> list[dict[str, Any]]:
        """Every record of the node's audit log, read from its files, in order."""
        directory = self.directory / self.settings.get("audit", {}).get("directory", "var/audit")
        files = sorted(directory.glob("audit-*.jsonl"))
        assert files, f"no audit file in {directory}"
        return [json.loads(line) for path in files for line in path.read_text().splitlines()]

    def wait_for_log(self, text: str, timeout: float = 15.0) -> None:
        """Until ``text`` is in a whole line of the log: a line being appended can be read half
        written, and a test reads on in the line it waited for (a file:line, an ID)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log[: log.rfind("\n") + 1]:
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged within {timeout}s:\n{self.log()[-4000:]}")

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the workers too, if any
            self.process.wait(10)
        self.process = None


@contextmanager
def serving(setup: RelaySetup) -> Iterator[RelaySetup]:
    """``setup`` started, for a module's tests; at the end it must still be running and stop
    cleanly (exit code 0), and it is killed if it did not."""
    try:
        setup.start()  # inside: a relay that did not come up in time is still killed
        yield setup
        assert setup.process is not None and setup.process.poll() is None, setup.log()[-4000:]
        assert setup.stop() == 0
    finally:
        setup.close()


def queue_list(relay: RelaySetup) -> list[dict[str, Any]]:
    """``relay queue list --json``, as an admin would run it."""
    listed = json.loads(relay.cli("queue", "list", "--json").stdout)
    assert isinstance(listed, list)
    return listed


def spooled(relay: RelaySetup) -> dict[str, QueueState]:
    """Queue ID -> state of everything in the relay's spool (read directly: no CLI start-up)."""
    spool = Spool(relay.directory / "spool")
    try:
        return {message.queue_id: message.state for message in spool.messages()}
    finally:
        spool.close()


def dsn_queued_for(relay: RelaySetup, qid: str) -> list[str]:
    """Queue IDs of the DSNs the relay queued for message ``qid``."""
    return re.findall(rf"event=dsn_queued qid={qid} dsn_qid=([0-9A-F]+)", relay.log())


def queued_from(relay: RelaySetup, sender: str) -> int:
    """How many messages from ``sender`` the relay queued (it logs each before it answers 250)."""
    return len(re.findall(rf"event=message_queued .*from=<{re.escape(sender)}>", relay.log()))


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelaySetup]:
    """A configured, not yet started relay in ``tmp_path``; killed at the end if still running."""
    setup = RelaySetup(tmp_path)
    yield setup
    setup.close()
