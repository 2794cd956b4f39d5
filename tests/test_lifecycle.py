"""Stopping and restarting the relay process: SIGTERM drains, nothing is lost or sent twice."""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import yaml
from helpers import DEST, numbered_message, seqs_of, wait_until
from relayproc import RelaySetup, free_port, queue_list
from sink import Sink


def send(port: int, *seqs: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for seq in seqs:
            assert client.sendmail("sender@origin.test", [DEST], numbered_message(seq)) == {}


def refused_or_silent(port: int) -> bool:
    """True when a new client gets no SMTP greeting: refused, reset or closed at once."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return not conn.recv(100).startswith(b"220")
    except OSError:
        return True


def test_sigterm_finishes_in_flight_deliveries_and_sends_nothing_twice(relay: RelaySetup) -> None:
    concurrency, shutdown_timeout, total = 3, 10.0, 8
    with Sink(data_delay=1.5) as sink:
        relay.configure(
            routes={"dest.test": sink.address},
            delivery={"max_concurrency": concurrency, "shutdown_timeout": f"{shutdown_timeout:g}s"},
        )
        relay.start()
        send(relay.smtp_port, *range(total))
        wait_until(lambda: sink.data_started >= concurrency, 10, "deliveries to be in flight")
        assert relay.process is not None
        process = relay.process
        sent_signal = time.monotonic()
        process.send_signal(signal.SIGTERM)

        # The listener closes at once, while the in-flight deliveries are still running.
        wait_until(lambda: refused_or_silent(relay.smtp_port), 2, "the listener to close")
        assert process.poll() is None, "exited before its in-flight deliveries could finish"
        code = process.wait(shutdown_timeout + 5)
        took = time.monotonic() - sent_signal
        relay.process = None
        assert code == 0
        assert took < shutdown_timeout, f"took {took:.1f}s to stop"
        log = relay.log()
        assert "event=stopping reason=signal" in log
        assert "event=stopped" in log
        assert "shutdown_cancelled_deliveries" not in log
        assert "Traceback" not in log
        # Exactly the deliveries in flight at the signal finished; no new one began.
        assert sink.data_started == concurrency
        assert sum(seqs_of(sink).values()) == concurrency
        assert log.count("event=delivered ") == concurrency
        assert len(queue_list(relay)) == total - concurrency

        sink.data_delay = 0.0
        relay.start()
        wait_until(lambda: len(seqs_of(sink)) == total, 15, "the rest after restart")
        wait_until(lambda: queue_list(relay) == [], 10, "an empty queue")
        assert relay.stop() == 0
        counts = seqs_of(sink)
        assert counts == {seq: 1 for seq in range(total)}, f"delivered twice across a clean stop: {counts}"


def test_sigterm_gives_up_on_deliveries_after_the_shutdown_timeout(relay: RelaySetup) -> None:
    with Sink(data_delay=30.0) as sink:
        relay.configure(routes={"dest.test": sink.address}, delivery={"shutdown_timeout": "1s"})
        relay.start()
        send(relay.smtp_port, 0, 1)
        wait_until(lambda: sink.data_started >= 2, 10, "deliveries to be in flight")
        started = time.monotonic()
        assert relay.stop(timeout=10) == 0
        took = time.monotonic() - started
        assert 1.0 <= took < 5.0, f"took {took:.1f}s with shutdown_timeout=1s"
        log = relay.log()
        assert "event=shutdown_cancelled_deliveries count=2" in log
        assert "event=stopped" in log
        # Both stay spooled: the sink took them but never said so, and we cannot know.
        assert len(queue_list(relay)) == 2

        sink.data_delay = 0.0
        relay.start()
        wait_until(lambda: set(seqs_of(sink)) == {0, 1}, 15, "delivery after restart")
        wait_until(lambda: queue_list(relay) == [], 10, "an empty queue")
        assert relay.stop() == 0
        print(f"\nafter a timed-out shutdown: {dict(seqs_of(sink))} (seq: copies)")


def test_deferred_messages_survive_a_restart_and_are_retried(relay: RelaySetup, sink: Sink) -> None:
    sink.script("mail", "*", "451 4.3.0 try later")
    relay.configure(routes={"dest.test": sink.address}, delivery={"retry_schedule": ["1s"]})
    relay.start()
    send(relay.smtp_port, 0, 1, 2)
    wait_until(lambda: relay.log().count("event=deferred ") >= 3, 10, "three deferrals")
    assert relay.stop() == 0
    assert "event=stopped" in relay.log()

    entries = queue_list(relay)
    assert [e["state"] for e in entries] == ["deferred"] * 3
    assert all(isinstance(e["attempts"], int) and e["attempts"] >= 1 for e in entries)
    assert all("451 4.3.0 try later" in str(e["last_error"]) for e in entries)
    assert sink.messages == []

    sink.script("mail", "*", "250 OK")
    relay.start()
    wait_until(lambda: len(seqs_of(sink)) == 3, 15, "the deferred messages after restart")
    wait_until(lambda: queue_list(relay) == [], 10, "an empty queue")
    assert relay.stop() == 0
    assert seqs_of(sink) == {0: 1, 1: 1, 2: 1}


def test_sigint_stops_as_cleanly_as_sigterm(relay: RelaySetup) -> None:
    relay.start()
    assert relay.process is not None
    relay.process.send_signal(signal.SIGINT)
    assert relay.process.wait(10) == 0
    relay.process = None
    log = relay.log()
    assert "event=stopping reason=signal" in log
    assert log.count("event=stopped") == 1
    assert "Traceback" not in log


def leases(relay: RelaySetup) -> list[tuple[str, str | None, float]]:
    """Who holds which message: read straight from the spool database, read-only."""
    uri = f"file:{relay.directory / 'spool' / 'queue.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT queue_id, lease_owner, lease_until FROM messages ORDER BY queue_id")
        return [(str(qid), owner, float(until)) for qid, owner, until in rows]


def test_a_second_instance_on_the_same_spool_leaves_live_leases_alone(relay: RelaySetup) -> None:
    """Starting ``relay serve`` twice by mistake must not touch the running one's messages."""
    # The deliveries must still be in flight once the second instance has given up, and that
    # instance is a fresh Python process: seconds of imports on a busy machine.
    with Sink(data_delay=8.0) as sink:
        relay.configure(routes={"dest.test": sink.address})
        relay.start()
        send(relay.smtp_port, 0, 1)
        wait_until(lambda: sink.data_started >= 2, 10, "deliveries to be in flight")
        before = leases(relay)
        assert len(before) == 2 and all(owner for _, owner, _ in before)
        # Same spool, another port: only the spool lock can stop this one.
        other = relay.directory / "second.yaml"
        listen = {**relay.settings["listen"], "smtp": f"127.0.0.1:{free_port()}"}
        settings = {**relay.settings, "listen": listen}
        other.write_text(yaml.safe_dump(settings))
        second = relay.cli("serve", "-c", str(other), check=False)
        assert second.returncode == 1
        assert "is already serving the spool" in second.stderr
        assert "Traceback" not in second.stderr
        assert leases(relay) == before, "the second instance took over leases of live deliveries"
        wait_until(lambda: relay.log().count("event=removed ") >= 2, 20, "both deliveries to finish")
        assert relay.stop() == 0
        assert sink.data_started == 2, "a message in flight was sent a second time"
        assert seqs_of(sink) == {0: 1, 1: 1}


def test_workers_do_not_outlive_a_killed_supervisor(relay: RelaySetup) -> None:
    """kill -9 of the supervisor alone: its workers stop too (no orphan keeps the port)."""
    relay.configure(workers=2)
    relay.start()
    assert relay.process is not None
    supervisor = relay.process.pid

    def children() -> list[int]:
        pgrep = ["pgrep", "-P", str(supervisor)]
        listing = subprocess.run(pgrep, capture_output=True, text=True, check=False)
        return [int(pid) for pid in listing.stdout.split()]

    # The port answers as soon as the first worker listens; the second may still be forking.
    wait_until(lambda: len(children()) == 2, 30, "both workers to run")
    workers = children()
    os.kill(supervisor, signal.SIGKILL)
    relay.process.wait(10)

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in workers)

    wait_until(gone, 30, "the workers to stop")
    relay.process = None
