"""The SMTP ingress of the real relay process: extensions, reply codes, limits and bad clients.

Most tests share one relay and one sink (module scope) and keep apart by using their own sender
and recipient addresses. Tests that need a different configuration (relay_from, timeouts,
connection limits) or break the relay on purpose start their own.
"""

from __future__ import annotations

import re
import smtplib
import socket
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from relayproc import RelaySetup, queue_list, queued_from, serving
from sink import Sink
from smtpclient import TIMEOUT, RawSMTP

MAX_SIZE = 65536
MAX_RECIPIENTS = 3


def assert_healthy(relay: RelaySetup) -> None:
    assert relay.process is not None and relay.process.poll() is None, relay.log()[-4000:]
    assert "Traceback" not in relay.log(), relay.log()[-4000:]


def assert_nothing_relayed(
    relay: RelaySetup, sink: Sink, sender: str, recipient: str, *, source: str = "127.0.0.1"
) -> None:
    """Neither queued (the relay logs every message it queues, before it answers 250) nor
    delivered: a message sent afterwards (from ``source``, which may relay) arriving shows that
    delivery works and would have carried the other one too."""
    assert queued_from(relay, sender) == 0
    probe = f"probe-after-{recipient}"
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=TIMEOUT, source_address=(source, 0)) as client:
        client.sendmail("probe@example.org", [probe], b"Subject: probe\r\n\r\nprobe\r\n")
    sink.wait_delivered(probe)
    assert sink.delivered_to(recipient) == []


def transaction(
    client: RawSMTP, sender: str, recipient: str, body: bytes = b"Subject: t\r\n\r\nhi\r\n"
) -> str:
    assert client.cmd(f"MAIL FROM:<{sender}>").startswith("250 2.1.0")
    assert client.cmd(f"RCPT TO:<{recipient}>").startswith("250 2.1.5")
    assert client.cmd("DATA").startswith("354")
    client.send(body + b".\r\n")
    return client.reply()


@pytest.fixture(scope="module")
def relay_m(tmp_path_factory: pytest.TempPathFactory, sink_m: Sink) -> Iterator[RelaySetup]:
    setup = RelaySetup(
        tmp_path_factory.mktemp("ingress"),
        routes={"example.test": sink_m.address},
        limits={"max_message_size": MAX_SIZE, "max_recipients": MAX_RECIPIENTS},
    )
    with serving(setup):
        yield setup
        assert_healthy(setup)


@pytest.fixture
def routed(relay: RelaySetup, sink: Sink) -> Iterator[RelaySetup]:
    """The per-test relay, routing example.test to the per-test sink (not started). Stopped
    before the sink is, so that its delivery connections close cleanly."""
    relay.configure(routes={"example.test": sink.address})
    yield relay
    if relay.process is not None:
        assert_healthy(relay)
        assert relay.stop() == 0


# -- extensions and reply codes ------------------------------------------------------------------


def test_ehlo_advertises_extensions_without_tls_or_auth(relay_m: RelaySetup) -> None:
    with RawSMTP(relay_m.smtp_port) as client:
        assert client.greeting.startswith("220 relay.test ")
        reply = client.cmd("EHLO client.example.org").split("\n")
    assert reply[0] == "250-relay.test"
    assert all(line.startswith("250-") for line in reply[:-1]) and reply[-1].startswith("250 ")
    keywords = [line[4:] for line in reply[1:]]
    assert f"SIZE {MAX_SIZE}" in keywords
    for keyword in ("8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"):
        assert keyword in keywords
    assert "STARTTLS" not in keywords
    assert not [k for k in keywords if k.startswith("AUTH")]


def test_replies_carry_enhanced_codes(relay_m: RelaySetup, sink_m: Sink) -> None:
    rcpt = "codes@example.test"
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        assert client.cmd("NOOP").startswith("250 2.0.0")
        assert client.cmd("RSET").startswith("250 2.0.0")
        assert client.cmd("MAIL FROM:<codes@example.org>").startswith("250 2.1.0 ")
        assert client.cmd(f"RCPT TO:<{rcpt}>").startswith("250 2.1.5 ")
        assert client.cmd("DATA").startswith("354 ")
        client.send(b"Subject: codes\r\n\r\nhello\r\n.\r\n")
        assert re.fullmatch(r"250 2\.0\.0 OK: queued as \S+", client.reply())
        assert client.cmd("QUIT").startswith("221 2.0.0")
        assert client.wait_closed() == b""
    [received] = sink_m.wait_delivered(rcpt)
    assert received.data.endswith(b"\r\n\r\nhello\r\n")


def test_pipelined_commands_are_answered_in_order(relay_m: RelaySetup, sink_m: Sink) -> None:
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        client.send(
            b"MAIL FROM:<pipe@example.org>\r\nRCPT TO:<pipe1@example.test>\r\n"
            b"RCPT TO:<pipe2@example.test>\r\nDATA\r\n"
        )
        replies = [client.reply() for _ in range(4)]
        assert [r[:9] for r in replies] == ["250 2.1.0", "250 2.1.5", "250 2.1.5", "354 End d"]
        client.send(b"Subject: pipe\r\n\r\npipelined\r\n.\r\nQUIT\r\n")
        assert client.reply().startswith("250 2.0.0 OK: queued as ")
        assert client.reply().startswith("221 ")
    sink_m.wait_delivered("pipe1@example.test")
    sink_m.wait_delivered("pipe2@example.test")


# -- limits ------------------------------------------------------------------------------------


def test_size_parameter_over_the_limit_is_refused(relay_m: RelaySetup, sink_m: Sink) -> None:
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        reply = client.cmd(f"MAIL FROM:<size-param@example.org> SIZE={MAX_SIZE + 1}")
        assert reply.startswith("552 5.3.4 "), reply
        assert client.cmd("RCPT TO:<size-param@example.test>").startswith("503 5.5.1")
        # At the limit, SIZE= is fine and the session goes on normally.
        assert client.cmd(f"MAIL FROM:<size-ok@example.org> SIZE={MAX_SIZE}").startswith("250 2.1.0")
    assert queued_from(relay_m, "size-param@example.org") == 0


def test_too_big_body_is_refused_and_nothing_queued(relay_m: RelaySetup, sink_m: Sink) -> None:
    sender, rcpt = "too-big@example.org", "too-big@example.test"
    body = b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * (MAX_SIZE // 78 + 1)
    assert len(body) > MAX_SIZE
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        reply = transaction(client, sender, rcpt, body)
        assert reply.startswith("552 5.3.4 "), reply
        # The refusal ended the transaction, not the session.
        assert client.cmd("RCPT TO:<x@example.test>").startswith("503 5.5.1")
        assert client.cmd("NOOP").startswith("250 2.0.0")
    assert_nothing_relayed(relay_m, sink_m, sender, rcpt)
    assert_healthy(relay_m)


def exact_message(size: int) -> bytes:
    """A message of ``size`` octets with a line that smtplib dot-stuffs (the dot is not counted)."""
    head = b"Subject: exact\r\n\r\n.leading dot, stuffed on the wire\r\n"
    lines, rest = divmod(size - len(head), 100)
    message = head + (b"z" * 98 + b"\r\n") * (lines - 1) + b"y" * (rest + 98) + b"\r\n"
    assert len(message) == size
    return message


@pytest.mark.parametrize(("size", "code"), [(MAX_SIZE, 250), (MAX_SIZE + 1, 552)], ids=["at-max", "over-max"])
def test_size_limit_counts_the_message_not_the_stuffing(
    relay_m: RelaySetup, sink_m: Sink, size: int, code: int
) -> None:
    rcpt = f"exact-{size}@example.test"
    message = exact_message(size)
    with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
        client.ehlo()
        client.mail(f"exact-{size}@example.org")
        client.rcpt(rcpt)
        reply = client.data(message)  # smtplib stuffs the leading dot
    assert reply[0] == code, reply
    if code == 250:
        [received] = sink_m.wait_delivered(rcpt)
        assert received.data.endswith(b"\r\n" + message)
    else:
        assert reply[1].startswith(b"5.3.4 ")
        assert_nothing_relayed(relay_m, sink_m, f"exact-{size}@example.org", rcpt)


def test_recipients_beyond_the_limit_are_deferred(relay_m: RelaySetup, sink_m: Sink) -> None:
    recipients = [f"many{i}@example.test" for i in range(MAX_RECIPIENTS + 1)]
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        assert client.cmd("MAIL FROM:<many@example.org>").startswith("250")
        replies = [client.cmd(f"RCPT TO:<{r}>") for r in recipients]
        assert all(r.startswith("250 2.1.5") for r in replies[:MAX_RECIPIENTS]), replies
        assert replies[MAX_RECIPIENTS].startswith("452 4.5.3 "), replies
        assert client.cmd("DATA").startswith("354")
        client.send(b"Subject: many\r\n\r\nhi\r\n.\r\n")
        assert client.reply().startswith("250 2.0.0")
    for rcpt in recipients[:MAX_RECIPIENTS]:
        sink_m.wait_delivered(rcpt)
    assert_nothing_relayed(relay_m, sink_m, "nobody@example.org", recipients[MAX_RECIPIENTS])


def test_line_over_998_octets_is_refused(relay_m: RelaySetup, sink_m: Sink) -> None:
    sender, rcpt = "long-line@example.org", "long-line@example.test"
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        reply = transaction(client, sender, rcpt, b"Subject: long\r\n\r\n" + b"L" * 999 + b"\r\n")
        assert reply.startswith("500 5.5.2 "), reply
        assert client.cmd("NOOP").startswith("250")
    assert_nothing_relayed(relay_m, sink_m, sender, rcpt)


def test_line_of_998_octets_is_kept_intact(relay_m: RelaySetup, sink_m: Sink) -> None:
    rcpt = "line-998@example.test"
    body = b"Subject: long\r\n\r\n" + b"L" * 998 + b"\r\n." + b"D" * 997 + b"\r\n"
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        stuffed = body.replace(b"\r\n.", b"\r\n..")
        assert transaction(client, "line-998@example.org", rcpt, stuffed).startswith("250 2.0.0")
    [received] = sink_m.wait_delivered(rcpt)
    assert received.data.endswith(body)


# -- malformed SMTP ----------------------------------------------------------------------------

MALFORMED = {
    "garbage-command": (b"XYZZY plugh", "500 5.5.2"),
    "rcpt-before-mail": (b"RCPT TO:<a@example.test>", "503 5.5.1"),
    "data-before-mail": (b"DATA", "503 5.5.1"),
    "mail-without-from": (b"MAIL <a@example.org>", "501 5.5.4"),
    "malformed-address": (b"MAIL FROM:<a@@>>", "553 5.1.3"),
    "unknown-mail-parameter": (b"MAIL FROM:<a@example.org> FOO=BAR", "555 5.5.4"),
    "bad-body-parameter": (b"MAIL FROM:<a@example.org> BODY=9BIT", "501 5.5.4"),
    "overlong-command": (b"NOOP " + b"n" * 2000, "500 5.5.2"),
    "very-overlong-command": (b"MAIL FROM:<" + b"a" * 50_000 + b"@example.org>", "500 5.5.2"),
    "non-ascii-command": (b"\xff\xfe\x80 junk", "500 5.5.2"),
    "empty-line": (b"", "500 5.5.2"),
    "nul-in-command": (b"NO\x00OP", "500 5.5.2"),
    "auth-without-tls": (b"AUTH PLAIN AGFsaWNlAHMzY3JldA==", "538 5.7.11"),
    "starttls-not-offered": (b"STARTTLS", "454 4.7.0"),
    "data-with-argument": (b"DATA now", "503 5.5.1"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_command_gets_clean_refusal(relay_m: RelaySetup, sink_m: Sink, name: str) -> None:
    line, code = MALFORMED[name]
    rcpt = f"after-{name}@example.test"
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        reply = client.cmd(line)
        assert reply.startswith(code + " "), reply
        # The session is still usable: a whole transaction goes through on it.
        assert transaction(client, "after-malformed@example.org", rcpt).startswith("250 2.0.0")
    sink_m.wait_delivered(rcpt)
    assert_healthy(relay_m)


def test_commands_before_helo_are_refused(relay_m: RelaySetup) -> None:
    with RawSMTP(relay_m.smtp_port) as client:
        assert client.cmd("MAIL FROM:<a@example.org>").startswith("503 5.5.1")
        assert client.cmd("DATA").startswith("503 5.5.1")
        assert client.cmd("EHLO").startswith("501 ")
        assert client.cmd("EHLO client.example.org").startswith("250")
        assert client.cmd("MAIL FROM:<a@example.org>").startswith("250 2.1.0")
        assert client.cmd("MAIL FROM:<b@example.org>").startswith("503 5.5.1")  # nested MAIL


def test_too_many_unknown_commands_end_the_session(relay_m: RelaySetup) -> None:
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        replies = [client.cmd(f"BOGUS{i}") for i in range(4)]
        assert all(r.startswith("500 5.5.2") for r in replies), replies
        assert client.cmd("BOGUS5").startswith("502 5.5.1")
        assert client.wait_closed() == b""
    assert_healthy(relay_m)


def test_client_vanishing_mid_data_queues_nothing(relay_m: RelaySetup, sink_m: Sink) -> None:
    sender, rcpt = "vanish@example.org", "vanish@example.test"
    with RawSMTP(relay_m.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        client.cmd(f"MAIL FROM:<{sender}>")
        client.cmd(f"RCPT TO:<{rcpt}>")
        assert client.cmd("DATA").startswith("354")
        client.send(b"Subject: half\r\n\r\nhalf a mess")
    assert_nothing_relayed(relay_m, sink_m, sender, rcpt)
    assert_healthy(relay_m)


# -- who may relay -----------------------------------------------------------------------------


def test_open_relay_is_refused(routed: RelaySetup, sink: Sink) -> None:
    routed.configure(relay_from=["127.0.0.2/32"])
    routed.start()
    with RawSMTP(routed.smtp_port, source="127.0.0.1") as client:
        client.cmd("EHLO outsider.example.org")
        assert client.cmd("MAIL FROM:<outsider@example.org>").startswith("250")
        reply = client.cmd("RCPT TO:<victim@example.test>")
        assert reply.startswith("554 5.7.1 "), reply
        assert client.cmd("DATA").startswith("503 5.5.1")
    assert queue_list(routed) == []
    assert_nothing_relayed(routed, sink, "outsider@example.org", "victim@example.test", source="127.0.0.2")
    assert [m.recipients for m in sink.messages] == [("probe-after-victim@example.test",)]
    routed.wait_for_log("event=relay_denied qid=NOQUEUE client=127.0.0.1 rcpt=<victim@example.test>")


def test_listed_network_may_relay(routed: RelaySetup, sink: Sink) -> None:
    routed.configure(relay_from=["127.0.0.2/32"])
    routed.start()
    with RawSMTP(routed.smtp_port, source="127.0.0.2") as client:
        client.cmd("EHLO insider.example.org")
        assert transaction(client, "insider@example.org", "friend@example.test").startswith("250 2.0.0")
    [received] = sink.wait_delivered("friend@example.test")
    assert b"([127.0.0.2])" in received.data.split(b"\r\n\r\n")[0]
    assert_healthy(routed)


def test_empty_relay_from_refuses_everyone_unauthenticated(routed: RelaySetup, sink: Sink) -> None:
    routed.configure(relay_from=[])
    routed.start()
    with RawSMTP(routed.smtp_port) as client:
        client.cmd("EHLO localhost")
        client.cmd("MAIL FROM:<local@example.org>")
        assert client.cmd("RCPT TO:<local@example.test>").startswith("554 5.7.1")
    assert queue_list(routed) == []


# -- timeouts and connection limits ------------------------------------------------------------


def test_idle_client_is_disconnected_with_421(routed: RelaySetup) -> None:
    routed.configure(limits={"command_timeout": "1s"})
    routed.start()
    with RawSMTP(routed.smtp_port) as client:
        client.cmd("EHLO idle.example.org")
        started = time.monotonic()
        reply = client.reply()  # we send nothing more
        assert reply.startswith("421 4.4.2 "), reply
        assert client.wait_closed() == b""
    assert 0.5 <= time.monotonic() - started < 5
    assert_healthy(routed)


def test_stalled_data_gets_421_and_nothing_queued(routed: RelaySetup, sink: Sink) -> None:
    routed.configure(limits={"data_timeout": "1s"})
    routed.start()
    with RawSMTP(routed.smtp_port) as client:
        client.cmd("EHLO slow.example.org")
        client.cmd("MAIL FROM:<stall@example.org>")
        client.cmd("RCPT TO:<stall@example.test>")
        assert client.cmd("DATA").startswith("354")
        client.send(b"Subject: stall\r\n\r\nand then nothing")
        reply = client.reply()
        assert reply.startswith("421 4.4.2 "), reply
        assert client.wait_closed() == b""
    assert_nothing_relayed(routed, sink, "stall@example.org", "stall@example.test")
    assert_healthy(routed)


def test_slow_data_within_data_timeout_outlives_command_timeout(routed: RelaySetup, sink: Sink) -> None:
    """command_timeout is for idle time between commands; DATA has data_timeout."""
    routed.configure(limits={"command_timeout": "1s", "data_timeout": "10s"})
    routed.start()
    with RawSMTP(routed.smtp_port) as client:
        client.cmd("EHLO slow.example.org")
        client.cmd("MAIL FROM:<slow@example.org>")
        client.cmd("RCPT TO:<slow@example.test>")
        assert client.cmd("DATA").startswith("354")
        started = time.monotonic()
        client.send(b"Subject: slow\r\n\r\n")
        for i in range(4):
            time.sleep(0.5)  # the client trickles its data: that is the stimulus under test
            client.send(f"line {i}\r\n".encode())
        client.send(b".\r\n")
        reply = client.reply()
        assert time.monotonic() - started > 1.5
        assert reply.startswith("250 2.0.0"), reply
        assert client.cmd("NOOP").startswith("250")
    [received] = sink.wait_delivered("slow@example.test")
    assert received.data.endswith(b"line 3\r\n")


def test_connections_per_ip_are_limited(routed: RelaySetup) -> None:
    routed.configure(limits={"max_connections_per_ip": 2})
    routed.start()
    first, second = RawSMTP(routed.smtp_port), RawSMTP(routed.smtp_port)
    assert first.greeting.startswith("220") and second.greeting.startswith("220")
    refused_before = _rejections(routed, "connection_limit")
    try:
        with socket.create_connection(("127.0.0.1", routed.smtp_port), timeout=TIMEOUT) as third:
            refused = third.recv(1000)
            assert refused.startswith(b"421 4.7.0 "), refused
            assert third.recv(1000) == b""
        # Another address has its own count.
        with RawSMTP(routed.smtp_port, source="127.0.0.3") as other:
            assert other.greeting.startswith("220")
        assert first.cmd("QUIT").startswith("221")
        assert first.wait_closed() == b""
        with RawSMTP(routed.smtp_port) as fourth:
            assert fourth.greeting.startswith("220")
            assert fourth.cmd("EHLO again.example.org").startswith("250")
        assert second.cmd("NOOP").startswith("250")
    finally:
        first.close()
        second.close()
    assert _rejections(routed, "connection_limit") - refused_before == 1  # the third one
    assert_healthy(routed)


def _rejections(relay: RelaySetup, reason: str) -> float:
    """``relay_messages_rejected_total`` for ``reason``, scraped from the running relay."""
    url = f"http://{relay.settings['listen']['metrics']}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "relay_messages_rejected_total" and sample.labels.get("reason") == reason
    )


# -- a failing spool answers 451 ---------------------------------------------------------------


def test_spool_write_failure_is_answered_451(routed: RelaySetup, sink: Sink) -> None:
    """A fault injected into the spool database from outside (an SQLite trigger) makes the
    insert fail: the client must get a temporary failure, never a 250 for a message not stored."""
    routed.start()
    database = Path(routed.directory) / "spool" / "queue.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TRIGGER refuse_insert BEFORE INSERT ON messages "
            "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )
    with RawSMTP(routed.smtp_port) as client:
        client.cmd("EHLO client.example.org")
        reply = transaction(client, "spool-fault@example.org", "spool-fault@example.test")
        assert reply.startswith("451 4.3.0 "), reply
    with sqlite3.connect(database) as db:
        db.execute("DROP TRIGGER refuse_insert")
    assert_nothing_relayed(routed, sink, "spool-fault@example.org", "spool-fault@example.test")
    assert_healthy(routed)
