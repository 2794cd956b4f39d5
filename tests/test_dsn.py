"""RFC 3464 delivery status notifications (relay.delivery.dsn)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import replace
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

import pytest

from relay.delivery.dsn import (
    MAX_FIELD_OCTETS,
    MAX_RETURNED_HEADER_OCTETS,
    build_dsn,
    header_block,
)
from relay.model import (
    Envelope,
    Fallback,
    Outcome,
    Plan,
    PlanAction,
    RecipientPlan,
    RecipientResult,
    Reply,
    TlsBranchPlan,
    TlsCondition,
    TlsLevel,
)

NOW = 1_700_000_100.0
ARRIVAL = 1_700_000_000.0
MTA = "relay.clinic.example"
SECRET = "BODY-SECRET-SSN 123-45-6789"
HEADERS = (
    b"From: Alice <alice@clinic.example>\r\n"
    b"To: bob@x.example, carol@y.example\r\n"
    b"Subject: Referral\r\n"
    b"Message-ID: <m1@clinic.example>\r\n"
)
ORIGINAL = HEADERS + b"\r\n" + SECRET.encode() + b"\r\nmore body\r\n"
ENVELOPE = Envelope(
    sender="alice@clinic.example",
    recipients=("bob@x.example", "carol@y.example"),
    client_ip="192.0.2.1",
)
BOB = RecipientResult(
    recipient="bob@x.example",
    outcome=Outcome.PERMFAIL,
    reply=Reply(code=550, enhanced="5.1.1", text="User unknown"),
    remote_host="mx.x.example",
)
CAROL = RecipientResult(
    recipient="carol@y.example",
    outcome=Outcome.PERMFAIL,
    reply=Reply(code=554, text="Transaction failed"),
)


def fail(reply: Reply, recipient: str = "bob@x.example", host: str = "") -> RecipientResult:
    outcome = Outcome.PERMFAIL if reply.is_permanent else Outcome.TEMPFAIL
    return RecipientResult(recipient=recipient, outcome=outcome, reply=reply, remote_host=host)


def dsn(
    *,
    original: bytes = ORIGINAL,
    envelope: Envelope = ENVELOPE,
    failures: Sequence[RecipientResult] = (BOB,),
    delayed: bool = False,
    now: float = NOW,
    withhold: bool = False,
) -> bytes | None:
    return build_dsn(
        withhold=withhold,
        original_headers=original,
        envelope=envelope,
        failures=failures,
        queue_id="4XyZ9",
        reporting_mta=MTA,
        arrival_date=ARRIVAL,
        now=now,
        delayed=delayed,
    )


def parse(raw: bytes | None) -> EmailMessage:
    assert raw is not None
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> list[EmailMessage]:
    return list(msg.iter_parts())  # type: ignore[arg-type]


def status_blocks(msg: EmailMessage) -> list[Message]:
    payload = parts(msg)[1].get_payload()
    assert isinstance(payload, list)
    blocks = [block for block in payload if isinstance(block, Message)]
    assert len(blocks) == len(payload)
    return blocks


# -- header_block -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(b"A: 1\r\nB: 2\r\n\r\nbody\r\n", b"A: 1\r\nB: 2\r\n", id="crlf"),
        pytest.param(b"A: 1\nB: 2\n\nbody\n", b"A: 1\nB: 2\n", id="lf-only"),
        pytest.param(b"A: 1\r\n folded\r\n\r\nbody", b"A: 1\r\n folded\r\n", id="folded"),
        pytest.param(b"A: 1\r\nB: 2\r\n", b"A: 1\r\nB: 2\r\n", id="no-body"),
        pytest.param(b"A: 1\r\nB: 2", b"A: 1\r\nB: 2", id="no-final-newline"),
        pytest.param(b"A: 1\r\n\r\n", b"A: 1\r\n", id="empty-body"),
        pytest.param(b"\r\nbody\r\n", b"", id="no-headers"),
        pytest.param(b"\nbody\n", b"", id="no-headers-lf"),
        pytest.param(b"", b"", id="empty"),
        pytest.param(b"A: 1\n\r\nbody\r\n\r\nmore", b"A: 1\n", id="mixed-line-ends"),
        pytest.param(
            b"A: 1\r\n \r\nB: 2\r\n\r\nx", b"A: 1\r\n \r\nB: 2\r\n", id="ws-line-not-blank"
        ),
        pytest.param(b"A: 1\r\n\r\nbody\r\n\r\nbody2", b"A: 1\r\n", id="first-blank-line-wins"),
    ],
)
def test_header_block(message: bytes, expected: bytes) -> None:
    assert header_block(message) == expected


# -- loop guards ------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", [pytest.param("", id="null"), pytest.param("<>", id="brackets")])
def test_null_sender_gets_no_dsn(sender: str) -> None:
    envelope = Envelope(sender=sender, recipients=("bob@x.example",), client_ip="192.0.2.1")
    assert dsn(envelope=envelope) is None


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"Content-Type: multipart/report; report-type=delivery-status;"
                     b" boundary=x", id="dsn"),
        pytest.param(b"Content-Type: Multipart/Report;\r\n\treport-type=\"Delivery-Status\";"
                     b"\r\n boundary=\"x\"", id="dsn-folded-quoted-mixed-case"),
        pytest.param(b"Content-Type: multipart/report; report-type=global-delivery-status;"
                     b" boundary=x", id="global-dsn"),
        pytest.param(b"Auto-Submitted: auto-replied", id="auto-replied"),
        pytest.param(b"Auto-Submitted: AUTO-REPLIED (vacation)", id="auto-replied-comment"),
        pytest.param(b"Auto-Submitted: no\r\nAuto-Submitted: auto-replied", id="second-header"),
    ],
)
def test_automatic_original_gets_no_dsn(header: bytes) -> None:
    original = HEADERS + header + b"\r\n\r\n" + SECRET.encode()
    assert dsn(original=original) is None
    assert dsn(original=original.replace(b"\r\n", b"\n")) is None


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"Auto-Submitted: no", id="auto-submitted-no"),
        # An EHR's notices have a real sender who must learn of a failure (unlike auto-replies).
        pytest.param(b"Auto-Submitted: auto-generated", id="auto-generated"),
        pytest.param(b"Auto-Submitted: auto-notified; owner-email=x@y", id="extension"),
        pytest.param(b"Auto-Submitted: No (a person wrote this)", id="auto-submitted-no-comment"),
        pytest.param(b"Content-Type: multipart/report; report-type=disposition-notification;"
                     b" boundary=x", id="mdn-is-not-a-dsn"),
        pytest.param(b"Content-Type: multipart/mixed; boundary=x", id="multipart-mixed"),
        pytest.param(b"X-Note: report-type=delivery-status", id="words-elsewhere"),
    ],
)
def test_human_original_gets_a_dsn(header: bytes) -> None:
    assert dsn(original=HEADERS + header + b"\r\n\r\nbody") is not None


def test_dsn_of_our_own_dsn_is_none() -> None:
    first = dsn()
    assert first is not None
    assert dsn(original=first) is None


DELIVERED = RecipientResult(
    recipient="dan@z.example", outcome=Outcome.DELIVERED, reply=Reply(code=250, text="ok")
)


@pytest.mark.parametrize(
    "failures",
    [pytest.param((), id="empty"), pytest.param((DELIVERED,), id="only-delivered")],
)
def test_nothing_to_report_is_none(failures: Sequence[RecipientResult]) -> None:
    assert dsn(failures=failures) is None


# -- structure --------------------------------------------------------------------------------


def test_structure_parses_back() -> None:
    raw = dsn(failures=(BOB, CAROL))
    msg = parse(raw)
    assert msg.defects == []
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert [p.get_content_type() for p in parts(msg)] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert all(p.defects == [] for p in parts(msg))
    assert msg["From"] == f"Mail Delivery System <MAILER-DAEMON@{MTA}>"
    assert [a.addr_spec for a in msg["To"].addresses] == ["alice@clinic.example"]
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["MIME-Version"] == "1.0"
    assert str(msg["Message-ID"]).endswith(f"@{MTA}>")
    assert parsedate_to_datetime(str(msg["Date"])).timestamp() == NOW


def test_raw_bytes_use_crlf_only() -> None:
    raw = dsn(original=ORIGINAL.replace(b"\r\n", b"\n"), failures=(BOB, CAROL))
    assert raw is not None
    bare = raw.replace(b"\r\n", b"")
    assert b"\r" not in bare and b"\n" not in bare
    assert raw.endswith(b"\r\n")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322 section 2.1.1


def test_per_message_and_per_recipient_fields() -> None:
    blocks = status_blocks(parse(dsn(failures=(BOB, CAROL))))
    assert len(blocks) == 3
    head = blocks[0]
    assert head["Reporting-MTA"] == f"dns; {MTA}"
    assert head["X-Relay-Queue-ID"] == "4XyZ9"
    assert parsedate_to_datetime(str(head["Arrival-Date"])).timestamp() == ARRIVAL
    bob, carol = blocks[1], blocks[2]
    assert bob["Final-Recipient"] == "rfc822; bob@x.example"
    assert bob["Action"] == "failed"
    assert bob["Status"] == "5.1.1"
    assert bob["Remote-MTA"] == "dns; mx.x.example"
    assert bob["Diagnostic-Code"] == "smtp; 550 5.1.1 User unknown"
    assert carol["Final-Recipient"] == "rfc822; carol@y.example"
    assert carol["Status"] == "5.0.0"
    assert carol["Remote-MTA"] is None
    assert carol["Diagnostic-Code"] == "smtp; 554 Transaction failed"


@pytest.mark.parametrize(
    ("reply", "delayed", "status"),
    [
        pytest.param(Reply(code=550, enhanced="5.1.1", text="x"), False, "5.1.1", id="enhanced"),
        pytest.param(Reply(code=552, enhanced="5.3.4", text="x"), False, "5.3.4", id="enhanced-2"),
        pytest.param(Reply(code=550, text="x"), False, "5.0.0", id="derived-5xx"),
        pytest.param(Reply(code=451, text="x"), True, "4.0.0", id="derived-4xx"),
        pytest.param(Reply(code=421, enhanced="4.4.2", text="x"), True, "4.4.2", id="enhanced-4xx"),
        pytest.param(Reply(code=550, enhanced="4.1.1", text="x"), False, "5.0.0",
                     id="class-mismatch"),
        pytest.param(Reply(code=550, enhanced="5.1", text="x"), False, "5.0.0", id="malformed"),
        pytest.param(Reply(code=550, enhanced="5.1.1\r\nBcc: x@evil", text="x"), False, "5.0.0",
                     id="hostile-enhanced"),
        pytest.param(Reply(code=550, enhanced="5.1234.1", text="x"), False, "5.0.0",
                     id="too-many-digits"),
        pytest.param(Reply(code=0, text="local"), False, "5.0.0", id="no-code-failed"),
        pytest.param(Reply(code=0, text="local"), True, "4.0.0", id="no-code-delayed"),
    ],
)
def test_status(reply: Reply, delayed: bool, status: str) -> None:
    blocks = status_blocks(parse(dsn(failures=(fail(reply),), delayed=delayed)))
    assert blocks[1]["Status"] == status


def test_multiple_failures_skip_delivered() -> None:
    many = [fail(Reply(code=550, text=f"no {i}"), f"r{i}@x.example") for i in range(20)]
    msg = parse(dsn(failures=[*many[:10], DELIVERED, *many[10:]]))
    blocks = status_blocks(msg)
    assert [b["Final-Recipient"] for b in blocks[1:]] == [
        f"rfc822; r{i}@x.example" for i in range(20)
    ]
    text = parts(msg)[0].get_content()
    assert all(f"<r{i}@x.example>" in text for i in range(20))
    assert "dan@z.example" not in text


def test_human_part_names_recipients_replies_and_queue_id() -> None:
    text = parts(parse(dsn(failures=(BOB, CAROL))))[0].get_content()
    assert "<bob@x.example>: host mx.x.example said: 550 5.1.1 User unknown" in text
    assert "<carol@y.example>: reason: 554 Transaction failed" in text
    assert "4XyZ9" in text


def test_returned_headers_are_the_original_headers() -> None:
    returned = parts(parse(dsn()))[2]
    assert returned.get_payload(decode=True) == HEADERS
    assert returned["Content-Transfer-Encoding"] is None


# -- PHI and hostile input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(ORIGINAL, id="crlf"),
        pytest.param(ORIGINAL.replace(b"\r\n", b"\n"), id="lf-only"),
        pytest.param(HEADERS + b"\n" + SECRET.encode(), id="mixed"),
        pytest.param(header_block(ORIGINAL), id="header-block-only"),
    ],
)
def test_body_never_appears(original: bytes) -> None:
    for delayed in (False, True):
        raw = dsn(original=original, failures=(BOB, CAROL), delayed=delayed)
        assert raw is not None
        assert SECRET.encode() not in raw
        assert b"123-45-6789" not in raw
        assert b"more body" not in raw


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(fail(Reply(code=550, text="no such user\r\nBcc: x@evil")), id="crlf-text"),
        pytest.param(fail(Reply(code=550, text="no\nBcc: x@evil")), id="lf-text"),
        pytest.param(fail(Reply(code=550, text="no\rBcc: x@evil")), id="cr-text"),
        pytest.param(fail(Reply(code=550, text="no\r\n\r\nBcc: x@evil")), id="blank-line"),
        pytest.param(fail(Reply(code=550, enhanced="5.1.1\r\nBcc: x@evil", text="no")),
                     id="enhanced"),
        pytest.param(fail(Reply(code=550, text="no"), host="mx\r\nBcc: x@evil"), id="host"),
        pytest.param(fail(Reply(code=550, text="no"), recipient="b@x\r\nBcc: x@evil"),
                     id="recipient"),
        pytest.param(fail(Reply(code=550, text="no\x00\x1b[31m\u2028Bcc: x@evil")),
                     id="controls"),
    ],
)
def test_hostile_values_cannot_inject_headers(result: RecipientResult) -> None:
    raw = dsn(failures=(result,))
    msg = parse(raw)
    assert raw is not None
    assert msg["Bcc"] is None
    for part in parts(msg):
        assert part["Bcc"] is None
    for block in status_blocks(msg):
        assert block["Bcc"] is None
    lines = raw.split(b"\r\n")
    assert not any(line.lower().startswith(b"bcc:") for line in lines)
    assert not any(c in raw for c in (b"\x00", b"\x1b"))
    assert len(status_blocks(msg)) == 2


def test_long_reply_is_capped_and_folded() -> None:
    raw = dsn(failures=(fail(Reply(code=550, text="word " * 400 + "x" * 2000)),))
    msg = parse(raw)
    diagnostic = str(status_blocks(msg)[1]["Diagnostic-Code"])
    assert len(diagnostic) <= len("smtp; ") + MAX_FIELD_OCTETS
    assert raw is not None
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_returned_headers_are_capped_at_whole_fields() -> None:
    filler = b"".join(b"X-Filler-%05d: %s\r\n" % (i, b"a" * 100) for i in range(2000))
    returned = parts(parse(dsn(original=HEADERS + filler + b"\r\n" + SECRET.encode())))[2]
    payload = returned.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert len(payload) <= MAX_RETURNED_HEADER_OCTETS
    assert payload.startswith(HEADERS)
    assert payload.endswith(b"a" * 100 + b"\r\n")


def test_eight_bit_headers_are_declared() -> None:
    original = HEADERS.replace(b"Referral", "Überweisung".encode()) + b"\r\nbody"
    raw = dsn(original=original)
    msg = parse(raw)
    returned = parts(msg)[2]
    assert returned["Content-Transfer-Encoding"] == "8bit"
    assert "Überweisung".encode() in (returned.get_payload(decode=True) or b"")
    assert raw is not None
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()


def test_non_ascii_addresses_keep_report_seven_bit() -> None:
    envelope = Envelope(
        sender="jörg@klinik.example", recipients=("zoë@x.example",), client_ip="192.0.2.1",
        smtputf8=True,
    )
    raw = dsn(envelope=envelope, failures=(fail(Reply(code=550, text="no"), "zoë+a@x.example"),))
    msg = parse(raw)
    assert status_blocks(msg)[1]["Final-Recipient"] == "utf-8; zo\\x{EB}\\x{2B}a@x.example"
    text_part = parts(msg)[0]
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert "<zoë+a@x.example>" in text_part.get_content()
    assert raw is not None
    assert "To: <jörg@klinik.example>".encode() in raw


# -- variants ---------------------------------------------------------------------------------


def test_delayed_variant() -> None:
    temp = fail(Reply(code=451, enhanced="4.7.1", text="try later"), host="mx.x.example")
    msg = parse(dsn(failures=(temp,), delayed=True))
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert msg["Auto-Submitted"] == "auto-replied"
    block = status_blocks(msg)[1]
    assert block["Action"] == "delayed"
    assert block["Status"] == "4.7.1"
    assert "WARNING ONLY" in parts(msg)[0].get_content()


def test_same_inputs_same_bytes_and_distinct_message_ids() -> None:
    assert dsn() == dsn()
    assert parse(dsn())["Message-ID"] != parse(dsn(now=NOW + 1))["Message-ID"]
    assert parse(dsn())["Message-ID"] != parse(dsn(delayed=True))["Message-ID"]


@pytest.mark.parametrize("mta", ["", "   ", "bad host", "mx\r\nBcc: x@evil", "a" * 300])
def test_bad_reporting_mta_is_refused(mta: str) -> None:
    with pytest.raises(ValueError):
        build_dsn(
            original_headers=ORIGINAL,
            envelope=ENVELOPE,
            failures=(BOB,),
            queue_id="q",
            reporting_mta=mta,
            arrival_date=ARRIVAL,
            now=NOW,
        )


def test_returned_headers_keep_folding_and_drop_orphan_continuation() -> None:
    original = b" orphan\nSubject: a long\n\tfolded subject\nTo: b@x.example\n\nbody"
    returned = parts(parse(dsn(original=original)))[2]
    expected = b"Subject: a long\r\n\tfolded subject\r\nTo: b@x.example\r\n"
    assert returned.get_payload(decode=True) == expected


def test_long_non_ascii_recipient_is_capped_in_whole_escapes() -> None:
    result = fail(Reply(code=550, text="no"), recipient="ü" * 300 + "@x.example")
    raw = dsn(failures=(result,))
    final = str(status_blocks(parse(raw))[1]["Final-Recipient"])
    assert final.startswith("utf-8; \\x{FC}")
    assert final.endswith("}")
    assert len(final) <= MAX_FIELD_OCTETS


def test_a_protected_original_returns_only_identifying_fields() -> None:
    """Policy protected the message (TLS floor or portal): its Subject may carry PHI and the DSN
    travels with opportunistic TLS, so only what finds it in the sent folder comes back."""
    original = (
        b"From: Alice <alice@clinic.example>\r\n"
        b"To: Jane Patient <bob@x.example>\r\n"
        b"Subject: HIV results for Jane Patient\r\n"
        b"X-Patient: MRN 00123456\r\n"
        b"Message-ID: <m1@clinic.example>\r\n"
        b"Date: Mon, 13 Nov 2023 10:00:00 +0000\r\n"
        b"\r\nbody\r\n"
    )
    for delayed in (False, True):
        raw = dsn(original=original, withhold=True, delayed=delayed)
        assert raw is not None
        for value in (b"HIV", b"Jane Patient", b"00123456", b"X-Patient"):
            assert value not in raw
        returned = parts(parse(raw))[2].get_payload(decode=True)
        assert returned == (
            b"From: Alice <alice@clinic.example>\r\n"
            b"Message-ID: <m1@clinic.example>\r\n"
            b"Date: Mon, 13 Nov 2023 10:00:00 +0000\r\n"
        )
        assert b"subject and other" in raw  # the human part says why


def test_plan_protection_is_read_from_floors_portal_and_branches() -> None:
    opportunistic = RecipientPlan(recipient="a@x.example")
    assert not Plan(recipients=(opportunistic,)).protected
    assert RecipientPlan(recipient="a@x.example", tls_minimum=TlsLevel.ENCRYPTED).protected
    assert RecipientPlan(recipient="a@x.example", action=PlanAction.PORTAL).protected
    branch = TlsBranchPlan(
        condition=TlsCondition(at_least=TlsLevel.VERIFIED),
        rule="r",
        tls=TlsLevel.VERIFIED,
        tls_minimum=TlsLevel.VERIFIED,
        fallback=Fallback.DEFER,
    )
    assert Plan(recipients=(opportunistic, replace(opportunistic, branches=(branch,)))).protected
