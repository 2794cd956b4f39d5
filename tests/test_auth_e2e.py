"""STARTTLS and SMTP AUTH on the real relay process, with smtplib and Debian's swaks.

The module's relay lets only 127.0.0.2 relay without AUTH; every client here connects from
127.0.0.1, so whatever reaches the sink got there because the client authenticated. AUTH is
offered only after STARTTLS (RFC 4954 section 4, RFC 3207); the certificate comes from a test CA
the clients trust.
"""

from __future__ import annotations

import base64
import re
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from certs import LocalCA
from relayproc import RelaySetup, queued_from, serving
from sink import Sink

PASSWORD = "s3cret"
TIMEOUT = 10.0


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def keywords(reply: bytes) -> list[str]:
    """EHLO keywords from smtplib's reply text (the first line is our name)."""
    return reply.decode().split("\n")[1:]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return LocalCA(tmp_path_factory.mktemp("ca"))


def tls_relay(directory: Path, ca: LocalCA, sink: Sink, **overrides: object) -> RelaySetup:
    leaf = ca.issue()
    return RelaySetup(
        directory,
        routes={"example.test": sink.address},
        relay_from=["127.0.0.2/32"],
        tls={"cert": str(leaf.chain), "key": str(leaf.key)},
        **overrides,
    )


@pytest.fixture(scope="module")
def relay_m(tmp_path_factory: pytest.TempPathFactory, ca: LocalCA, sink_m: Sink) -> Iterator[RelaySetup]:
    directory = tmp_path_factory.mktemp("auth")
    setup = tls_relay(directory, ca, sink_m, auth={"users_file": str(directory / "users")})
    added = setup.cli("user", "add", "alice", "--password-stdin", input=f"{PASSWORD}\n")
    assert "alice" in added.stdout
    [action] = [r for r in setup.audit_records() if r["kind"] == "admin_action"]
    assert action["details"] == {"action": "user_add", "user": "alice"}
    assert action["actor"].startswith("cli:")
    with serving(setup):
        yield setup
    log = setup.log()
    assert "Traceback" not in log
    assert "deprecated" not in log  # aiosmtpd's login_data warning, once per AUTH
    assert PASSWORD not in log and b64(f"\0alice\0{PASSWORD}") not in log


def starttls(relay: RelaySetup, ca: LocalCA) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=TIMEOUT, source_address=("127.0.0.1", 0))
    client.ehlo("client.example.org")
    code, _ = client.starttls(context=ca.client_context())
    assert code == 220
    client.ehlo("client.example.org")
    return client


# -- what is offered when ------------------------------------------------------------------------


def test_auth_is_offered_only_after_starttls(relay_m: RelaySetup, ca: LocalCA) -> None:
    with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
        code, before = client.ehlo("client.example.org")
        assert code == 250
        assert "STARTTLS" in keywords(before)
        assert not [k for k in keywords(before) if k.startswith("AUTH")]
        client.starttls(context=ca.client_context())
        code, after = client.ehlo("client.example.org")
        assert "STARTTLS" not in keywords(after)
        [auth] = [k for k in keywords(after) if k.startswith("AUTH")]
        assert sorted(auth.split()[1:]) == ["LOGIN", "PLAIN"]
        for keyword in ("8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"):
            assert keyword in keywords(after)


def test_certificate_verifies_against_the_test_ca(relay_m: RelaySetup, ca: LocalCA) -> None:
    with starttls(relay_m, ca) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
        client.ehlo("client.example.org")
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=LocalCA(Path(relay_m.directory) / "other-ca").client_context())
    relay_m.wait_for_log("event=tls_handshake_failed client=127.0.0.1")


def test_auth_before_starttls_is_refused_and_nothing_relays(relay_m: RelaySetup, sink_m: Sink) -> None:
    with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
        client.ehlo("client.example.org")
        code, text = client.docmd("AUTH", "PLAIN " + b64(f"\0alice\0{PASSWORD}"))
        assert (code, text[:6]) == (538, b"5.7.11")
        code, text = client.docmd("AUTH", "LOGIN")
        assert code == 538
        assert client.mail("plaintext@example.org")[0] == 250
        code, text = client.rcpt("plaintext@example.test")
        assert (code, text[:6]) == (554, b"5.7.1 ")
    assert queued_from(relay_m, "plaintext@example.org") == 0


def test_without_auth_tls_alone_does_not_allow_relaying(relay_m: RelaySetup, ca: LocalCA) -> None:
    with starttls(relay_m, ca) as client:
        client.mail("tls-only@example.org")
        code, text = client.rcpt("tls-only@example.test")
        assert (code, text[:6]) == (554, b"5.7.1 ")


# -- AUTH mechanisms -------------------------------------------------------------------------


def test_auth_plain_lets_an_outside_client_relay(relay_m: RelaySetup, ca: LocalCA, sink_m: Sink) -> None:
    with starttls(relay_m, ca) as client:
        code, text = client.login("alice", PASSWORD)  # smtplib picks PLAIN
        assert (code, text[:5]) == (235, b"2.7.0")
        client.sendmail("alice@example.org", ["plain@example.test"], b"Subject: plain\r\n\r\nvia PLAIN\r\n")
    [received] = sink_m.wait_delivered("plain@example.test")
    header = received.data.split(b"\r\n\r\n")[0]
    assert b" with ESMTPSA id " in header  # RFC 3848: ESMTP, TLS, authenticated
    assert re.search(r"event=message_queued .*from=<alice@example\.org>.* user=alice", relay_m.log())


@pytest.mark.parametrize("initial_response", [True, False], ids=["initial-response", "challenge"])
def test_auth_login(relay_m: RelaySetup, ca: LocalCA, sink_m: Sink, initial_response: bool) -> None:
    rcpt = f"login-{initial_response}@example.test"
    with starttls(relay_m, ca) as client:
        client.user, client.password = "alice", PASSWORD
        code, _ = client.auth("LOGIN", client.auth_login, initial_response_ok=initial_response)
        assert code == 235
        client.sendmail("alice@example.org", [rcpt], b"Subject: login\r\n\r\nvia LOGIN\r\n")
    sink_m.wait_delivered(rcpt)


def test_auth_plain_with_challenge(relay_m: RelaySetup, ca: LocalCA) -> None:
    with starttls(relay_m, ca) as client:
        code, challenge = client.docmd("AUTH", "PLAIN")
        assert (code, challenge) == (334, b"")
        assert client.docmd(b64(f"\0alice\0{PASSWORD}"))[0] == 235
        assert client.docmd("AUTH", "PLAIN " + b64(f"\0alice\0{PASSWORD}"))[0] == 503  # already


FAILURES = {
    "wrong-password": ("PLAIN " + b64("\0alice\0wrong"), 535, b"5.7.8"),
    "unknown-user": ("PLAIN " + b64(f"\0mallory\0{PASSWORD}"), 535, b"5.7.8"),
    "empty-password": ("PLAIN " + b64("\0alice\0"), 535, b"5.7.8"),
    "other-authzid-wrong-password": ("PLAIN " + b64("bob\0alice\0nope"), 535, b"5.7.8"),
    "no-separators": ("PLAIN " + b64("alice" + PASSWORD), 501, b"5.5.2"),
    "bad-base64": ("PLAIN !!!notbase64", 501, b"5.5.2"),
    "unknown-mechanism": ("CRAM-MD5", 504, b"5.5.4"),
    "no-mechanism": ("", 501, b"5.5.4"),
    "too-many-values": ("PLAIN a b", 501, b"5.5.4"),
}


@pytest.mark.parametrize("name", FAILURES)
def test_failed_auth_is_refused_and_does_not_relay(relay_m: RelaySetup, ca: LocalCA, name: str) -> None:
    argument, code, enhanced = FAILURES[name]
    with starttls(relay_m, ca) as client:
        reply = client.docmd("AUTH", argument) if argument else client.docmd("AUTH")
        assert (reply[0], reply[1][: len(enhanced)]) == (code, enhanced), reply
        client.mail(f"failed-{name}@example.org")
        assert client.rcpt(f"failed-{name}@example.test")[0] == 554
        # The session is still usable: the right password works after a wrong one.
        client.rset()
        assert client.login("alice", PASSWORD)[0] == 235


def test_auth_login_aborted_with_star(relay_m: RelaySetup, ca: LocalCA) -> None:
    with starttls(relay_m, ca) as client:
        assert client.docmd("AUTH", "LOGIN")[0] == 334
        assert client.docmd(b64("alice"))[0] == 334
        assert client.docmd("*")[0] == 501
        assert client.docmd("NOOP")[0] == 250


@pytest.mark.parametrize("length", [9_000, 100_000])
def test_overlong_auth_response_is_refused_cleanly(relay_m: RelaySetup, ca: LocalCA, length: int) -> None:
    """An AUTH answer longer than the reader's buffer: a clean 5xx, and none of it read as commands."""
    with starttls(relay_m, ca) as client:
        assert client.docmd("AUTH", "PLAIN")[0] == 334
        code, text = client.docmd("A" * length)
        assert 500 <= code < 600 and re.match(rb"5\.\d+\.\d+ ", text), (code, text)
        assert client.docmd("NOOP")[0] == 250
        assert client.login("alice", PASSWORD)[0] == 235
    assert "not recognized" not in relay_m.log()


# -- swaks, as an admin would test the relay -----------------------------------------------------


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_swaks_authenticates_and_relays(
    relay_m: RelaySetup, ca: LocalCA, sink_m: Sink, mechanism: str
) -> None:
    swaks = shutil.which("swaks")
    if swaks is None:
        pytest.skip("swaks is not installed (make test installs it)")
    rcpt = f"swaks-{mechanism.lower()}@example.test"
    result = subprocess.run(
        [
            swaks, "--server", f"127.0.0.1:{relay_m.smtp_port}", "--helo", "swaks.example.org",
            "--tls", "--tls-verify", "--tls-ca-path", str(ca.ca_cert),
            "--auth", mechanism, "--auth-user", "alice", "--auth-password", PASSWORD,
            "--from", "swaks@example.org", "--to", rcpt,
            "--header", f"Subject: swaks {mechanism}", "--body", "sent by swaks",
            "--timeout", "10",
        ],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"<~ +235 2\.7\.0", result.stdout), result.stdout
    [received] = sink_m.wait_delivered(rcpt)
    assert b"sent by swaks" in received.data
    assert received.sender == "swaks@example.org"


def test_swaks_with_wrong_password_fails(relay_m: RelaySetup, ca: LocalCA) -> None:
    swaks = shutil.which("swaks")
    if swaks is None:
        pytest.skip("swaks is not installed (make test installs it)")
    result = subprocess.run(
        [
            swaks, "--server", f"127.0.0.1:{relay_m.smtp_port}", "--tls",
            "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wrong",
            "--from", "swaks-bad@example.org", "--to", "swaks-bad@example.test", "--timeout", "10",
        ],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert "535 5.7.8" in result.stdout
    assert queued_from(relay_m, "swaks-bad@example.org") == 0


# -- TLS without AUTH, and connection accounting across STARTTLS ----------------------------------


@pytest.fixture(scope="module")
def tls_only(tmp_path_factory: pytest.TempPathFactory, ca: LocalCA, sink_m: Sink) -> Iterator[RelaySetup]:
    """TLS but no users file; two connections per client address."""
    setup = tls_relay(tmp_path_factory.mktemp("tls-only"), ca, sink_m, limits={"max_connections_per_ip": 2})
    with serving(setup):  # killed even when a check fails: no relay outlives its module
        yield setup
    assert "Traceback" not in setup.log()


def test_tls_without_users_file_offers_no_auth(tls_only: RelaySetup, ca: LocalCA) -> None:
    with starttls(tls_only, ca) as client:
        assert not [k for k in keywords(client.ehlo_resp or b"") if k.startswith("AUTH")]
        assert client.docmd("AUTH", "PLAIN " + b64(f"\0alice\0{PASSWORD}"))[0] == 504


def test_starttls_sessions_do_not_leak_connection_slots(tls_only: RelaySetup, ca: LocalCA) -> None:
    """With 2 connections allowed per address, any number of STARTTLS sessions in a row works."""
    for _ in range(4):
        client = smtplib.SMTP("127.0.0.1", tls_only.smtp_port, timeout=TIMEOUT)
        try:
            client.ehlo("client.example.org")
            assert client.starttls(context=ca.client_context())[0] == 220
            assert client.ehlo("client.example.org")[0] == 250
            assert client.docmd("QUIT")[0] == 221
            assert client.sock is not None and client.sock.recv(100) == b""
        finally:
            client.close()
