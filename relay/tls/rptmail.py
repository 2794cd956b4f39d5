"""TLS-RPT reports as mail (RFC 8460 section 5.3), and where a domain wants them (section 3).

Pure: ``report_addresses`` reads a domain's ``_smtp._tls`` TXT record and keeps its ``mailto:``
URIs; ``report_message`` builds the message for one aggregate report: ``multipart/report;
report-type="tlsrpt"`` with a short text part and the gzipped JSON as ``application/tlsrpt+gzip``,
with the ``TLS-Report-Domain`` and ``TLS-Report-Submitter`` header fields and the subject the RFC
prescribes. ``https:`` URIs (reports POSTed to a web service) are not supported and are named as
skipped by the caller. The message is not DKIM-signed here (section 5.3 asks for it): a site
that sends reports signs its outbound mail where it signs everything else.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import unquote

from relay.tls.report import report_filename

TLSRPT_VERSION = "v=TLSRPTv1"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportAddresses:
    """The ``rua`` of one TXT record: mail addresses to send to, and URIs left out (https)."""

    mailto: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def report_addresses(records: list[str]) -> ReportAddresses | None:
    """The first ``v=TLSRPTv1`` record of ``records`` (TXT strings joined), None when there is
    none. Fields are ``;``-separated ``key=value``; ``rua`` is a ``,``-separated URI list."""
    for record in records:
        fields = [field.strip() for field in record.split(";")]
        if not fields or fields[0].replace(" ", "") != TLSRPT_VERSION:
            continue
        values = dict(field.split("=", 1) for field in fields[1:] if "=" in field)
        mailto: list[str] = []
        skipped: list[str] = []
        for uri in (u.strip() for u in values.get("rua", "").split(",")):
            if uri.lower().startswith("mailto:"):
                address = unquote(uri[len("mailto:") :].split("?", 1)[0])
                if "@" in address:
                    mailto.append(address)
                    continue
            if uri:
                skipped.append(uri)
        return ReportAddresses(mailto=tuple(mailto), skipped=tuple(skipped))
    return None


def report_message(
    report: dict[str, Any], *, sender: str, recipients: tuple[str, ...], submitter: str, now: float
) -> bytes:
    """The RFC 8460 section 5.3 message for ``report`` (one policy domain's aggregate report)."""
    domain = report["policies"][0]["policy"]["policy-domain"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"Report Domain: {domain} Submitter: {submitter} Report-ID: <{report['report-id']}>"
    message["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    message["Message-ID"] = make_msgid(domain=submitter)
    message["TLS-Report-Domain"] = domain
    message["TLS-Report-Submitter"] = submitter
    message.set_content(
        f"This is an aggregate TLS report (RFC 8460) from {submitter} for {domain}, "
        f"{report['date-range']['start-datetime']} to {report['date-range']['end-datetime']}.\n"
    )
    body = gzip.compress(json.dumps(report, separators=(",", ":")).encode(), mtime=0)
    message.add_attachment(
        body,
        maintype="application",
        subtype="tlsrpt+gzip",
        filename=report_filename(report, sender=submitter) + ".gz",
    )
    message.replace_header("Content-Type", 'multipart/report; report-type="tlsrpt"')
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
