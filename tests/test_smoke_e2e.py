"""One message through the real relay process to a real sink."""

from __future__ import annotations

import smtplib

from relayproc import RelaySetup
from sink import Sink


def test_message_is_relayed_to_the_route(relay: RelaySetup, sink: Sink) -> None:
    relay.configure(routes={"example.test": sink.address})
    relay.start()
    with smtplib.SMTP("127.0.0.1", relay.smtp_port) as client:
        refused = client.sendmail("a@example.org", ["b@example.test"], b"Subject: hi\r\n\r\nhello\r\n")
    assert refused == {}
    [received] = sink.wait_for(1)
    assert received.recipients == ("b@example.test",)
    assert received.data.endswith(b"hello\r\n")
    assert received.data.startswith(b"Received: from ")
    assert relay.stop() == 0
