"""The system under test: the relay, started as an administrator would (``relay serve``).

It gets a ``relay.yaml`` of its own in the benchmark's temporary directory: loopback listeners,
a spool there, one static route that sends the sink's domain to smtp-sink, and ``workers`` from
the command line. Everything else, fsync on every accept and PHI detection included, stays at
the shipped defaults, as Postfix's does. Only limits the benchmark's own concurrency could hit
are raised, and ``--phi off`` turns PHI detection off (to measure the SMTP path on its own).

A second relay, the "reference", may run from another source tree (``--reference DIR``, put first
on its PYTHONPATH): the same load, in the same run, for a before/after comparison of the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import yaml

from .procs import LOOPBACK, BenchError, free_port, spawn, stop_process, tail, wait_for_greeting

START_TIMEOUT_SECONDS = 30.0
SHUTDOWN_TIMEOUT_SECONDS = 45.0
"""Longer than the relay's own drain (sessions 10 s, deliveries ``delivery.shutdown_timeout``)."""
SPOOL_DB = "queue.db"
"""The spool's SQLite file (relay/spool/store.py); read only, to see the queue drain."""


class RelayUnderTest:
    """One relay process under ``root``, routing ``sink_domain`` to ``sink_port``; its code comes
    from ``source`` when given (a directory holding a ``relay`` package), else the installed one."""

    def __init__(
        self,
        root: Path,
        *,
        port: int,
        sink_port: int,
        sink_domain: str,
        workers: int,
        concurrency: int,
        phi: bool,
        name: str = "relay",
        source: Path | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self._root = root
        self._sink_port = sink_port
        self._sink_domain = sink_domain
        self._workers = workers
        self._concurrency = concurrency
        self._phi = phi
        self._source = source
        self._side_ports = (free_port(), free_port())  # metrics, portal: never the defaults in use
        self.config_path = root / "relay.yaml"
        self.log_path = root / "relay.log"
        self._proc: asyncio.subprocess.Process | None = None

    def settings(self) -> dict[str, object]:
        """The relay.yaml the benchmark runs with (also written to the JSON report)."""
        return {
            "hostname": "relay.bench.test",
            "listen": {
                "smtp": f"{LOOPBACK}:{self.port}",
                "metrics": f"{LOOPBACK}:{self._side_ports[0]}",
                "portal": f"{LOOPBACK}:{self._side_ports[1]}",
            },
            "spool": "spool",
            "policies": "policies",
            "relay_from": ["127.0.0.0/8"],
            "routes": {self._sink_domain: f"{LOOPBACK}:{self._sink_port}"},
            # No resolver is needed (the only destination is routed); a dead one makes any
            # accidental lookup fail fast instead of leaving the machine.
            "dns": {"nameservers": [f"{LOOPBACK}:9"], "timeout": "2s"},
            "limits": {"max_connections_per_ip": max(50, self._concurrency)},
            "workers": self._workers,
            **({} if self._phi else {"phi": {"enabled": False}}),
        }

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise BenchError("the relay is not running")
        return self._proc.pid

    async def start(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        (self._root / "policies").mkdir(exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.settings(), sort_keys=False))
        env = dict(os.environ)
        if self._source is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(self._source), env.get("PYTHONPATH"))))
        with self.log_path.open("ab") as log:
            self._proc = await spawn(
                sys.executable, "-m", "relay.cli.main", "-c", str(self.config_path), "serve",
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, cwd=self._root, env=env,
            )
        try:
            await wait_for_greeting(self.port, timeout=START_TIMEOUT_SECONDS, alive=self._alive)
        except BenchError as exc:
            raise BenchError(f"{exc}; relay log:\n{tail(self.log_path)}") from None

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def stop(self) -> None:
        """SIGTERM (the relay drains and closes its spool), SIGKILL if that takes too long."""
        if self._proc is not None:
            await stop_process(self._proc, grace=SHUTDOWN_TIMEOUT_SECONDS)
            self._proc = None

    def queue_size(self) -> int:
        """Messages still in the spool, delivered ones are removed from it."""
        path = self._root / "spool" / SPOOL_DB
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)) as db:
            (count,) = db.execute("SELECT count(*) FROM messages").fetchone()
        return int(count)
