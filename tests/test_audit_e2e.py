"""The audit trail of the running relay: every step of a message is recorded, verifiably,
and no message content (nor the subject, by default) ever lands in the log."""

from __future__ import annotations

import json
import smtplib

from helpers import wait_until
from relayproc import RelaySetup
from sink import Sink

SECRET_BODY = "SSN 078-05-1120 for patient Jane Roe"
SECRET_SUBJECT = "Lab results for Jane Roe"


def test_a_message_leaves_a_verifiable_trail_without_content(relay: RelaySetup, sink: Sink) -> None:
    key = relay.directory / "audit-signing.pem"
    relay.cli("audit", "keygen", str(key))
    relay.configure(
        routes={"dest.test": sink.address},
        audit={"signing_key": str(key), "seal_every_records": 5},
    )
    sink.script("rcpt", "gone@dest.test", "550 5.1.1 no such user")
    relay.start()
    data = f"Subject: {SECRET_SUBJECT}\r\nMessage-ID: <a1@clinic.test>\r\n\r\n{SECRET_BODY}\r\n".encode()
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=20) as client:
        client.sendmail("doc@clinic.test", ["pat@dest.test", "gone@dest.test"], data)
    sink.wait_for(1)
    wait_until(lambda: "event=bounced" in relay.log(), 20, "the bounce")
    assert relay.stop() == 0

    found = relay.cli("audit", "search", "--recipient", "pat@dest.test", "--json").stdout.splitlines()
    records = [json.loads(line) for line in found]
    assert [r["kind"] for r in records][:3] == ["accepted", "decision", "delivered"]
    delivered = records[2]["details"]
    assert delivered["remote_host"] and delivered["reply_code"] == 250
    assert delivered["tls"] == "none"  # the sink offers no STARTTLS: recorded as such
    bounced = relay.cli("audit", "search", "--recipient", "gone@dest.test", "--kind", "bounced", "--json")
    [record] = [json.loads(line) for line in bounced.stdout.splitlines()]
    assert record["details"]["reply_code"] == 550

    verified = relay.cli("audit", "verify", "--key", str(key.with_suffix(".pub")), check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit log OK" in verified.stdout

    for path in (relay.directory / "var" / "audit").iterdir():
        text = path.read_bytes()
        assert SECRET_BODY.encode() not in text
        assert SECRET_SUBJECT.encode() not in text
    assert SECRET_BODY not in relay.log()
    assert SECRET_SUBJECT not in relay.log()


def test_tampering_is_detected(relay: RelaySetup, sink: Sink) -> None:
    relay.configure(routes={"dest.test": sink.address})
    relay.start()
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=20) as client:
        client.sendmail("doc@clinic.test", ["pat@dest.test"], b"Subject: x\r\n\r\nhello\r\n")
    sink.wait_for(1)
    assert relay.stop() == 0
    [log_file] = sorted((relay.directory / "var" / "audit").glob("audit-*.jsonl"))
    lines = log_file.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"pat@dest.test", b"pat@else.test")
    log_file.write_bytes(b"".join(lines))
    result = relay.cli("audit", "verify", check=False)
    assert result.returncode == 1
    assert "TAMPERED" in result.stdout
    assert f"{log_file.name}:3" in result.stdout or "line 3" in result.stdout
