"""kill -9 under load: every message the relay answered 250 reaches its destination.

The relay takes a few hundred messages from several client threads while its next hop refuses
(everything piles up in the spool) or accepts slowly (deliveries are in flight); it is killed
with SIGKILL while the clients are still sending, restarted, and the sink must then hold every
acknowledged message at least once. Duplicates are allowed (RFC 5321 section 6.1: a message
must not be lost; a crash between the remote 250 and our bookkeeping repeats it) but counted.
The audit log must hold, for each acknowledged message, the record of its accept and of its
delivery: the relay writes each before it acts on it.
"""

from __future__ import annotations

import re
import smtplib
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from helpers import DEST, eventually, numbered_message, seqs_of, wait_until
from relayproc import RelaySetup, queue_list
from sink import Sink
from smtpclient import queue_id_of


@dataclass
class Load:
    """Client threads sending numbered messages, each over one connection, in sequence."""

    port: int
    total: int
    clients: int
    acked: dict[int, str] = field(default_factory=dict)
    in_doubt: set[int] = field(default_factory=set)
    """DATA sent, no reply seen: the relay may or may not have the message."""
    refused: dict[int, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for client in range(self.clients):
            seqs = range(client, self.total, self.clients)
            thread = threading.Thread(target=self._send, args=(seqs,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _send(self, seqs: range) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as client:
                client.ehlo()
                for seq in seqs:
                    assert client.mail("sender@origin.test")[0] == 250
                    assert client.rcpt(DEST)[0] == 250
                    with self.lock:
                        self.in_doubt.add(seq)
                    code, reply = client.data(numbered_message(seq))
                    with self.lock:
                        self.in_doubt.discard(seq)
                        if code == 250:
                            self.acked[seq] = queue_id_of(reply)
                        else:
                            self.refused[seq] = f"{code} {reply.decode()}"
        except (smtplib.SMTPException, OSError) as exc:
            # The relay died under us: what was acknowledged so far is what counts.
            with self.lock:
                self.errors.append(repr(exc))

    @property
    def sending(self) -> int:
        return sum(thread.is_alive() for thread in self.threads)

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.acked)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)
            assert not thread.is_alive(), "a client thread hung"


def kill_mid_load(relay: RelaySetup, load: Load, trigger: Callable[[], bool]) -> tuple[int, int]:
    """SIGKILL the relay once ``trigger()`` holds; returns (acknowledged, clients sending) then."""
    wait_until(lambda: trigger() or load.sending == 0, 30, "the kill trigger")
    acked, sending = load.acknowledged(), load.sending
    errors_before = list(load.errors)
    relay.kill()
    assert not errors_before, f"clients failed before the kill: {errors_before}"
    assert sending > 0 and acked < load.total, (
        f"the load finished before the kill ({acked}/{load.total} acknowledged): not a mid-load kill"
    )
    load.join()
    return acked, sending


def recover_and_check(relay: RelaySetup, sink: Sink, load: Load, *, label: str) -> Counter[int]:
    """Restart, wait for every acknowledged message and an empty queue, assert nothing is lost."""
    relay.start()
    acked = set(load.acked)
    if not eventually(lambda: acked <= set(seqs_of(sink)), 40):
        lost = sorted(acked - set(seqs_of(sink)))
        raise AssertionError(f"{len(lost)} message(s) acknowledged with 250 never arrived: {lost}")

    wait_until(lambda: queue_list(relay) == [], 30, "the spool to drain")
    assert relay.stop() == 0
    counts = seqs_of(sink)
    lost = sorted(acked - set(counts))
    assert not lost, f"acknowledged with 250 but never delivered: {lost}"
    unexpected = set(counts) - acked - load.in_doubt
    assert not unexpected, f"delivered but never acknowledged nor in doubt: {sorted(unexpected)}"
    duplicates = sum(n - 1 for n in counts.values())
    # One process recovers the spool itself; a supervisor does it before forking its workers.
    recovered = re.findall(
        r"event=(?:spool_recovered|supervisor_start workers=\d+) leases_released=(\d+)", relay.log()
    )
    print(
        f"\n[{label}] acknowledged={len(acked)} in_doubt={len(load.in_doubt)}"
        f" in_doubt_delivered={len(load.in_doubt & set(counts))} refused={len(load.refused)}"
        f" delivered_unique={len(counts)} duplicates={duplicates}"
        f" duplicated_seqs={sorted(s for s, n in counts.items() if n > 1)}"
        f" leases_released_at_restart={recovered[-1] if recovered else '?'}"
    )
    assert len(recovered) == 2, "each start logs its crash recovery"
    kinds = audit_kinds(relay)
    unrecorded = sorted(s for s, qid in load.acked.items() if not {"accepted", "delivered"} <= kinds[qid])
    assert not unrecorded, f"acknowledged or delivered without its audit record: {unrecorded}"
    return counts


def audit_kinds(relay: RelaySetup) -> defaultdict[str, set[str]]:
    """The kinds of audit record per queue ID."""
    kinds: defaultdict[str, set[str]] = defaultdict(set)
    for record in relay.audit_records():
        if record.get("queue_id"):
            kinds[record["queue_id"]].add(record["kind"])
    return kinds


WORKERS = pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
"""One relay process, and the supervisor with two workers (what the shipped workers: 0 gives
on two cores): kill -9 reaches the whole process group."""


@WORKERS
def test_kill_9_while_messages_pile_up(relay: RelaySetup, sink: Sink, workers: int) -> None:
    """The next hop answers 451 to everything; the relay is killed with 300 messages coming in."""
    sink.script("mail", "*", "451 4.3.0 not now")
    relay.configure(
        routes={"dest.test": sink.address}, delivery={"retry_schedule": ["500ms"]}, workers=workers
    )
    relay.start()
    load = Load(relay.smtp_port, total=300, clients=6).start()
    acked, sending = kill_mid_load(relay, load, lambda: load.acknowledged() >= 120)
    assert sink.messages == []
    assert not load.refused, load.refused
    print(f"\nkilled with {acked} acknowledged and {sending} client(s) still sending")

    sink.script("mail", "*", "250 OK")
    counts = recover_and_check(relay, sink, load, label="kill -9, next hop refusing")
    # Nothing was ever accepted by the sink before the kill, so nothing can be repeated.
    assert sum(counts.values()) == len(counts)


@WORKERS
def test_kill_9_while_deliveries_are_in_flight(relay: RelaySetup, workers: int) -> None:
    """The next hop takes each message and answers slowly; the kill lands inside that window."""
    concurrency = 8
    with Sink(data_delay=0.4) as sink:
        relay.configure(
            routes={"dest.test": sink.address},
            delivery={"retry_schedule": ["500ms"], "max_concurrency": concurrency},
            workers=workers,
        )
        relay.start()
        load = Load(relay.smtp_port, total=300, clients=4).start()

        def deliveries_under_way() -> bool:
            # The second wave has begun: the first took its messages and is still answering.
            return sink.data_started >= concurrency + 2 and load.acknowledged() >= 60

        acked, sending = kill_mid_load(relay, load, deliveries_under_way)
        delivered_before = sum(seqs_of(sink).values())
        print(f"\nkilled with {acked} acknowledged, {delivered_before} at the sink, {sending} sending")
        assert delivered_before > 0
        assert not load.refused, load.refused

        sink.data_delay = 0.0
        counts = recover_and_check(relay, sink, load, label="kill -9, deliveries in flight")
        duplicates = sum(counts.values()) - len(counts)
        # Only a delivery in flight at the kill can be repeated, and at most this many were
        # (max_concurrency is per relay process).
        in_flight = concurrency * workers
        assert duplicates <= in_flight, f"{duplicates} duplicates with {in_flight} deliveries in flight"
