"""Bounces through the real relay process: the DSN's shape, what it must not carry, and loops.

The original message carries synthetic PHI in its body; the DSN returns headers only, and
neither the log nor the spool keeps the body once the message is gone.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
import time
from email.message import Message

import pytest
from helpers import SENDER
from relayproc import RelaySetup, dsn_queued_for, spooled
from sink import Sink
from smtpclient import submit

MARKER = "BODY-SECRET 123-45-6789"
ORIGINAL = (
    f"From: Dr. Alice <{SENDER}>\r\n"
    "To: <gone@x.test>\r\n"
    "Subject: Referral for a patient\r\n"
    "Message-ID: <phi-test-1@clinic.test>\r\n"
    "\r\n"
    f"Patient record follows.\r\n{MARKER}\r\nEnd.\r\n"
).encode()


@pytest.fixture
def routed(relay: RelaySetup, sink: Sink, sender_sink: Sink) -> RelaySetup:
    """The relay routing x.test to ``sink`` and the sender's clinic.test to ``sender_sink``."""
    relay.configure(routes={"x.test": sink.address, "clinic.test": sender_sink.address})
    return relay


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)


def report_blocks(dsn: Message) -> list[Message]:
    """The message/delivery-status part's field blocks: per-message first, then per recipient."""
    [status] = [part for part in dsn.walk() if part.get_content_type() == "message/delivery-status"]
    blocks = status.get_payload()
    assert isinstance(blocks, list)
    return blocks


def test_permanent_failure_returns_headers_only_dsn_to_the_sender(
    routed: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    sink.script("rcpt", "gone@x.test", "550 5.1.1 <gone@x.test>: Recipient address rejected: User unknown")
    routed.start()
    qid = submit(routed, SENDER, ["gone@x.test"], ORIGINAL)
    [received] = sender_sink.wait_for(1)
    [dsn_qid] = dsn_queued_for(routed, qid)
    routed.wait_for_log(f"event=removed qid={dsn_qid}")

    assert received.sender == "<>"  # the null reverse path, as aiosmtpd reports it
    assert received.recipients == (SENDER,)
    assert MARKER.encode() not in received.data
    assert b"123-45-6789" not in received.data

    dsn = parse(received.data)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert [part.get_content_type() for part in dsn.iter_parts()] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert f"\r\nTo: <{SENDER}>\r\n".encode() in received.data
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert "MAILER-DAEMON@relay.test" in dsn["From"]

    per_message, *per_recipient = report_blocks(dsn)
    assert per_message["Reporting-MTA"] == "dns; relay.test"
    [gone] = per_recipient
    assert gone["Final-Recipient"] == "rfc822; gone@x.test"
    assert gone["Action"] == "failed"
    assert gone["Status"] == "5.1.1"  # the receiving server's own enhanced code
    assert gone["Remote-MTA"] == "dns; 127.0.0.1"
    assert gone["Diagnostic-Code"].startswith("smtp; 550 5.1.1 <gone@x.test>: Recipient address rejected")

    returned = next(p for p in dsn.iter_parts() if p.get_content_type() == "text/rfc822-headers")
    headers = returned.get_payload(decode=True)
    assert isinstance(headers, bytes)
    assert b"Subject: Referral for a patient\r\n" in headers
    assert b"Message-ID: <phi-test-1@clinic.test>\r\n" in headers
    assert f"id {qid}".encode() in headers  # our Received header went back too
    assert b"Patient record follows" not in received.data

    assert spooled(routed) == {}
    assert routed.stop() == 0
    assert sink.messages == []
    assert MARKER not in routed.log()
    # Once the message is gone, so is its body (SQLite keeps deleted rows unless told not to).
    leftovers = [
        path.name
        for path in (routed.directory / "spool").rglob("*")
        if path.is_file() and MARKER.encode() in path.read_bytes()
    ]
    assert leftovers == []


def test_null_sender_message_is_never_bounced(
    routed: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    sink.script("rcpt", "gone@x.test", "550 5.1.1 user unknown")
    routed.start()
    qid = submit(routed, "", ["gone@x.test"], ORIGINAL)
    routed.wait_for_log(f"event=removed qid={qid}")
    log = routed.log()
    assert f"event=bounced qid={qid} to=<gone@x.test>" in log
    assert "event=dsn_queued" not in log
    assert spooled(routed) == {}  # the DSN would have been queued with the removal
    assert routed.stop() == 0
    assert sink.connections >= 1  # delivery was attempted
    assert sink.messages == []
    assert sender_sink.messages == []
    assert sender_sink.connections == 0


def test_bounce_of_a_bounce_is_dropped(
    routed: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    sink.script("rcpt", "gone@x.test", "550 5.1.1 user unknown")
    sender_sink.script("rcpt", SENDER, "550 5.1.1 sender's mailbox is gone too")
    routed.start()
    qid = submit(routed, SENDER, ["gone@x.test"], ORIGINAL)
    routed.wait_for_log(f"event=removed qid={qid}")
    [dsn_qid] = dsn_queued_for(routed, qid)
    routed.wait_for_log(f"event=removed qid={dsn_qid}")
    log = routed.log()
    assert f"event=bounced qid={dsn_qid} to=<{SENDER}>" in log
    assert dsn_queued_for(routed, dsn_qid) == []
    assert log.count("event=dsn_queued") == 1
    assert spooled(routed) == {}
    assert routed.stop() == 0
    assert sender_sink.connections >= 1
    assert sender_sink.messages == []


def test_recipient_still_deferred_at_the_end_of_the_lifetime_is_bounced_as_expired(
    routed: RelaySetup, sink: Sink, sender_sink: Sink
) -> None:
    lifetime = 3.0
    sink.script("rcpt", "slow@x.test", "451 4.2.0 mailbox temporarily unavailable")
    routed.configure(delivery={"retry_schedule": ["1s"], "max_queue_lifetime": f"{lifetime:g}s"})
    routed.start()
    started = time.monotonic()
    qid = submit(routed, SENDER, ["slow@x.test"], ORIGINAL)
    [received] = sender_sink.wait_for(1, timeout=lifetime + 15)
    elapsed = time.monotonic() - started
    routed.wait_for_log(f"event=removed qid={qid}")
    [dsn_qid] = dsn_queued_for(routed, qid)
    routed.wait_for_log(f"event=removed qid={dsn_qid}")

    assert elapsed >= lifetime - 0.05  # not before the lifetime ran out
    log = routed.log()
    assert log.count(f"event=deferred qid={qid} to=<slow@x.test>") >= 2  # it was retried meanwhile
    assert f"event=bounced qid={qid} to=<slow@x.test>" in log
    assert sink.messages == []
    dsn = parse(received.data)
    _, slow = report_blocks(dsn)
    assert slow["Final-Recipient"] == "rfc822; slow@x.test"
    assert slow["Action"] == "failed"
    assert slow["Status"] == "4.4.7"  # RFC 3463: delivery time expired
    assert "expired" in slow["Diagnostic-Code"]
    assert "451 4.2.0 mailbox temporarily unavailable" in slow["Diagnostic-Code"]
    assert MARKER.encode() not in received.data
    assert spooled(routed) == {}
    assert routed.stop() == 0


def test_a_bounce_made_while_stopping_is_not_left_leased(routed: RelaySetup, sink: Sink) -> None:
    """A DSN created by a delivery that finishes during shutdown cannot be handed to the
    stopping scheduler: it must be left free in the spool, so the next start (or a sibling
    worker) sends it at once rather than after the delivery lease runs out."""
    sink.script("rcpt", "gone@x.test", "550 5.1.1 no such user")
    sink.data_delay = 2.0
    routed.start()
    qid = submit(routed, SENDER, ["gone@x.test", "here@x.test"], ORIGINAL)
    deadline = time.monotonic() + 15
    while sink.data_started == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.data_started == 1
    assert routed.stop() == 0  # SIGTERM while DATA is in flight: the attempt finishes first
    [dsn] = dsn_queued_for(routed, qid)
    with sqlite3.connect(routed.directory / "spool" / "queue.db") as db:
        row = db.execute("SELECT lease_owner FROM messages WHERE queue_id = ?", (dsn,)).fetchone()
    assert row == (None,), "the DSN is still leased to the stopped process"
