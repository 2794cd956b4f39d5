"""``relay tls report --send``: the day's TLS-RPT reports mailed to each domain's ``rua``.

A real relay delivers one message to d.test (a static route to a sink), which records a TLS-RPT
result; the command then reads ``_smtp._tls.d.test`` from the test DNS server and submits the
report to the relay, which delivers it like any other mail. The mail is checked as a report
receiver would read it (RFC 8460 section 5.3).
"""

from __future__ import annotations

import email
import gzip
import json
from datetime import UTC, datetime
from email.message import Message

from dnsserver import DnsServer
from helpers import SENDER, message_bytes
from relayproc import RelaySetup
from sink import Sink
from smtpclient import submit

from relay.tls.rptmail import report_addresses


def _attachment(message: Message) -> tuple[str, bytes]:
    for part in message.walk():
        if part.get_content_type() == "application/tlsrpt+gzip":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return part.get_filename() or "", gzip.decompress(payload)
    raise AssertionError("no application/tlsrpt+gzip part")


def _days_with_results(relay: RelaySetup, domain: str) -> set[str]:
    """The days under which the relay filed TLS-RPT results for ``domain``. The test asks for
    that day's report: the clock read after the delivery can be a day later (around midnight)."""
    return {
        path.stem
        for path in relay.directory.glob("**/tls/reports/*.jsonl")
        for line in path.read_text().splitlines(keepends=True)
        if line.endswith("\n") and json.loads(line)["policy_domain"] == domain
    }


def test_the_days_report_reaches_the_domains_rua_through_the_relay(
    relay: RelaySetup, dns_server: DnsServer, sink: Sink
) -> None:
    dns_server.add("_smtp._tls.d.test.", "TXT", '"v=TLSRPTv1; rua=mailto:tls-reports@d.test,https://rpt.d.test/"')
    relay.configure(
        dns={"nameservers": [f"{dns_server.host}:{dns_server.port}"]},
        routes={"d.test": sink.address, "none.test": sink.address},
    )
    relay.start()
    before = datetime.now(UTC).date().isoformat()
    qid = submit(relay, SENDER, ["someone@d.test", "other@none.test"], message_bytes())
    relay.wait_for_log(f"event=removed qid={qid}")
    [today] = _days_with_results(relay, "d.test")
    assert today in (before, datetime.now(UTC).date().isoformat())  # the session's day, in UTC

    result = relay.cli("tls", "report", "--date", today, "--send")

    lines = result.stdout.splitlines()
    assert any(line.startswith("d.test: sent to tls-reports@d.test (") for line in lines), result.stdout
    assert "d.test: skipped https://rpt.d.test/ (only mailto: is supported)" in lines
    assert any(line.startswith("none.test: not sent (") for line in lines), result.stdout
    [report_mail] = sink.wait_delivered("tls-reports@d.test")
    assert report_mail.sender == "postmaster@relay.test"
    message = email.message_from_bytes(report_mail.data)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "tlsrpt"
    assert message["TLS-Report-Domain"] == "d.test"
    assert message["TLS-Report-Submitter"] == "relay.test"
    subject = " ".join(message["Subject"].split())  # unfolded
    assert subject.startswith("Report Domain: d.test Submitter: relay.test Report-ID: <")
    filename, body = _attachment(message)
    report = json.loads(body)
    assert filename.startswith("relay.test!d.test!") and filename.endswith(".json.gz")
    [policy] = report["policies"]
    assert policy["policy"]["policy-domain"] == "d.test"
    assert policy["summary"]["total-successful-session-count"] >= 1
    assert b"someone@d.test" not in report_mail.data  # reports carry no addresses of mail
    assert relay.stop() == 0


def test_without_a_running_relay_the_send_fails_clearly(relay: RelaySetup, dns_server: DnsServer) -> None:
    dns_server.add("_smtp._tls.d.test.", "TXT", '"v=TLSRPTv1; rua=mailto:tls-reports@d.test"')
    relay.configure(dns={"nameservers": [f"{dns_server.host}:{dns_server.port}"]})
    reports = relay.directory / "var" / "tls" / "reports"
    reports.mkdir(parents=True)
    day = "2026-11-20"
    stamp = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
    line = {"at": stamp, "policy_domain": "d.test", "policy_type": "no-policy-found", "success": True}
    (reports / f"{day}.jsonl").write_text(json.dumps(line) + "\n")
    result = relay.cli("tls", "report", "--date", day, "--send", check=False)
    assert result.returncode == 1
    assert "d.test: submission to the relay failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_rua_parsing() -> None:
    found = report_addresses(["v=spf1 -all", "v=TLSRPTv1;rua=mailto:a@x.test,mailto:b%40y.test?subject=x"])
    assert found is not None and found.mailto == ("a@x.test", "b@y.test")
    assert report_addresses(["v=TLSRPTv2; rua=mailto:a@x.test"]) is None
    bad = report_addresses(["v=TLSRPTv1; rua=mailto:nobody,ftp://x"])
    assert bad is not None and bad.mailto == () and bad.skipped == ("mailto:nobody", "ftp://x")
