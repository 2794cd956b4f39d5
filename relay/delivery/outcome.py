"""What an attempt means for the queued message: pure, so every branch is table-tested.

Given the message as spooled and the per-recipient results of one attempt, decide which
recipients are done, which wait for a retry and when, and which must be bounced (permanent
failure now, or still failing when the queue lifetime ran out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from relay.delivery.retry import decide_after_failure
from relay.model import (
    Outcome,
    QueueState,
    RecipientResult,
    RecipientState,
    RecipientStatus,
    Reply,
    SpooledMessage,
)
from relay.spool.store import AttemptUpdate

_STATE_OF = {
    Outcome.DELIVERED: RecipientState.DELIVERED,
    Outcome.PERMFAIL: RecipientState.FAILED,
    Outcome.TEMPFAIL: RecipientState.PENDING,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptOutcome:
    update: AttemptUpdate | None
    """How the message stays queued; None when no recipient is pending (remove it)."""
    bounced: tuple[RecipientResult, ...]
    """Recipients that failed for good in this attempt: the DSN lists them."""
    delivered: tuple[RecipientResult, ...]
    deferred: tuple[RecipientResult, ...]


def same_result(recipients: Iterable[str], outcome: Outcome, reply: Reply) -> list[RecipientResult]:
    """One result per recipient, all the same: a group that failed (or passed) as a whole."""
    return [RecipientResult(recipient=r, outcome=outcome, reply=reply) for r in recipients]


def after_attempt(
    message: SpooledMessage,
    results: Sequence[RecipientResult],
    *,
    now: float,
    schedule: Sequence[float],
    max_lifetime: float,
) -> AttemptOutcome:
    by_recipient = {result.recipient: result for result in results}
    statuses: list[RecipientStatus] = []
    for status in message.recipients:
        result = by_recipient.get(status.address)
        if result is None or status.state is not RecipientState.PENDING:
            statuses.append(status)
            continue
        statuses.append(
            replace(
                status,
                state=_STATE_OF[result.outcome],
                last_reply=str(result.reply),
                remote_host=result.remote_host,
            )
        )
    attempted = [r for r in results if r.recipient in {s.address for s in message.recipients}]
    delivered = tuple(r for r in attempted if r.outcome is Outcome.DELIVERED)
    bounced = [r for r in attempted if r.outcome is Outcome.PERMFAIL]
    deferred = [r for r in attempted if r.outcome is Outcome.TEMPFAIL]
    attempts = message.attempts + 1

    pending = [s for s in statuses if s.state is RecipientState.PENDING]
    if not pending:
        return AttemptOutcome(update=None, bounced=tuple(bounced), delivered=delivered, deferred=())

    retry = decide_after_failure(
        created_at=message.created_at,
        now=now,
        failed_attempts=attempts,
        schedule=schedule,
        max_lifetime=max_lifetime,
    )
    if retry.expired:
        # RFC 5321 4.5.4.1: give up after the queue lifetime; the DSN says why.
        for status in pending:
            last = status.last_reply or "no attempt succeeded"
            bounced.append(
                RecipientResult(
                    recipient=status.address,
                    outcome=Outcome.PERMFAIL,
                    reply=Reply(
                        code=450, enhanced="4.4.7", text=f"message expired in queue; last error: {last}"
                    ),
                    remote_host=status.remote_host,
                )
            )
        return AttemptOutcome(update=None, bounced=tuple(bounced), delivered=delivered, deferred=())

    last_error = deferred[-1].reply if deferred else None
    update = AttemptUpdate(
        queue_id=message.queue_id,
        recipients=tuple(statuses),
        state=QueueState.DEFERRED,
        next_attempt_at=retry.next_attempt_at,
        attempts=attempts,
        last_error=str(last_error) if last_error else message.last_error,
    )
    return AttemptOutcome(
        update=update, bounced=tuple(bounced), delivered=delivered, deferred=tuple(deferred)
    )


def administrative_bounce(message: SpooledMessage, reason: str) -> tuple[RecipientResult, ...]:
    """``relay queue bounce``: every pending recipient fails now with the admin's reason."""
    reply = Reply(code=550, enhanced="5.0.0", text=reason)
    return tuple(
        RecipientResult(recipient=address, outcome=Outcome.PERMFAIL, reply=reply)
        for address in message.pending
    )
