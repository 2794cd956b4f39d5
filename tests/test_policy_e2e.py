"""The policy engine inside the running relay: what admins write is what the relay does.

Real relay process, real sinks, real TLS with a test CA. Covers: reject is a 5xx in-session,
quarantine lands in the quarantined queue and leaves only when released, internal headers and
subject tags are stripped, recipients with different decisions are split, a bcc copy arrives,
a broken policy edit keeps the old policy, and a copy that must travel over verified TLS never
reaches a server that cannot give it (not one byte of the body).
"""

from __future__ import annotations

import json
import smtplib
from pathlib import Path

import pytest
from certs import LocalCA
from helpers import wait_until
from relayproc import RelaySetup
from sink import Sink

POLICY = """\
rules:
  - name: strip-stream
    then: {remove_header: X-Relay-Stream}
  - name: strip-tags
    when: {subject: {contains: "[secure]"}}
    then: {strip_subject_tag: "[secure]"}
  - name: refuse-blocked
    when: {recipient: blocked@dest.test}
    then: {reject: {code: 550, enhanced: 5.7.1, text: Recipient blocked by policy}}
  - name: hold-for-review
    when: {recipient: review@dest.test}
    then: {quarantine: true}
  - name: archive-everything
    then: {bcc: archive@archive.test}
  - name: encrypt-tag
    when: {subject: {contains: "[encrypt]"}}
    then: {deliver: {tls: verified, fallback: defer}}
"""

SECRET = "BODY-MARKER-7731"


def message(subject: str) -> bytes:
    return (
        f"From: <doc@clinic.test>\r\nTo: <a@dest.test>\r\nSubject: {subject}\r\n"
        f"X-Relay-Stream: transactional\r\nMessage-ID: <{subject.split()[-1]}@clinic.test>\r\n\r\n"
        f"{SECRET}\r\n"
    ).encode()


def send(relay: RelaySetup, recipients: list[str], data: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=20) as client:
        return client.sendmail("doc@clinic.test", recipients, data)


@pytest.fixture
def archive() -> Sink:
    with Sink() as server:
        yield server


def configure(relay: RelaySetup, sink: Sink, archive: Sink, policy: str = POLICY) -> None:
    (relay.directory / "policies" / "10-test.yaml").write_text(policy)
    relay.configure(routes={"dest.test": sink.address, "archive.test": archive.address})


def test_reject_split_quarantine_bcc_and_header_edits(relay: RelaySetup, sink: Sink, archive: Sink) -> None:
    configure(relay, sink, archive)
    relay.start()
    # Every recipient refused: a 5xx in-session, nothing stored.
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay, ["blocked@dest.test"], message("plain one"))
    assert refused.value.smtp_code == 550
    assert b"5.7.1 Recipient blocked by policy" in refused.value.smtp_error

    # Three recipients, three decisions: delivered, quarantined, rejected (DSN to the sender).
    assert (
        send(relay, ["a@dest.test", "review@dest.test", "blocked@dest.test"], message("[secure] two")) == {}
    )
    wait_until(lambda: len(sink.messages) >= 1 and len(archive.messages) >= 1, 20, "delivery and archive")
    delivered = [m for m in sink.messages if "a@dest.test" in m.recipients]
    assert len(delivered) == 1
    assert delivered[0].recipients == ("a@dest.test",)  # split: the others are not in this copy
    headers = delivered[0].data.split(b"\r\n\r\n", 1)[0]
    assert b"X-Relay-Stream" not in headers
    assert b"Subject: two" in headers  # the [secure] tag is stripped
    [copy] = archive.messages
    assert copy.recipients == ("archive@archive.test",)

    queued = json.loads(relay.cli("queue", "list", "--json").stdout)
    held = [m for m in queued if m["state"] == "quarantined"]
    assert [r["address"] for r in held[0]["recipients"]] == ["review@dest.test"]
    # The DSN for the rejected recipient goes to the sender's domain, which has no route here:
    # it waits in the queue, addressed to the sender, from the null sender.
    dsn = [m for m in queued if m["sender"] == ""]
    assert [r["address"] for r in dsn[0]["recipients"]] == ["doc@clinic.test"]
    assert not any(m.recipients == ("review@dest.test",) for m in sink.messages)

    relay.cli("queue", "release", held[0]["queue_id"])
    wait_until(lambda: any(m.recipients == ("review@dest.test",) for m in sink.messages), 20, "the release")
    assert relay.stop() == 0


def test_broken_policy_edit_keeps_the_old_policy(relay: RelaySetup, sink: Sink, archive: Sink) -> None:
    configure(relay, sink, archive)
    relay.start()
    policy_file = relay.directory / "policies" / "10-test.yaml"
    policy_file.write_text(POLICY + "  - name: broken\n    when: {subjekt: x}\n    then: {reject: true}\n")
    relay.wait_for_log("event=policy_reload_failed", timeout=15)
    assert "10-test.yaml:" in relay.log().split("event=policy_reload_failed", 1)[1].split("\n", 1)[0]
    # The old rules still apply: blocked is still refused.
    with pytest.raises(smtplib.SMTPDataError):
        send(relay, ["blocked@dest.test"], message("plain three"))
    # A valid edit takes effect without a restart.
    policy_file.write_text(POLICY.replace("blocked@dest.test", "other@dest.test"))
    relay.wait_for_log("event=policy_reloaded", timeout=15)
    assert send(relay, ["blocked@dest.test"], message("plain four")) == {}
    wait_until(lambda: any(m.recipients == ("blocked@dest.test",) for m in sink.messages), 20, "delivery")
    assert relay.stop() == 0


def test_a_broken_policy_stops_the_relay_at_start_with_file_and_line(relay: RelaySetup) -> None:
    (relay.directory / "policies" / "10-test.yaml").write_text(
        "rules:\n  - name: x\n    when: {nope: 1}\n    then: {reject: true}\n"
    )
    result = relay.cli("serve", check=False)
    assert result.returncode == 2
    assert "10-test.yaml:3" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.mark.parametrize("server", ["no-starttls", "self-signed", "wrong-name", "expired"], ids=str)
def test_verified_tls_never_degrades(relay: RelaySetup, archive: Sink, ca: LocalCA, server: str) -> None:
    """A copy that needs verified TLS is deferred, and no byte of it reaches the server."""
    context = None
    if server == "self-signed":
        context = ca.issue("127.0.0.1", self_signed=True).server_context()
    elif server == "wrong-name":
        context = ca.issue("other.test").server_context()
    elif server == "expired":
        context = ca.issue("127.0.0.1", expired=True).server_context()
    with Sink(tls_context=context) as sink:
        configure(relay, sink, archive)
        relay.configure(outbound_tls={"ca_file": str(ca.ca_cert)})
        relay.start()
        assert send(relay, ["a@dest.test"], message("[encrypt] five")) == {}
        relay.wait_for_log("event=tls_unmet", timeout=20)
        relay.wait_for_log("event=deferred", timeout=20)
        assert sink.messages == []
        assert sink.data_started == 0
        assert relay.stop() == 0
    assert SECRET not in relay.log()


def test_verified_tls_delivers_when_the_certificate_checks_out(
    relay: RelaySetup, archive: Sink, ca: LocalCA
) -> None:
    with Sink(tls_context=ca.issue("127.0.0.1").server_context()) as sink:
        configure(relay, sink, archive)
        relay.configure(outbound_tls={"ca_file": str(ca.ca_cert)})
        relay.start()
        assert send(relay, ["a@dest.test"], message("[encrypt] six")) == {}
        [received] = sink.wait_for(1)
        assert received.tls
        assert relay.stop() == 0


@pytest.mark.parametrize("named", [False, True], ids=["route-host-only", "route-name-given"])
def test_a_route_by_address_is_verified_against_the_name_given_with_it(
    relay: RelaySetup, archive: Sink, ca: LocalCA, named: bool
) -> None:
    """A route to 127.0.0.1 whose server's certificate names mx.dest.test: verified TLS holds
    only when outbound_tls.route_names says that is the name to expect. Without it the route's
    host (an address the certificate does not name) is the name, and nothing is sent."""
    with Sink(tls_context=ca.issue("mx.dest.test").server_context()) as sink:
        configure(relay, sink, archive)
        names = {"route_names": {"dest.test": "mx.dest.test"}} if named else {}
        relay.configure(outbound_tls={"ca_file": str(ca.ca_cert), **names})
        relay.start()
        assert send(relay, ["a@dest.test"], message("[encrypt] seven")) == {}
        if named:
            [received] = sink.wait_for(1)
            assert received.tls
            relay.wait_for_log("event=delivered", timeout=20)
            assert "relay=mx.dest.test" in relay.log()
        else:
            relay.wait_for_log("event=tls_unmet", timeout=20)
            relay.wait_for_log("event=deferred", timeout=20)
            assert sink.data_started == 0
        assert relay.stop() == 0
