"""SMTP smuggling (2023): a DATA section must never turn into two messages.

Every vector from ``../shared/corpora/smtp/smuggling_vectors.json`` (and a few of our own) is
sent as the data of a transaction, followed by a smuggled MAIL FROM/RCPT TO/DATA for another
recipient and a real end-of-data. The relay must refuse a bare CR or LF with ``521 5.5.2`` and
drop the connection; anything else must stay one message, to the one recipient of the outer
transaction. The smuggled sender is never queued and the smuggled recipient never reached.
"""

from __future__ import annotations

import base64
import json
import re
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from relayproc import RelaySetup, queued_from, serving
from sink import Sink
from smtpclient import TIMEOUT, RawSMTP

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "smtp" / "smuggling_vectors.json"
BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")
"""A CR not followed by LF, or an LF not preceded by CR: what the relay must refuse."""


def _slug(escaped: str) -> str:
    names = {"\\r": "cr", "\\n": "lf", "\\x00": "nul", ".": "dot"}
    return "-".join(names[token] for token in re.findall(r"\\r|\\n|\\x00|\.", escaped))


def _corpus_vectors() -> dict[str, bytes]:
    vectors: dict[str, bytes] = {}
    for entry in json.loads(CORPUS.read_text())["vectors"]:
        raw = base64.b64decode(entry["b64"])
        assert raw == bytes.fromhex(entry["hex"]) and len(raw) == entry["len"]
        vectors[_slug(entry["escaped"])] = raw
    return vectors


CORPUS_VECTORS = _corpus_vectors()
OWN_VECTORS = {
    "own-lf-dot-lf": b"\n.\n",
    "own-lf-dot-crlf": b"\n.\r\n",
    "own-cr-dot-crlf": b"\r.\r\n",
    "own-crlf-dot-cr": b"\r\n.\r",
    "own-crlf-dot-lf": b"\r\n.\n",
    "own-bare-cr-mid-line": b" and a bare\rmid-line CR\r\n",
    "own-bare-lf-mid-line": b" and a bare\nmid-line LF\r\n",
    "own-cr-cr-lf-line-end": b"\r\r\n",
    "own-lf-lf": b"\n\n",
    "own-nul-around-dot": b"\x00\r\n\x00.\x00\r\n\x00",
    "own-nul-line": b"\r\n\x00\r\n",
    "own-dot-space": b"\r\n. \r\n",
    "own-dot-tab": b"\r\n.\t\r\n",
    "own-double-dot": b"\r\n..\r\n",
}
VECTORS = {f"corpus-{name}": raw for name, raw in CORPUS_VECTORS.items()} | OWN_VECTORS


def test_the_corpus_is_loaded_whole() -> None:
    assert len(json.loads(CORPUS.read_text())["vectors"]) == len(CORPUS_VECTORS) == 16
    for raw in CORPUS_VECTORS.values():
        assert b"\r\n.\r\n" not in raw, "a vector must not be a valid end-of-data"


def connect(port: int) -> RawSMTP:
    """A raw connection whose greeting was a 220."""
    client = RawSMTP(port)
    assert client.greeting.startswith("220 ")
    return client


@pytest.fixture(scope="module")
def relay_m(tmp_path_factory: pytest.TempPathFactory, sink_m: Sink) -> Iterator[RelaySetup]:
    setup = RelaySetup(tmp_path_factory.mktemp("smuggling"), routes={"example.test": sink_m.address})
    with serving(setup):
        yield setup
    assert "Traceback" not in setup.log()


def smuggle(relay: RelaySetup, tag: str, vector: bytes) -> tuple[bytes, list[str]]:
    """One transaction whose data carries ``vector`` and a smuggled second transaction.

    Everything after the 354 goes out in one write, as a smuggling client would send it.
    Returns the DATA payload and the reply lines that followed the 354.
    """
    conversation = connect(relay.smtp_port)
    assert conversation.cmd("EHLO smuggler.example.org").split("\n")[-1].startswith("250 ")
    assert conversation.cmd(f"MAIL FROM:<outer-{tag}@example.org>").startswith("250 ")
    assert conversation.cmd(f"RCPT TO:<outer-{tag}@example.test>").startswith("250 ")
    assert conversation.cmd("DATA").startswith("354 ")
    payload = (
        f"Subject: outer {tag}\r\n\r\nouter body".encode()
        + vector
        + f"MAIL FROM:<smuggler-{tag}@example.org>\r\n"
        f"RCPT TO:<victim-{tag}@example.test>\r\n"
        "DATA\r\n"
        f"Subject: smuggled {tag}\r\n\r\nsmuggled body\r\n".encode()
    )
    conversation.send(payload + b"\r\n.\r\nQUIT\r\n")
    return payload, conversation.lines_until_closed()


@pytest.mark.parametrize("name", VECTORS)
def test_vector_never_yields_a_second_message(relay_m: RelaySetup, sink_m: Sink, name: str) -> None:
    vector = VECTORS[name]
    log_before = len(relay_m.log())
    payload, replies = smuggle(relay_m, name, vector)
    session_log = relay_m.log()[log_before:]
    queued = [r for r in replies if r.startswith("250 2.0.0 OK: queued as ")]
    assert len(queued) <= 1, replies
    assert queued_from(relay_m, f"smuggler-{name}@example.org") == 0

    if BARE.search(payload):
        # Refused at once, and not one more byte of the connection was read as commands.
        assert replies == ["521 5.5.2 Error: bare <CR> or <LF> received"], replies
        assert session_log.count("event=bare_newline_refused qid=NOQUEUE") == 1
        # aiosmtpd logs (at warning) commands it could not use: none may have been read.
        assert "mail.log" not in session_log, session_log
        assert queued_from(relay_m, f"outer-{name}@example.org") == 0
        probe = f"probe-{name}@example.test"
        with smtplib.SMTP("127.0.0.1", relay_m.smtp_port, timeout=TIMEOUT) as client:
            client.sendmail("probe@example.org", [probe], b"Subject: probe\r\n\r\nprobe\r\n")
        sink_m.wait_delivered(probe)
        assert not [m for m in sink_m.messages if f"outer-{name}@example.test" in m.recipients]
    else:
        # Accepted as ONE message: the would-be commands are just text in its body.
        assert len(queued) == 1 and replies[1:] == ["221 2.0.0 Bye"], replies
        [received] = sink_m.wait_delivered(f"outer-{name}@example.test")
        assert received.recipients == (f"outer-{name}@example.test",)
        assert received.sender == f"outer-{name}@example.org"
        assert f"RCPT TO:<victim-{name}@example.test>".encode() in received.data
    assert not [m for m in sink_m.messages if f"victim-{name}@example.test" in m.recipients]


@pytest.mark.parametrize("piece", [1, 3, 16])
def test_bare_lf_split_across_segments_is_refused(relay_m: RelaySetup, piece: int) -> None:
    """The same vector trickled in small writes: the guard must not depend on packet borders."""
    conversation = connect(relay_m.smtp_port)
    conversation.cmd("EHLO smuggler.example.org")
    conversation.cmd(f"MAIL FROM:<split-{piece}@example.org>")
    conversation.cmd(f"RCPT TO:<split-{piece}@example.test>")
    assert conversation.cmd("DATA").startswith("354 ")
    data = b"Subject: split\r\n\r\nbody\r\n.\nMAIL FROM:<smuggler-split@example.org>\r\n.\r\n"
    try:
        for start in range(0, len(data), piece):
            conversation.send(data[start : start + piece])
    except (BrokenPipeError, ConnectionResetError):
        pass  # the relay may hang up before we are done: that is the point
    assert conversation.lines_until_closed() == ["521 5.5.2 Error: bare <CR> or <LF> received"]
    assert queued_from(relay_m, f"split-{piece}@example.org") == 0


def test_dot_stuffed_line_arrives_with_one_dot(relay_m: RelaySetup, sink_m: Sink) -> None:
    conversation = connect(relay_m.smtp_port)
    conversation.cmd("EHLO client.example.org")
    conversation.cmd("MAIL FROM:<dots@example.org>")
    conversation.cmd("RCPT TO:<dots@example.test>")
    assert conversation.cmd("DATA").startswith("354 ")
    conversation.send(b"Subject: dots\r\n\r\n..leading dot\r\n...\r\n.. \r\nend\r\n.\r\nQUIT\r\n")
    assert conversation.lines_until_closed()[0].startswith("250 2.0.0 OK: queued as ")
    [received] = sink_m.wait_delivered("dots@example.test")
    assert received.data.endswith(b"\r\n\r\n.leading dot\r\n..\r\n. \r\nend\r\n")
