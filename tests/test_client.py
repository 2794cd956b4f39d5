"""The SMTP client connection (relay.delivery.client) against a real aiosmtpd sink in-process."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from sink import Sink

from relay.delivery.client import SmtpConnection, Timeouts, Transaction
from relay.model import Envelope, Outcome, Reply

TIMEOUTS = Timeouts(connect=5.0, command=10.0)
DATA = b"Subject: client test\r\nMessage-ID: <c1@clinic.test>\r\n\r\nhello\r\n"
A, B, C = "a@x.test", "b@x.test", "c@x.test"


def envelope(*recipients: str) -> Envelope:
    return Envelope(sender="s@clinic.test", recipients=recipients, client_ip="127.0.0.1")


async def connect(sink: Sink) -> SmtpConnection:
    opened = await SmtpConnection.open(
        host="mx.x.test", address=sink.host, port=sink.port, helo_name="relay.test", timeouts=TIMEOUTS
    )
    assert isinstance(opened, SmtpConnection), opened
    return opened


@pytest.fixture
async def connection(sink: Sink) -> AsyncIterator[SmtpConnection]:
    opened = await connect(sink)
    yield opened
    await opened.close()


def by_recipient(transaction: Transaction) -> dict[str, tuple[Outcome, int]]:
    return {r.recipient: (r.outcome, r.reply.code) for r in transaction.results}


async def test_per_recipient_results(sink: Sink, connection: SmtpConnection) -> None:
    sink.script("rcpt", B, "550 5.1.1 no such user")
    sink.script("rcpt", C, "451 4.3.0 greylisted")
    transaction = await connection.send(envelope(A, B, C), (A, B, C), DATA)
    assert [r.recipient for r in transaction.results] == [A, B, C]
    assert by_recipient(transaction) == {
        A: (Outcome.DELIVERED, 250),
        B: (Outcome.PERMFAIL, 550),
        C: (Outcome.TEMPFAIL, 451),
    }
    assert transaction.results[1].reply == Reply(code=550, enhanced="5.1.1", text="no such user")
    assert all(r.remote_host == "mx.x.test" for r in transaction.results)
    assert (transaction.try_next_hop, transaction.reusable) == (False, True)
    assert transaction.failure is None  # every recipient got its own answer
    [received] = sink.messages
    assert received.recipients == (A,)
    assert received.sender == "s@clinic.test"
    assert received.data == DATA


@pytest.mark.parametrize(
    ("answer", "reply"),
    [
        pytest.param("550 5.1.1 no such user", Reply(code=550, enhanced="5.1.1", text="no such user"),
                     id="enhanced-code-split-off"),
        pytest.param("452 4.2.2 mailbox full", Reply(code=452, enhanced="4.2.2", text="mailbox full"),
                     id="temporary-enhanced"),
        pytest.param("550 no such user", Reply(code=550, text="no such user"), id="no-enhanced-code"),
        pytest.param("550 4.1.1 odd server", Reply(code=550, text="4.1.1 odd server"),
                     id="class-mismatch-kept-as-text"),
        pytest.param("553 5.1.3", Reply(code=553, enhanced="5.1.3", text=""), id="code-only"),
    ],
)
async def test_reply_keeps_the_servers_enhanced_status_code(
    sink: Sink, connection: SmtpConnection, answer: str, reply: Reply
) -> None:
    # RFC 3464 2.3.4: the DSN's Status comes from here, so it must survive as its own field.
    sink.script("rcpt", A, answer)
    transaction = await connection.send(envelope(A), (A,), DATA)
    assert transaction.results[0].reply == reply
    assert str(transaction.results[0].reply) == answer


async def test_no_recipient_accepted_sends_no_data(sink: Sink, connection: SmtpConnection) -> None:
    sink.script("rcpt", A, "550 5.1.1 no such user")
    sink.script("rcpt", B, "452 4.2.2 mailbox full")
    transaction = await connection.send(envelope(A, B), (A, B), DATA)
    assert by_recipient(transaction) == {A: (Outcome.PERMFAIL, 550), B: (Outcome.TEMPFAIL, 452)}
    assert (transaction.try_next_hop, transaction.reusable) == (False, True)
    assert sink.messages == []
    # The connection was reset and still carries mail.
    again = await connection.send(envelope(C), (C,), DATA)
    assert by_recipient(again) == {C: (Outcome.DELIVERED, 250)}


@pytest.mark.parametrize(
    ("reply", "outcome", "next_hop"),
    [
        pytest.param("451 4.3.2 system not accepting", Outcome.TEMPFAIL, True, id="4xx-next-hop"),
        pytest.param("421 4.7.0 too many connections", Outcome.TEMPFAIL, True, id="421-next-hop"),
        pytest.param("550 5.7.1 sender refused", Outcome.PERMFAIL, False, id="5xx-final"),
    ],
)
async def test_mail_refused_fails_every_recipient(
    sink: Sink, connection: SmtpConnection, reply: str, outcome: Outcome, next_hop: bool
) -> None:
    sink.script("mail", "*", reply, "250 OK")
    transaction = await connection.send(envelope(A, B), (A, B), DATA)
    code = int(reply[:3])
    assert by_recipient(transaction) == {A: (outcome, code), B: (outcome, code)}
    assert transaction.try_next_hop is next_hop
    assert transaction.failure is not None
    assert str(transaction.failure) == reply
    assert sink.messages == []


@pytest.mark.parametrize(
    ("reply", "outcome", "next_hop"),
    [
        pytest.param("451 4.3.0 queue full", Outcome.TEMPFAIL, True, id="4xx-next-hop"),
        pytest.param("554 5.6.0 content rejected", Outcome.PERMFAIL, False, id="5xx-final"),
    ],
)
async def test_data_refused_fails_accepted_recipients_only(
    sink: Sink, connection: SmtpConnection, reply: str, outcome: Outcome, next_hop: bool
) -> None:
    # A is refused at RCPT; B and C are accepted and then the DATA fails (keyed on B, the first).
    sink.script("rcpt", A, "550 5.1.1 no such user")
    sink.script("data", B, reply, "250 OK")
    transaction = await connection.send(envelope(A, B, C), (A, B, C), DATA)
    code = int(reply[:3])
    assert by_recipient(transaction) == {
        A: (Outcome.PERMFAIL, 550),
        B: (outcome, code),
        C: (outcome, code),
    }
    assert transaction.try_next_hop is next_hop
    assert transaction.reusable is True
    assert transaction.failure is not None
    assert str(transaction.failure) == reply
    assert sink.messages == []
    again = await connection.send(envelope(B), (B,), DATA)
    assert by_recipient(again) == {B: (Outcome.DELIVERED, 250)}


@pytest.mark.parametrize("null", ["", "<>"], ids=["empty", "angle-brackets"])
async def test_null_sender_is_sent_as_the_null_reverse_path(
    sink: Sink, connection: SmtpConnection, null: str
) -> None:
    bounce = Envelope(sender=null, recipients=(A,), client_ip="127.0.0.1")
    transaction = await connection.send(bounce, (A,), DATA)
    assert by_recipient(transaction) == {A: (Outcome.DELIVERED, 250)}
    assert [m.sender for m in sink.messages] == ["<>"]  # aiosmtpd's spelling of MAIL FROM:<>


async def test_address_unfit_for_a_command_line_fails_alone(
    sink: Sink, connection: SmtpConnection
) -> None:
    smuggler = "x y@x.test"  # a space would end the address on the command line
    transaction = await connection.send(envelope(A, smuggler), (A, smuggler), DATA)
    assert by_recipient(transaction) == {A: (Outcome.DELIVERED, 250), smuggler: (Outcome.PERMFAIL, 553)}
    assert transaction.results[1].reply.enhanced == "5.1.3"
    assert [m.recipients for m in sink.messages] == [(A,)]


async def test_sender_unfit_for_a_command_line_fails_the_transaction(
    sink: Sink, connection: SmtpConnection
) -> None:
    bad = Envelope(sender="s t@clinic.test", recipients=(A,), client_ip="127.0.0.1")
    transaction = await connection.send(bad, (A,), DATA)
    assert by_recipient(transaction) == {A: (Outcome.PERMFAIL, 553)}
    assert transaction.try_next_hop is False
    assert transaction.reusable is True
    again = await connection.send(envelope(B), (B,), DATA)
    assert by_recipient(again) == {B: (Outcome.DELIVERED, 250)}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_connect_refused_is_a_reply(closed_port: int) -> None:
    opened = await SmtpConnection.open(
        host="mx.x.test", address="127.0.0.1", port=closed_port, helo_name="relay.test", timeouts=TIMEOUTS
    )
    assert isinstance(opened, Reply)
    assert (opened.code, opened.enhanced) == (451, "4.4.1")
    assert f"mx.x.test[127.0.0.1]:{closed_port}" in opened.text
    assert not opened.is_permanent


@pytest.mark.parametrize("self_signed", [False, True], ids=["untrusted-ca", "self-signed"])
async def test_starttls_is_used_with_an_unverifiable_certificate(tmp_path: Path, self_signed: bool) -> None:
    leaf = LocalCA(tmp_path).issue("other-name.test", self_signed=self_signed)
    with Sink(tls_context=leaf.server_context()) as tls_sink:
        connection = await connect(tls_sink)
        try:
            assert connection.tls is not None
            assert connection.tls.version.startswith("TLSv1.")
            assert connection.tls.cipher
            transaction = await connection.send(envelope(A), (A,), DATA)
        finally:
            await connection.close()
        assert by_recipient(transaction) == {A: (Outcome.DELIVERED, 250)}
        [received] = tls_sink.messages
        assert received.tls is True


async def test_plaintext_when_starttls_not_offered(connection: SmtpConnection, sink: Sink) -> None:
    assert connection.tls is None
    await connection.send(envelope(A), (A,), DATA)
    assert [m.tls for m in sink.messages] == [False]


async def test_one_connection_carries_two_transactions(
    sink: Sink, connection: SmtpConnection
) -> None:
    first = await connection.send(envelope(A), (A,), DATA)
    second = await connection.send(envelope(B, C), (B, C), DATA + b"second\r\n")
    assert by_recipient(first) == {A: (Outcome.DELIVERED, 250)}
    assert by_recipient(second) == {B: (Outcome.DELIVERED, 250), C: (Outcome.DELIVERED, 250)}
    assert connection.messages_sent == 2
    assert connection.is_connected
    assert sink.connections == 1
    assert [m.recipients for m in sink.messages] == [(A,), (B, C)]


async def test_connection_lost_mid_transaction_defers_and_is_not_reused(sink: Sink) -> None:
    connection = await connect(sink)
    sink.drop_sessions()  # the server hangs up between EHLO and MAIL
    try:
        transaction = await connection.send(envelope(A, B), (A, B), DATA)
    finally:
        await connection.close()
    assert by_recipient(transaction) == {A: (Outcome.TEMPFAIL, 451), B: (Outcome.TEMPFAIL, 451)}
    assert transaction.results[0].reply.enhanced == "4.4.2"
    assert transaction.failure == transaction.results[0].reply
    assert (transaction.try_next_hop, transaction.reusable) == (True, False)
