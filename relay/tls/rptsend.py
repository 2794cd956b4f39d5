"""Mailing the day's TLS-RPT reports (``relay tls report --date D --send``), run from cron.

For each policy domain's report: the ``_smtp._tls.DOMAIN`` TXT record through the configured
resolver, then the report message (rptmail.py) submitted over SMTP to the relay's own listener,
so it is queued, logged, audited and delivered like any other mail (the host running the
command must be in ``relay_from``). Nothing is sent to a domain without a TLSRPT record.
"""

from __future__ import annotations

import time
from typing import Any

import aiosmtplib

from relay.config.schema import Config
from relay.tls.dnsquery import DnsClient, DnsKind
from relay.tls.rptmail import report_addresses, report_message
from relay.tls.settings import TlsOutboundConfig

SUBMIT_TIMEOUT = 30.0
_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "::1"}


async def send_reports(
    reports: tuple[dict[str, Any], ...], config: Config, settings: TlsOutboundConfig
) -> tuple[int, str]:
    """(exit status, one line per report); status 1 when any submission failed."""
    dns = DnsClient(config.dns)
    sender = settings.report_from or f"postmaster@{config.hostname}"
    submitter = settings.report_organization or config.hostname
    lines: list[str] = []
    failed = False
    for report in reports:
        domain = report["policies"][0]["policy"]["policy-domain"]
        answer = await dns.query(f"_smtp._tls.{domain}.", "TXT")
        texts = [b"".join(getattr(r, "strings", ())).decode("ascii", "replace") for r in answer.rdata]
        wanted = report_addresses(texts) if answer.kind is DnsKind.FOUND else None
        if wanted is None or not wanted.mailto:
            why = answer.detail if answer.failed else "no TLSRPT record with a mailto: rua"
            lines.append(f"{domain}: not sent ({why})")
            continue
        data = report_message(
            report, sender=sender, recipients=wanted.mailto, submitter=submitter, now=time.time()
        )
        try:
            queued = await _submit(config, sender, wanted.mailto, data)
        except (aiosmtplib.SMTPException, OSError) as exc:
            failed = True
            lines.append(f"{domain}: submission to the relay failed: {' '.join(str(exc).split())[:200]}")
            continue
        lines.append(f"{domain}: sent to {', '.join(wanted.mailto)} ({queued})")
        lines += [f"{domain}: skipped {uri} (only mailto: is supported)" for uri in wanted.skipped]
    if not reports:
        lines.append("no TLS sessions recorded that day: nothing to send")
    return (1 if failed else 0), "\n".join(lines)


async def _submit(config: Config, sender: str, recipients: tuple[str, ...], data: bytes) -> str:
    listen = config.listen.smtp
    host = _WILDCARD.get(listen.host, listen.host)
    client = aiosmtplib.SMTP(
        hostname=host,
        port=listen.port,
        local_hostname=config.hostname,
        timeout=SUBMIT_TIMEOUT,
        start_tls=False,
    )
    async with client as smtp:
        response = await smtp.sendmail(sender, list(recipients), data)
    return response[1]
