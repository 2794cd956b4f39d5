"""The aiosmtpd handler: who may relay, and what happens to a message after DATA.

aiosmtpd calls ``handle_<VERB>`` and sends back the reply string we return. The rules here are
the relay's: only authenticated users or clients in ``relay_from`` may relay (no open relay);
recipients are capped per message; after DATA the message goes through the pipeline and is
answered ``250`` only once the spool reports it durable.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Protocol

from relay.audit.events import MAX_DETAIL_CHARS, AuditEvent, AuditKind, DetailValue, Recorder
from relay.clock import Clock
from relay.config.schema import IPNetwork
from relay.disposition import Copy, Disposition
from relay.errors import PipelineError
from relay.ingress.server import AuthenticatedUser, RelaySMTP
from relay.metrics import Metrics, RejectReason
from relay.model import Envelope, QueueState, Rejection
from relay.pipeline import Pipeline
from relay.spool import NewMessage
from relay.spool.records import new_queue_id

log = logging.getLogger("relay.ingress")

MAX_RECEIVED_HEADERS = 50
"""Hop count limit against mail loops (Postfix hopcount_limit); 554 5.4.6 beyond it."""

_RECEIVED = re.compile(rb"^received:", re.IGNORECASE | re.MULTILINE)
_EXTRA_EHLO_KEYWORDS = ("PIPELINING", "ENHANCEDSTATUSCODES")


class Intake(Protocol):
    """Makes the copies of an accepted message durable (and hands them to delivery); returns
    when they are fsync'd."""

    async def accept(self, messages: Sequence[NewMessage]) -> None: ...


class IngressHandler:
    def __init__(
        self,
        *,
        audit: Recorder,
        metrics: Metrics,
        hostname: str,
        relay_from: Sequence[IPNetwork],
        max_recipients: int,
        pipeline: Pipeline,
        intake: Intake,
        clock: Clock,
    ) -> None:
        self._hostname = hostname
        self._relay_from = tuple(relay_from)
        self._max_recipients = max_recipients
        self._pipeline = pipeline
        self._intake = intake
        self._clock = clock
        self._audit = audit
        self._metrics = metrics

    async def handle_EHLO(
        self, server: RelaySMTP, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        keywords = [line[4:] for line in responses[1:-1] if line[4:].strip() != "AUTH"]
        keywords.extend(_EXTRA_EHLO_KEYWORDS)
        lines = [responses[0]] + [f"250-{k}" for k in keywords[:-1]]
        return [*lines, f"250 {keywords[-1]}"]

    async def handle_MAIL(
        self, server: RelaySMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: RelaySMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not self._may_relay(server.client_ip, session):
            log.warning("event=relay_denied qid=NOQUEUE client=%s rcpt=<%s>", server.client_ip, address)
            self._metrics.rejected(RejectReason.RELAY_DENIED, "5.7.1")
            return f"554 5.7.1 <{address}>: Relay access denied"
        if address in envelope.rcpt_tos:
            return "250 2.1.5 OK (duplicate recipient)"
        if len(envelope.rcpt_tos) >= self._max_recipients:
            self._metrics.rejected(RejectReason.TOO_MANY_RECIPIENTS, "4.5.3")
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: RelaySMTP, session: Any, envelope: Any) -> str:
        now = self._clock.now()
        queue_id = new_queue_id(now)
        auth = session.auth_data if isinstance(session.auth_data, AuthenticatedUser) else None
        smtp_envelope = Envelope(
            # aiosmtpd keeps the null reverse-path as "<>" (its RCPT check needs a truthy
            # value); everywhere else in the relay the null sender is "".
            sender="" if envelope.mail_from == "<>" else envelope.mail_from,
            recipients=tuple(envelope.rcpt_tos),
            client_ip=server.client_ip,
            helo=session.host_name or "",
            auth_user=auth.name if auth else None,
            received_at=now,
            smtputf8="SMTPUTF8" in (o.upper() for o in envelope.mail_options),
            body_8bit="BODY=8BITMIME" in (o.upper() for o in envelope.mail_options),
        )
        content: bytes = envelope.original_content
        if _hop_count(content) >= MAX_RECEIVED_HEADERS:
            log.warning("event=loop_detected qid=%s client=%s", queue_id, server.client_ip)
            self._metrics.rejected(RejectReason.LOOP, "5.4.6")
            return "554 5.4.6 Error: too many hops (mail loop?)"
        data = self._received_header(queue_id, smtp_envelope, session, now) + content
        try:
            outcome = await self._pipeline.process(queue_id, smtp_envelope, data, now=now)
        except PipelineError as exc:
            log.error("event=pipeline_failed qid=%s reason=%r", queue_id, str(exc))
            self._metrics.rejected(RejectReason.PIPELINE_ERROR, "4.3.0")
            return "451 4.3.0 Error: message could not be checked, try again later"
        if isinstance(outcome, Rejection):
            log.info(
                "event=message_rejected qid=%s client=%s code=%s",
                queue_id,
                server.client_ip,
                outcome.enhanced,
            )
            self._metrics.rejected(RejectReason.POLICY, outcome.enhanced)
            self._audit.record(
                AuditEvent(
                    kind=AuditKind.REJECTED,
                    actor="smtp",
                    queue_id=queue_id,
                    sender=smtp_envelope.sender,
                    recipients=smtp_envelope.recipients,
                    details={"code": outcome.code, "status": outcome.enhanced, "reason": "policy"},
                )
            )
            return outcome.reply()
        messages = _spool_messages(queue_id, outcome, now)
        try:
            await self._intake.accept(messages)
        except Exception as exc:
            log.error("event=spool_failed qid=%s reason=%r", queue_id, str(exc))
            self._metrics.rejected(RejectReason.SPOOL_ERROR, "4.3.0")
            return "451 4.3.0 Error: queue file write error, try again later"
        # The record of the accept is on disk before the 250, as the message is (docs/audit.md).
        await self._audit.persist(
            AuditEvent(
                kind=AuditKind.ACCEPTED,
                actor="smtp",
                queue_id=queue_id,
                sender=smtp_envelope.sender,
                recipients=smtp_envelope.recipients,
                subject=outcome.subject,
                details={
                    "size": len(data),
                    "client_ip": smtp_envelope.client_ip,
                    "auth_user": smtp_envelope.auth_user,
                    "copies": len(messages),
                    **_monitor_detail(outcome.monitor_hits),
                },
            ),
            *(_decision_event(queue_id, m, c) for m, c in zip(messages, outcome.copies, strict=True)),
        )
        log.info(
            "event=message_queued qid=%s from=<%s> nrcpt=%d size=%d client=%s user=%s",
            queue_id,
            smtp_envelope.sender,
            len(smtp_envelope.recipients),
            len(data),
            smtp_envelope.client_ip,
            smtp_envelope.auth_user or "-",
        )
        self._metrics.accepted(len(data), latency=self._clock.now() - now)
        for message, copy in zip(messages, outcome.copies, strict=True):
            log.info(
                "event=copy_queued qid=%s copy_qid=%s role=%s state=%s nrcpt=%d policy=%s rules=%s",
                queue_id,
                message.queue_id,
                copy.role,
                message.state.value,
                len(message.envelope.recipients),
                copy.plan.policy_version,
                ",".join(copy.plan.rules) or "-",
            )
        return f"250 2.0.0 OK: queued as {queue_id}"

    def _may_relay(self, client_ip: str, session: Any) -> bool:
        if session.authenticated:
            return True
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self._relay_from)

    def _received_header(self, queue_id: str, envelope: Envelope, session: Any, now: float) -> bytes:
        """RFC 5321 section 4.4 trace header; the protocol names follow RFC 3848."""
        protocol = "ESMTP" if session.extended_smtp else "SMTP"
        if session.ssl is not None:
            protocol += "S"
        if envelope.auth_user:
            protocol += "A"
        helo = _printable(envelope.helo) or "unknown"
        line = (
            f"Received: from {helo} ([{envelope.client_ip}])\r\n"
            f"\tby {self._hostname} (relay) with {protocol} id {queue_id}"
        )
        if len(envelope.recipients) == 1:
            line += f"\r\n\tfor <{_printable(envelope.recipients[0])}>"
        stamp = format_datetime(datetime.fromtimestamp(now, UTC))
        return f"{line}; {stamp}\r\n".encode("utf-8", "replace")


def _decision_event(queue_id: str, message: NewMessage, copy: Copy) -> AuditEvent:
    """What the policy decided for one copy: the rules, the TLS floor, where it went."""
    floors = sorted({entry.tls_minimum.value for entry in copy.plan.recipients})
    quarantined = message.state is QueueState.QUARANTINED
    return AuditEvent(
        kind=AuditKind.QUARANTINED if quarantined else AuditKind.DECISION,
        actor="policy",
        queue_id=message.queue_id,
        sender=message.envelope.sender,
        recipients=message.envelope.recipients,
        details={
            "message": queue_id,
            "role": copy.role,
            "policy": copy.plan.policy_version,
            "rules": ",".join(copy.plan.rules)[:500],
            "tags": ",".join(copy.plan.tags)[:500],
            "tls_minimum": ",".join(floors),
            "action": ",".join(sorted({e.action.value for e in copy.plan.recipients})),
        },
    )


def _spool_messages(queue_id: str, disposition: Disposition, now: float) -> list[NewMessage]:
    """One spool message per copy; the first keeps the queue ID the client is told."""
    return [
        NewMessage(
            queue_id=queue_id if index == 0 else new_queue_id(now),
            envelope=copy.envelope,
            plan=copy.plan,
            data=copy.data,
            state=copy.state,
        )
        for index, copy in enumerate(disposition.copies)
    ]


def _hop_count(content: bytes) -> int:
    end = content.find(b"\r\n\r\n")
    return len(_RECEIVED.findall(content if end < 0 else content[:end]))


def _printable(text: str) -> str:
    """Client-supplied text going into a header: no line breaks, no control characters."""
    return "".join(ch for ch in text if ch.isprintable())[:255]


def _monitor_detail(hits: tuple[str, ...]) -> dict[str, DetailValue]:
    """What ``mode: monitor`` rules would have done, for the accept record (none: no key)."""
    return {"monitor": "; ".join(hits)[:MAX_DETAIL_CHARS]} if hits else {}
