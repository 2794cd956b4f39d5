"""kill -9 under load: every message the relay answered 250 reaches its destination.

The relay takes a few hundred messages from several client threads while its next hop refuses
(everything piles up in the spool) or accepts slowly (deliveries are in flight); it is killed
with SIGKILL while the clients are still sending, restarted, and the sink must then hold every
acknowledged message at least once. Duplicates are allowed (RFC 5321 section 6.1: a message
must not be lost; a crash between the remote 250 and our bookkeeping repeats it) but counted.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from relayproc import RelaySetup
from sink import Sink, _CountingSMTP, _Handler

DEST = "rcpt@dest.test"
_SEQ = re.compile(rb"^X-Test-Seq: (\d+)\r?$", re.MULTILINE)
_QUEUED = re.compile(r"queued as ([0-9A-F]+)")


class _SlowHandler(_Handler):
    def __init__(self, sink: SlowSink) -> None:
        super().__init__(sink)
        self._slow = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._slow._lock:
            self._slow.data_started += 1
        # The message is taken (recorded) first and the reply comes late: the window in which
        # a sender crash makes a duplicate, as with a real MTA that fsyncs and then answers.
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self._slow.delay)
        return reply


class SlowSink(Sink):
    """A sink whose ``250`` to DATA comes ``delay`` seconds after it took the message."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.data_started = 0

    def start(self) -> SlowSink:
        self._thread.start()
        handler = _SlowHandler(self)

        async def serve() -> asyncio.Server:
            return await self._loop.create_server(
                lambda: _CountingSMTP(self, handler, hostname="slow.test"), self.host, self.port
            )

        server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(5)
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        return self

    def __enter__(self) -> SlowSink:
        return self.start()


def numbered_message(seq: int) -> bytes:
    return (
        f"From: <sender@origin.test>\r\nTo: <{DEST}>\r\nSubject: load {seq}\r\n"
        f"Message-ID: <seq-{seq}@crash.test>\r\nX-Test-Seq: {seq}\r\n\r\n"
        f"payload {seq} {'x' * 300}\r\n"
    ).encode()


def seqs_of(sink: Sink) -> Counter[int]:
    """How often each test message reached the sink (checking its body arrived intact)."""
    with sink._lock:
        received = list(sink.messages)
    counts: Counter[int] = Counter()
    for message in received:
        match = _SEQ.search(message.data)
        assert match, message.data[:300]
        seq = int(match.group(1))
        assert message.data.endswith(numbered_message(seq)), f"message {seq} arrived altered"
        counts[seq] += 1
    return counts


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
                            match = _QUEUED.search(reply.decode())
                            assert match, reply
                            self.acked[seq] = match.group(1)
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


def eventually(condition: Callable[[], object], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    if not eventually(condition, timeout):
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


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

    def queue_empty() -> bool:
        entries: list[object] = json.loads(relay.cli("queue", "list", "--json").stdout)
        return entries == []

    wait_until(queue_empty, 30, "the spool to drain")
    assert relay.stop() == 0
    counts = seqs_of(sink)
    lost = sorted(acked - set(counts))
    assert not lost, f"acknowledged with 250 but never delivered: {lost}"
    unexpected = set(counts) - acked - load.in_doubt
    assert not unexpected, f"delivered but never acknowledged nor in doubt: {sorted(unexpected)}"
    duplicates = sum(n - 1 for n in counts.values())
    recovered = re.findall(r"event=spool_recovered leases_released=(\d+)", relay.log())
    print(
        f"\n[{label}] acknowledged={len(acked)} in_doubt={len(load.in_doubt)}"
        f" in_doubt_delivered={len(load.in_doubt & set(counts))} refused={len(load.refused)}"
        f" delivered_unique={len(counts)} duplicates={duplicates}"
        f" duplicated_seqs={sorted(s for s, n in counts.items() if n > 1)}"
        f" leases_released_at_restart={recovered[-1] if recovered else '?'}"
    )
    assert len(recovered) == 2, "each start logs its crash recovery"
    return counts


def test_kill_9_while_messages_pile_up(relay: RelaySetup, sink: Sink) -> None:
    """The next hop answers 451 to everything; the relay is killed with 300 messages coming in."""
    sink.script("mail", "*", "451 4.3.0 not now")
    relay.configure(routes={"dest.test": sink.address}, delivery={"retry_schedule": ["500ms"]})
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


def test_kill_9_while_deliveries_are_in_flight(relay: RelaySetup) -> None:
    """The next hop takes each message and answers slowly; the kill lands inside that window."""
    concurrency = 8
    with SlowSink(delay=0.4) as sink:
        relay.configure(
            routes={"dest.test": sink.address},
            delivery={"retry_schedule": ["500ms"], "max_concurrency": concurrency},
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

        sink.delay = 0.0
        counts = recover_and_check(relay, sink, load, label="kill -9, deliveries in flight")
        duplicates = sum(counts.values()) - len(counts)
        # Only a delivery in flight at the kill can be repeated, and at most this many were.
        assert duplicates <= concurrency, f"{duplicates} duplicates with {concurrency} deliveries in flight"
