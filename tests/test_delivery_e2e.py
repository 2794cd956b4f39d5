"""Delivery through the real relay process to real sinks: retries, partial failures, reuse, limits."""

from __future__ import annotations

import re
import smtplib

import pytest
from helpers import SENDER, message_bytes, wait_until
from relayproc import RelaySetup, dsn_queued_for, queue_list, spooled
from sink import Sink
from smtpclient import submit

from relay.model import QueueState


def received_ids(sink: Sink) -> list[str]:
    """The relay queue ID in the top Received header of each message the sink got."""
    ids = []
    for message in sink.messages:
        found = re.search(rb"\bid ([0-9A-F]+)", message.data)
        assert found is not None, message.data[:300]
        ids.append(found.group(1).decode())
    return ids


# -- tests ---------------------------------------------------------------------------------------


def test_partial_failure_delivers_bounces_and_retries_each_recipient_once(
    relay: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    ok, gone, later = "ok@x.test", "gone@x.test", "later@x.test"
    sink.script("rcpt", gone, "550 5.1.1 <gone@x.test>: user unknown")
    sink.script("rcpt", later, "451 4.3.0 greylisted, come back later", "250 OK")
    relay.configure(routes={"x.test": sink.address, "clinic.test": sender_sink.address})
    relay.start()

    qid = submit(relay, SENDER, [ok, gone, later], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")

    first, second = sink.wait_for(2)
    assert first.recipients == (ok,)
    assert second.recipients == (later,)
    assert received_ids(sink) == [qid, qid]
    [dsn] = sender_sink.wait_for(1)
    assert dsn.sender == "<>"  # aiosmtpd reports the null reverse path so
    assert dsn.recipients == (SENDER,)
    assert b"rfc822; gone@x.test" in dsn.data
    assert ok.encode() not in dsn.data.split(b"text/rfc822-headers")[0]
    assert later.encode() not in dsn.data
    [dsn_qid] = dsn_queued_for(relay, qid)
    relay.wait_for_log(f"event=removed qid={dsn_qid}")
    assert spooled(relay) == {}
    assert relay.stop() == 0
    # Everything is final now: nothing arrived twice.
    assert len(sink.messages) == 2
    assert len(sender_sink.messages) == 1
    log = relay.log()
    assert log.count(f"event=delivered qid={qid} to=<{ok}>") == 1
    assert log.count(f"event=delivered qid={qid} to=<{later}>") == 1
    assert log.count(f"event=bounced qid={qid} to=<{gone}>") == 1
    assert log.count(f"event=deferred qid={qid} to=<{later}>") == 1


def test_recipient_refused_at_rcpt_is_bounced_while_data_4xx_defers_the_rest(
    relay: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    gone, later = "gone@x.test", "later@x.test"
    sink.script("rcpt", gone, "550 5.1.1 user unknown")
    sink.script("data", later, "451 4.3.0 queue full", "250 OK")  # keyed on the first accepted
    relay.configure(routes={"x.test": sink.address, "clinic.test": sender_sink.address})
    relay.start()

    qid = submit(relay, SENDER, [gone, later], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    [delivered] = sink.wait_for(1)
    assert delivered.recipients == (later,)
    [dsn] = sender_sink.wait_for(1)
    assert b"rfc822; gone@x.test" in dsn.data
    assert b"rfc822; later@x.test" not in dsn.data
    log = relay.log()
    assert f"event=deferred qid={qid} to=<{later}>" in log
    assert f"event=bounced qid={qid} to=<{later}>" not in log
    assert relay.stop() == 0


PHASES = {
    # phase: (recipient, scripted reply)
    "mail": ("m@m.test", "451 4.3.2 mail system busy"),
    "rcpt": ("r@r.test", "450 4.2.1 mailbox busy"),
    "data": ("d@d.test", "452 4.3.1 insufficient storage"),
}


def test_temporary_failure_at_each_phase_is_deferred_then_delivered(relay: RelaySetup) -> None:
    sinks = {phase: Sink().start() for phase in PHASES}
    try:
        for phase, (recipient, reply) in PHASES.items():
            sinks[phase].script(phase, "*" if phase == "mail" else recipient, reply, "250 OK")
        relay.configure(
            routes={rcpt.split("@")[1]: sinks[phase].address for phase, (rcpt, _) in PHASES.items()},
            # Long enough for the listing below (a CLI process, slow to start on a busy machine)
            # to see every message still at its first attempt.
            delivery={"retry_schedule": ["6s"]},
        )
        relay.start()
        qids = {phase: submit(relay, SENDER, [rcpt], message_bytes()) for phase, (rcpt, _) in PHASES.items()}
        for phase, qid in qids.items():
            relay.wait_for_log(f"event=deferred qid={qid} to=<{PHASES[phase][0]}>")

        listed = {entry["queue_id"]: entry for entry in queue_list(relay)}
        assert all(not s.messages for s in sinks.values()), "delivered before the retry was due"
        for phase, qid in qids.items():
            recipient, reply = PHASES[phase]
            entry = listed[qid]
            assert entry["state"] == "deferred"
            assert entry["attempts"] == 1
            assert entry["last_error"] == reply
            assert entry["next_attempt_at"] > entry["created_at"] + 5
            [status] = entry["recipients"]
            assert (status["address"], status["state"], status["last_reply"]) == (recipient, "pending", reply)

        for phase, qid in qids.items():
            relay.wait_for_log(f"event=removed qid={qid}")
            [received] = sinks[phase].wait_for(1)
            assert received.recipients == (PHASES[phase][0],)
        assert spooled(relay) == {}
        assert relay.stop() == 0
        assert [len(s.messages) for s in sinks.values()] == [1, 1, 1]
        assert "event=bounced" not in relay.log()
    finally:
        for server in sinks.values():
            server.stop()


def test_burst_of_messages_to_one_route_reuses_connections(relay: RelaySetup, sink: Sink) -> None:
    # With the default limit (20) a burst may legitimately open one connection per message when
    # deliveries overlap; at 2, five messages can only arrive over fewer than five connections if
    # connections carry several messages.
    relay.configure(routes={"x.test": sink.address}, delivery={"max_per_destination": 2})
    relay.start()
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=30) as client:
        for n in range(5):
            refused = client.sendmail(SENDER, [f"r{n}@x.test"], message_bytes(message_id=f"<m{n}@c.test>"))
            assert refused == {}
    received = sink.wait_for(5)
    assert sorted(m.recipients[0] for m in received) == [f"r{n}@x.test" for n in range(5)]
    assert sink.connections <= 2
    assert relay.stop() == 0
    assert len(sink.messages) == 5


def test_idle_connection_is_reused_until_the_server_drops_it(relay: RelaySetup, sink: Sink) -> None:
    relay.configure(routes={"x.test": sink.address})
    relay.start()
    for n in range(3):
        submit(relay, SENDER, [f"r{n}@x.test"], message_bytes())
        sink.wait_for(n + 1)
    assert sink.connections == 1

    sink.drop_sessions()  # the cached connection is dead now
    qid = submit(relay, SENDER, ["r3@x.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    assert sink.wait_for(4)[-1].recipients == ("r3@x.test",)
    assert sink.connections == 2
    assert f"event=deferred qid={qid}" not in relay.log()  # the relay just opened a new one
    assert relay.stop() == 0
    assert sink.open_sessions == 0  # the relay said QUIT on its way out
    assert len(sink.messages) == 4


@pytest.mark.parametrize("limit", [1, 2])
def test_per_destination_concurrency_limit(relay: RelaySetup, limit: int) -> None:
    # Each DATA is answered a second late: the next message must be queued within it for the
    # limit to be reached, and queueing it waits for an fsync, which a busy disk may make slow.
    with Sink(data_delay=1.0) as slow:
        relay.configure(routes={"x.test": slow.address}, delivery={"max_per_destination": limit})
        relay.start()
        with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=30) as client:
            for n in range(4):
                assert client.sendmail(SENDER, [f"r{n}@x.test"], message_bytes()) == {}
        slow.wait_for(4)
        assert relay.stop() == 0
        # The limit is reached (the measurement works) and never exceeded; the connections
        # opened are reused for the remaining messages.
        assert slow.max_open_sessions == limit
        assert slow.connections == limit
        assert len(slow.messages) == 4


def test_restart_resumes_deferred_messages_exactly_once(relay: RelaySetup, sink: Sink) -> None:
    sink.script("rcpt", "a@x.test", "451 4.3.0 down for maintenance")
    sink.script("rcpt", "b@x.test", "451 4.3.0 down for maintenance")
    relay.configure(routes={"x.test": sink.address}, delivery={"retry_schedule": ["1s"]})
    relay.start()
    qids = [submit(relay, SENDER, [rcpt], message_bytes()) for rcpt in ("a@x.test", "b@x.test")]
    for qid in qids:
        relay.wait_for_log(f"event=deferred qid={qid}")
    assert relay.stop() == 0
    assert spooled(relay) == dict.fromkeys(qids, QueueState.DEFERRED)

    sink.script("rcpt", "a@x.test", "250 OK")
    sink.script("rcpt", "b@x.test", "250 OK")
    relay.start()
    for qid in qids:
        relay.wait_for_log(f"event=removed qid={qid}")
    assert spooled(relay) == {}
    assert relay.stop() == 0
    assert sorted(received_ids(sink)) == sorted(qids)
    assert sorted(m.recipients for m in sink.messages) == [("a@x.test",), ("b@x.test",)]


def test_a_message_held_while_waiting_for_a_delivery_slot_is_not_sent(relay: RelaySetup, sink: Sink) -> None:
    """``relay queue hold`` on a message already picked up but waiting for a connection slot
    to its destination: it is not sent when the slot frees, and stays held."""
    relay.configure(routes={"x.test": sink.address}, delivery={"max_per_destination": 1})
    sink.data_delay = 5.0  # the hold below (a CLI process, slow to start on a busy machine) lands in it
    relay.start()
    first = submit(relay, SENDER, ["a@x.test"], message_bytes(message_id="<first@clinic.test>"))
    second = submit(relay, SENDER, ["b@x.test"], message_bytes(message_id="<second@clinic.test>"))
    wait_until(lambda: sink.data_started >= 1, 15, "the first delivery to start")
    relay.cli("queue", "hold", second)
    relay.wait_for_log(f"event=removed qid={first}")
    relay.wait_for_log(f"event=deferred qid={second}")
    assert [m.recipients for m in sink.messages] == [("a@x.test",)]
    assert spooled(relay) == {second: QueueState.HELD}
    assert "held or removed by an administrator" in relay.log()
    assert relay.stop() == 0
