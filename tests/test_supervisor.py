"""``workers: N`` (the shipped ``workers: 0`` included): a start that cannot work stops the
node with one readable line, as one process does, instead of restarting workers forever."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

from relayproc import RelaySetup

from relay.supervisor import MAX_EARLY_DEATHS

SERVE_TIMEOUT = 90.0
"""Bound on a `relay serve` that must exit by itself; the restart loop it replaces never did."""


def serve(relay: RelaySetup) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli.main", "-c", str(relay.config_path), "serve"],
        capture_output=True,
        text=True,
        env=relay.env,
        cwd=relay.directory,
        timeout=SERVE_TIMEOUT,
    )


def test_bad_policy_with_two_workers_is_one_line_and_exit_2(relay: RelaySetup) -> None:
    relay.configure(workers=2)
    (relay.directory / "policies" / "10-bad.yaml").write_text(
        "rules:\n  - name: r\n    when: {sender: [unclosed\n"
    )
    result = serve(relay)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "10-bad.yaml:" in result.stderr
    assert "worker" not in result.stderr, "refused before any worker was forked"


def test_port_in_use_with_two_workers_is_one_line_and_exit_2(relay: RelaySetup) -> None:
    relay.configure(workers=2)
    with socket.socket() as taken:  # a listener without SO_REUSEPORT: no worker could share it
        taken.bind(("127.0.0.1", relay.smtp_port))
        taken.listen()
        result = serve(relay)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{relay.smtp_port}" in result.stderr


def test_worker_refused_at_start_stops_the_node(relay: RelaySetup) -> None:
    """What only a worker finds out (here: the audit directory cannot be created, under a
    regular file) is retried twice, in case it passes, then stops the node with the reason."""
    (relay.directory / "not-a-directory").write_text("")
    relay.configure(workers=2, audit={"directory": "not-a-directory/audit"})
    result = serve(relay)
    assert result.returncode == 1, result.stderr
    assert "event=worker_refused reason=audit: cannot open" in result.stderr
    assert result.stderr.count("action=stop_node") == 1
    assert "early_deaths=3 action=stop_node" in result.stderr
    assert result.stderr.count("action=restart") <= 2 * (MAX_EARLY_DEATHS - 1)
    assert "Traceback" not in result.stderr


def test_missing_model_with_two_workers_is_refused_before_the_fork(relay: RelaySetup) -> None:
    relay.configure(workers=2, phi={"enabled": True, "model": "no_such_spacy_model"})
    result = serve(relay)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "phi.model: spaCy model 'no_such_spacy_model' is not installed" in result.stderr


def test_sighup_to_the_supervisor_reloads_every_worker(relay: RelaySetup) -> None:
    """SIGHUP goes to the supervisor, as systemd's ExecReload sends it; each worker reloads.
    The edit keeps the file's size and mtime, so only the signal (not the directory watch,
    which compares them) can make the workers read it."""
    rule = relay.directory / "policies" / "10-tag.yaml"
    rule.write_text("rules:\n  - name: tag-a\n    then: {tag: aaaa}\n")
    relay.configure(workers=2)
    relay.start()
    workers = wait_for_workers(relay, 2)
    before = rule.stat()
    rule.write_text("rules:\n  - name: tag-b\n    then: {tag: bbbb}\n")
    os.utime(rule, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert relay.process is not None
    relay.process.send_signal(signal.SIGHUP)
    for pid in workers:
        relay.wait_for_log(f"relay[{pid}] INFO relay.policy: event=policy_reloaded reason=sighup", timeout=20)
    assert relay.stop() == 0


def wait_for_workers(relay: RelaySetup, count: int) -> set[int]:
    """The PIDs of ``count`` workers that have loaded their policy (logged policy_loaded)."""
    pattern = re.compile(r"relay\[(\d+)\] INFO relay\.\w+: event=policy_loaded ")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = set(int(pid) for pid in pattern.findall(relay.log()))
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} workers loaded their policy:\n{relay.log()[-3000:]}")
