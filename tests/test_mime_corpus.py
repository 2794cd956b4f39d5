"""Every message of ``../shared/corpora/mime/`` through the real relay, untouched.

The corpus holds odd and broken messages from other projects' test suites (bad boundaries,
charsets and encodings, 8-bit headers, a 200 KB header). The relay must answer each with a clean
SMTP reply, never crash or hang, and deliver what it accepts byte for byte: the sink must see
exactly the message sent, after the one Received header the relay prepends. The files are
stored with LF line ends; they are sent with CRLF, as SMTP requires.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from relayproc import RelaySetup, serving
from sink import Sink

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "mime"
FILES = sorted(path.name for path in CORPUS.iterdir() if path.is_file())
TIMEOUT = 10.0
"""Per message: a relay that hangs on one fails that test, not the run."""
MAX_LINE = 998
RECEIVED = re.compile(
    rb"Received: from [^\r\n]+ \(\[127\.0\.0\.1\]\)\r\n"
    rb"\tby relay\.test \(relay\) with ESMTP id [0-9A-F]+\r\n"
    rb"\tfor <[^>\r\n]+>; [^\r\n]+\r\n"
)
"""The relay's own trace header (RFC 5321 4.4): the only bytes the sink may see in addition."""


def as_smtp(raw: bytes) -> bytes:
    """CRLF line ends, and a final CRLF (smtplib would add one to a message lacking it)."""
    message = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return message if message.endswith(b"\r\n") else message + b"\r\n"


def longest_line(message: bytes) -> int:
    return max(len(line) for line in message.split(b"\r\n"))


@pytest.fixture(scope="module")
def relay_m(tmp_path_factory: pytest.TempPathFactory, sink_m: Sink) -> Iterator[RelaySetup]:
    setup = RelaySetup(tmp_path_factory.mktemp("mime"), routes={"example.test": sink_m.address})
    with serving(setup):
        yield setup


def test_corpus_is_there() -> None:
    assert len(FILES) >= 100, f"expected the shared MIME corpus at {CORPUS}"


@pytest.mark.parametrize("name", FILES)
def test_message_is_relayed_byte_for_byte_or_cleanly_refused(
    relay_m: RelaySetup, sink_m: Sink, name: str
) -> None:
    message = as_smtp((CORPUS / name).read_bytes())
    rcpt = f"mime-{FILES.index(name)}@example.test"
    options = ["BODY=8BITMIME"] if any(byte > 127 for byte in message) else []
    try:
        with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
            client.sendmail("corpus@example.org", [rcpt], message, mail_options=options)
        reply: tuple[int, bytes] = (250, b"")
    except smtplib.SMTPResponseException as exc:
        reply = (exc.smtp_code, exc.smtp_error)

    assert relay_m.process is not None and relay_m.process.poll() is None, "the relay died"
    assert "Traceback" not in relay_m.log(), relay_m.log()[-4000:]
    if longest_line(message) > MAX_LINE:
        assert reply == (500, f"5.5.2 Error: line longer than {MAX_LINE} octets".encode()), reply
        return
    assert reply[0] == 250, reply
    [received] = sink_m.wait_delivered(rcpt)
    trace = RECEIVED.match(received.data)
    assert trace is not None, received.data[:300]
    assert received.data[trace.end() :] == message
