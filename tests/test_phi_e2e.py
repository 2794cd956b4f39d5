"""PHI detection inside the running relay, under the shipped HIPAA baseline policy.

A message carrying PHI must never leave in the clear: to a server without verified TLS it
waits for the portal (deferred), while PHI-free mail goes out. No PHI value ever appears in the
relay's log, audit log or spool metadata.
"""

from __future__ import annotations

import json
import shutil
import smtplib
import urllib.request
from pathlib import Path

from helpers import wait_until
from relayproc import RelaySetup
from sink import Sink

BASELINE = Path(__file__).parents[1] / "policies" / "00-hipaa-baseline.yaml"
SSN = "078-05-1120"
PHI_BODY = (
    f"Patient Maria Gonzalez (MRN 4410092, SSN {SSN}) was seen today for type 2 diabetes.\r\n"
    "Her HbA1c result is 8.1%; metformin dose increased.\r\n"
)


def test_phi_waits_for_the_portal_and_plain_mail_goes_out(relay: RelaySetup, sink: Sink) -> None:
    shutil.copy(BASELINE, relay.directory / "policies" / BASELINE.name)
    relay.configure(routes={"dest.test": sink.address}, phi={"enabled": True, "workers": 1})
    relay.start(timeout=120)
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=60) as client:
        client.sendmail(
            "doc@clinic.test", ["records@dest.test"], f"Subject: Visit\r\n\r\n{PHI_BODY}".encode()
        )
        client.sendmail(
            "doc@clinic.test",
            ["vendor@dest.test"],
            b"Subject: Paper order\r\n\r\nPlease send 20 boxes of paper.\r\n",
        )
    [plain] = sink.wait_for(1, timeout=60)
    assert plain.recipients == ("vendor@dest.test",)
    wait_until(lambda: "event=tls_unmet" in relay.log(), 30, "the PHI copy to be held back")
    queued = json.loads(relay.cli("queue", "list", "--json").stdout)
    [held] = [m for m in queued if m["recipients"][0]["address"] == "records@dest.test"]
    assert held["state"] == "deferred"
    assert "portal" in held["recipients"][0]["last_reply"]
    metrics_address = relay.settings["listen"]["metrics"]
    with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=10) as response:
        exposition = response.read().decode()
    assert "relay_phi_findings_total" in exposition
    assert relay.stop() == 0
    assert [m.recipients for m in sink.messages] == [("vendor@dest.test",)]
    for place in (relay.log(), exposition):
        assert SSN not in place
        assert "Gonzalez" not in place
    # Every file the relay wrote, except the queue, which must hold the waiting message.
    for path in relay.directory.rglob("*"):
        if path.is_file() and not path.name.startswith("queue.db"):
            content = path.read_bytes()
            assert SSN.encode() not in content, path
            assert b"Gonzalez" not in content, path


def test_no_phi_left_on_disk_after_delivery(relay: RelaySetup, sink: Sink) -> None:
    """Once delivered and the relay stopped cleanly, the body is nowhere under the relay's
    directories: not in the spool (secure_delete), the audit log, the logs or the metrics."""
    relay.configure(routes={"dest.test": sink.address})
    relay.start()
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=60) as client:
        client.sendmail(
            "doc@clinic.test", ["records@dest.test"], f"Subject: Visit\r\n\r\n{PHI_BODY}".encode()
        )
    sink.wait_for(1, timeout=60)
    wait_until(lambda: "event=removed" in relay.log(), 30, "the message to leave the queue")
    assert relay.stop() == 0
    for path in relay.directory.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"Gonzalez" not in content, path
            assert SSN.encode() not in content, path
