"""Clients that talk SMTP to the relay under test.

``submit`` sends one message with smtplib and returns the queue ID from the relay's 250.
``RawSMTP`` is a plain socket that speaks SMTP line by line, for what smtplib will not send:
pipelined commands, malformed lines, bare CR or LF inside DATA, a client that vanishes.
"""

from __future__ import annotations

import re
import smtplib
import socket

from relayproc import RelaySetup

TIMEOUT = 10.0
"""Bound on every socket operation, so a relay that hangs fails the test instead of blocking it."""
SUBMIT_TIMEOUT = 30.0
_QUEUED = re.compile(rb"queued as ([0-9A-F]+)")


def queue_id_of(reply: bytes) -> str:
    """The queue ID in the relay's ``250 2.0.0 OK: queued as <id>`` (or fail the test)."""
    found = _QUEUED.search(reply)
    assert found is not None, reply
    return found.group(1).decode()


def submit(relay: RelaySetup, sender: str, recipients: list[str], data: bytes) -> str:
    """One message into the relay over SMTP; returns its queue ID from the 250 reply."""
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=SUBMIT_TIMEOUT) as client:
        client.ehlo("client.test")
        code, reply = client.mail(sender)
        assert code == 250, reply
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            assert code == 250, reply
        code, reply = client.data(data)
    assert code == 250, reply
    return queue_id_of(reply)


class RawSMTP:
    """A plain socket that speaks SMTP line by line; ``greeting`` is the server's first reply."""

    def __init__(self, port: int, *, source: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0))
        self._buffer = b""
        self.greeting = self.reply()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> str:
        """One whole reply; the lines of a multi-line reply are joined with LF."""
        lines: list[str] = []
        while True:
            while b"\r\n" not in self._buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError(f"connection closed after {lines!r}, unread {self._buffer!r}")
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def cmd(self, line: str | bytes) -> str:
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def wait_closed(self) -> bytes:
        """Read until the relay closes the connection; returns whatever came before the close."""
        data = self._buffer
        self._buffer = b""
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except ConnectionResetError:  # closed with bytes of ours unread: a RST, still a close
            pass
        return data

    def lines_until_closed(self) -> list[str]:
        """Every reply line until the relay closes the connection; then the socket is closed."""
        data = self.wait_closed()
        self.close()
        return data.decode("utf-8", "replace").split("\r\n")[:-1]
