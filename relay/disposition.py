"""From a policy decision to the copies the spool stores: pure, so it is table-tested.

One message can leave as several copies. Recipients whose decisions differ get a copy each
(headers edited as their decision says); a quarantined group is stored held for an admin; the
recipients a policy rejected while others were accepted are returned to the sender in a DSN
(headers only); ``bcc`` archive copies go once per message; ``notify_sender`` becomes a short
notice from the null sender. Everything here is data; the intake writes it in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from relay.delivery.dsn import build_dsn, header_block
from relay.message.rewrite import rewrite_headers
from relay.model import (
    TLS_RANK,
    Envelope,
    Fallback,
    Outcome,
    Plan,
    PlanAction,
    QueueState,
    RecipientPlan,
    RecipientResult,
    Rejection,
    Reply,
    TlsBranchPlan,
    TlsLevel,
)
from relay.policy.decision import Action, PolicyDecision, RecipientDecision


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy:
    """One message to spool: its envelope, plan, bytes and starting state."""

    envelope: Envelope
    plan: Plan
    data: bytes
    state: QueueState = QueueState.ACTIVE
    role: str = "message"
    """``message``, ``bcc``, ``dsn`` or ``notice``: for logs and the audit trail."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disposition:
    copies: tuple[Copy, ...]
    subject: str = ""
    """The decoded Subject, for the audit record of the accept (``audit.subjects`` decides
    whether it is kept, hashed or dropped); never logged."""
    monitor_hits: tuple[str, ...] = ()
    """``rule: would ...`` per ``mode: monitor`` rule that matched, for the audit record."""


def dispose(
    decision: PolicyDecision, envelope: Envelope, data: bytes, *, hostname: str, queue_id: str, now: float
) -> Disposition | Rejection:
    """The copies to store for ``decision``, or the in-session rejection."""
    if decision.rejection is not None:
        return decision.rejection
    copies: list[Copy] = []
    rejected: list[RecipientResult] = []
    for group in decision.groups:
        first = group.decision
        if first.action is Action.REJECT:
            rejection = first.rejection or Rejection(code=550, enhanced="5.7.1", text="refused by policy")
            reply = Reply(code=rejection.code, enhanced=rejection.enhanced, text=rejection.text)
            rejected += [
                RecipientResult(recipient=r, outcome=Outcome.PERMFAIL, reply=reply) for r in group.recipients
            ]
            continue
        plan = _plan(decision, [decision.for_recipient(r) for r in group.recipients])
        copies.append(
            Copy(
                envelope=_with_recipients(envelope, group.recipients),
                plan=plan,
                data=rewrite_headers(
                    data,
                    remove=first.remove_headers,
                    add=first.add_headers,
                    strip_subject_tags=first.strip_subject_tags,
                ),
                state=QueueState.QUARANTINED if first.action is Action.QUARANTINE else QueueState.ACTIVE,
            )
        )
    if not copies:
        # Every recipient refused (some only after a TLS branch the engine could not rule
        # out): refuse in-session rather than queue nothing.
        refusal = rejected[0].reply
        return Rejection(code=refusal.code, enhanced=refusal.enhanced, text=refusal.text)
    if decision.bcc:
        copies.append(_bcc_copy(decision, envelope, data, copies))
    if rejected:
        dsn = build_dsn(
            original_headers=header_block(data),
            envelope=envelope,
            failures=rejected,
            queue_id=queue_id,
            reporting_mta=hostname,
            arrival_date=now,
            now=now,
            withhold=any(copy.plan.protected for copy in copies),
        )
        if dsn is not None:
            copies.append(_from_null_sender(envelope, dsn, hostname, now, role="dsn"))
    notes = tuple(dict.fromkeys(note for d in decision.recipients for note in d.notify_sender))
    if notes and envelope.sender:
        notice = _notice(envelope, data, notes, hostname=hostname, queue_id=queue_id, now=now)
        copies.append(_from_null_sender(envelope, notice, hostname, now, role="notice"))
    return Disposition(copies=tuple(copies))


def _plan(decision: PolicyDecision, members: list[RecipientDecision]) -> Plan:
    return Plan(
        recipients=tuple(_recipient_plan(member) for member in members),
        policy_version=decision.policy_version,
        tags=tuple(dict.fromkeys(t for m in members for t in m.tags)),
        rules=tuple(dict.fromkeys(r for m in members for r in m.matched_rules)),
    )


def _recipient_plan(decision: RecipientDecision) -> RecipientPlan:
    """The delivery-time part of a decision, its ``recipient_tls`` branches included (the
    delivery side picks one when it knows the recipient server's TLS capability)."""
    return RecipientPlan(
        recipient=decision.recipient,
        tls=decision.tls,
        tls_minimum=decision.tls_minimum,
        fallback=decision.fallback,
        action=_plan_action(decision),
        pool=decision.pool,
        branches=tuple(
            TlsBranchPlan(
                condition=branch.condition,
                rule=branch.rule,
                tls=branch.decision.tls,
                tls_minimum=branch.decision.tls_minimum,
                fallback=branch.decision.fallback,
                action=_plan_action(branch.decision),
            )
            for branch in decision.branches
        ),
    )


def _plan_action(decision: RecipientDecision) -> PlanAction:
    return PlanAction.PORTAL if decision.action is Action.PORTAL else PlanAction.DELIVER


def _stricter(a: TlsLevel, b: TlsLevel) -> TlsLevel:
    return a if TLS_RANK.get(a, 0) >= TLS_RANK.get(b, 0) else b


def _with_recipients(envelope: Envelope, recipients: tuple[str, ...]) -> Envelope:
    return Envelope(
        sender=envelope.sender,
        recipients=recipients,
        client_ip=envelope.client_ip,
        helo=envelope.helo,
        auth_user=envelope.auth_user,
        received_at=envelope.received_at,
        smtputf8=envelope.smtputf8,
        body_8bit=envelope.body_8bit,
    )


def _bcc_copy(decision: PolicyDecision, envelope: Envelope, data: bytes, copies: list[Copy]) -> Copy:
    """The archive copy: the original message, as protected as the strictest copy of it.

    Every copy and every ``recipient_tls`` branch counts, a portal copy as needing ``verified``
    (the content was judged too sensitive for unverified TLS). ``dane`` and ``mta-sts`` become
    ``verified``: they are proofs about the recipient's domain, which the archive's is not."""
    levels = [
        level
        for copy in copies
        for entry in copy.plan.recipients
        for level in (_protection(entry), *map(_protection, entry.branches))
    ]
    minimum = TlsLevel.OPPORTUNISTIC
    for level in levels:
        minimum = _stricter(minimum, level)
    if TLS_RANK[minimum] > TLS_RANK[TlsLevel.VERIFIED]:
        minimum = TlsLevel.VERIFIED
    recipients = decision.bcc
    plan = Plan(
        recipients=tuple(
            RecipientPlan(recipient=r, tls=minimum, tls_minimum=minimum, fallback=Fallback.DEFER)
            for r in recipients
        ),
        policy_version=decision.policy_version,
        tags=decision.tags,
        rules=decision.matched_rules,
    )
    return Copy(envelope=_with_recipients(envelope, recipients), plan=plan, data=data, role="bcc")


def _protection(item: RecipientPlan | TlsBranchPlan) -> TlsLevel:
    if item.action is PlanAction.PORTAL or item.fallback is Fallback.PORTAL:
        return TlsLevel.VERIFIED
    return item.tls_minimum


def _from_null_sender(envelope: Envelope, data: bytes, hostname: str, now: float, *, role: str) -> Copy:
    notice_envelope = Envelope(
        sender="",
        recipients=(envelope.sender,),
        client_ip="127.0.0.1",
        helo=hostname,
        received_at=now,
        body_8bit=not data.isascii(),
        smtputf8=not envelope.sender.isascii(),
    )
    return Copy(envelope=notice_envelope, plan=Plan.opportunistic(notice_envelope), data=data, role=role)


def _notice(
    envelope: Envelope, data: bytes, notes: tuple[str, ...], *, hostname: str, queue_id: str, now: float
) -> bytes:
    """A notice to the sender about how the message was handled: the policy's notes and the
    message's identifiers, never its content (RFC 3834 auto-reply headers)."""
    notice = EmailMessage()
    notice["From"] = f"Mail Delivery System <MAILER-DAEMON@{hostname}>"
    notice["To"] = envelope.sender
    notice["Subject"] = "Notice about your message"
    notice["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    notice["Message-ID"] = make_msgid(domain=hostname)
    notice["Auto-Submitted"] = "auto-replied"
    recipients = ", ".join(envelope.recipients)
    lines = [f"Your message (queue ID {queue_id}) to {recipients} was handled as follows:", ""]
    lines += [f"  - {' '.join(note.split())}" for note in notes]
    notice.set_content("\n".join(lines) + "\n")
    return notice.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
