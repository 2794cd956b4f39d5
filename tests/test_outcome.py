"""What one delivery attempt means for a queued message (relay.delivery.outcome), table-driven."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from relay.delivery.outcome import administrative_bounce, after_attempt
from relay.model import (
    Envelope,
    Outcome,
    Plan,
    QueueState,
    RecipientResult,
    RecipientState,
    RecipientStatus,
    Reply,
    SpooledMessage,
)

T0 = 1_700_000_000.0
SCHEDULE = (60.0, 300.0, 900.0)
LIFETIME = 5 * 86400.0

A, B, C = "a@x.test", "b@x.test", "c@y.test"
OK = Reply(code=250, text="2.0.0 queued")
LATER = Reply(code=451, enhanced="4.3.0", text="try later")
UNKNOWN = Reply(code=550, enhanced="5.1.1", text="user unknown")

PENDING, DELIVERED, FAILED = RecipientState.PENDING, RecipientState.DELIVERED, RecipientState.FAILED


def message(
    *states: tuple[str, RecipientState],
    attempts: int = 0,
    created_at: float = T0,
    last_error: str = "",
    last_reply: str = "",
) -> SpooledMessage:
    addresses = tuple(address for address, _ in states)
    envelope = Envelope(sender="s@clinic.test", recipients=addresses, client_ip="127.0.0.1")
    return SpooledMessage(
        queue_id="Q1",
        envelope=envelope,
        plan=Plan.opportunistic(envelope),
        state=QueueState.ACTIVE,
        size=100,
        created_at=created_at,
        next_attempt_at=created_at,
        attempts=attempts,
        last_error=last_error,
        recipients=tuple(
            RecipientStatus(address=address, state=state, last_reply=last_reply if state is PENDING else "")
            for address, state in states
        ),
    )


def result(recipient: str, reply: Reply, host: str = "mx.x.test") -> RecipientResult:
    if reply.code < 400:
        outcome = Outcome.DELIVERED
    else:
        outcome = Outcome.PERMFAIL if reply.is_permanent else Outcome.TEMPFAIL
    return RecipientResult(recipient=recipient, outcome=outcome, reply=reply, remote_host=host)


@dataclass(frozen=True, kw_only=True)
class Case:
    message: SpooledMessage
    results: Sequence[RecipientResult]
    now: float = T0 + 1
    removed: bool
    delivered: tuple[str, ...] = ()
    bounced: tuple[str, ...] = ()
    deferred: tuple[str, ...] = ()
    states: dict[str, RecipientState] = field(default_factory=dict)
    """Recipient states stored for a message that stays queued."""
    next_attempt_at: float | None = None
    attempts: int | None = None
    last_error: str | None = None


CASES = [
    pytest.param(
        Case(message=message((A, PENDING), (B, PENDING)), results=[result(A, OK), result(B, OK)],
             removed=True, delivered=(A, B)),
        id="all-delivered-removed",
    ),
    pytest.param(
        Case(message=message((A, PENDING), (B, PENDING)), results=[result(A, OK), result(B, UNKNOWN)],
             removed=True, delivered=(A,), bounced=(B,)),
        id="delivered-and-permfail-removed-with-bounce",
    ),
    pytest.param(
        Case(message=message((A, PENDING), (B, PENDING)), results=[result(A, UNKNOWN), result(B, UNKNOWN)],
             removed=True, bounced=(A, B)),
        id="all-permfail",
    ),
    pytest.param(
        Case(message=message((A, PENDING), (B, PENDING), (C, PENDING)),
             results=[result(A, OK), result(B, UNKNOWN), result(C, LATER)],
             removed=False, delivered=(A,), bounced=(B,), deferred=(C,),
             states={A: DELIVERED, B: FAILED, C: PENDING},
             next_attempt_at=T0 + 1 + 60, attempts=1, last_error=str(LATER)),
        id="mixed-first-failure-uses-first-delay",
    ),
    pytest.param(
        Case(message=message((A, PENDING), attempts=1), results=[result(A, LATER)], now=T0 + 100,
             removed=False, deferred=(A,), states={A: PENDING},
             next_attempt_at=T0 + 100 + 300, attempts=2, last_error=str(LATER)),
        id="second-failure-uses-second-delay",
    ),
    pytest.param(
        Case(message=message((A, PENDING), attempts=9), results=[result(A, LATER)], now=T0 + 5000,
             removed=False, deferred=(A,), states={A: PENDING},
             next_attempt_at=T0 + 5000 + 900, attempts=10, last_error=str(LATER)),
        id="last-delay-repeats",
    ),
    pytest.param(
        Case(message=message((A, PENDING), attempts=3), results=[result(A, LATER)],
             now=T0 + LIFETIME - 10, removed=False, deferred=(A,), states={A: PENDING},
             next_attempt_at=T0 + LIFETIME, attempts=4, last_error=str(LATER)),
        id="retry-pulled-forward-to-expiry",
    ),
    pytest.param(
        Case(message=message((A, DELIVERED), (B, PENDING), attempts=1), results=[result(B, OK)],
             removed=True, delivered=(B,)),
        id="last-pending-delivered-removes",
    ),
    pytest.param(
        Case(message=message((A, FAILED), (B, PENDING), attempts=1), results=[result(B, LATER)],
             removed=False, deferred=(B,), states={A: FAILED, B: PENDING},
             next_attempt_at=T0 + 1 + 300, attempts=2, last_error=str(LATER)),
        id="earlier-failure-not-bounced-again",
    ),
    pytest.param(
        Case(message=message((A, PENDING), (B, PENDING), last_error="421 old"), results=[result(A, OK)],
             removed=False, delivered=(A,), states={A: DELIVERED, B: PENDING},
             next_attempt_at=T0 + 1 + 60, attempts=1, last_error="421 old"),
        id="recipient-without-result-stays-pending-keeps-last-error",
    ),
    pytest.param(
        Case(message=message((A, PENDING)), results=[result(A, LATER), result("stranger@z.test", OK)],
             removed=False, deferred=(A,), states={A: PENDING},
             next_attempt_at=T0 + 1 + 60, attempts=1, last_error=str(LATER)),
        id="result-for-unknown-recipient-ignored",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_after_attempt(case: Case) -> None:
    outcome = after_attempt(
        case.message, case.results, now=case.now, schedule=SCHEDULE, max_lifetime=LIFETIME
    )
    assert tuple(r.recipient for r in outcome.delivered) == case.delivered
    assert tuple(r.recipient for r in outcome.bounced) == case.bounced
    assert tuple(r.recipient for r in outcome.deferred) == case.deferred
    if case.removed:
        assert outcome.update is None
        return
    update = outcome.update
    assert update is not None
    assert update.queue_id == case.message.queue_id
    assert update.state is QueueState.DEFERRED
    assert {s.address: s.state for s in update.recipients} == case.states
    assert update.next_attempt_at == case.next_attempt_at
    assert update.attempts == case.attempts
    assert update.last_error == case.last_error


def test_attempt_records_reply_and_host_per_recipient() -> None:
    outcome = after_attempt(
        message((A, PENDING), (B, PENDING)),
        [result(A, UNKNOWN, host="mx1.x.test"), result(B, LATER, host="mx2.x.test")],
        now=T0 + 1, schedule=SCHEDULE, max_lifetime=LIFETIME,
    )
    assert outcome.update is not None
    stored = {s.address: s for s in outcome.update.recipients}
    assert (stored[A].last_reply, stored[A].remote_host) == (str(UNKNOWN), "mx1.x.test")
    assert (stored[B].last_reply, stored[B].remote_host) == (str(LATER), "mx2.x.test")
    assert outcome.bounced[0].reply == UNKNOWN


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        pytest.param(T0 + LIFETIME - 0.001, False, id="just-before-lifetime"),
        pytest.param(T0 + LIFETIME, True, id="at-lifetime"),
        pytest.param(T0 + LIFETIME + 3600, True, id="after-lifetime"),
    ],
)
def test_tempfail_at_the_end_of_the_lifetime_expires(now: float, expired: bool) -> None:
    outcome = after_attempt(
        message((A, PENDING), (B, PENDING), (C, PENDING), attempts=5),
        [result(A, OK), result(B, UNKNOWN), result(C, LATER, host="mx.y.test")],
        now=now, schedule=SCHEDULE, max_lifetime=LIFETIME,
    )
    assert [r.recipient for r in outcome.delivered] == [A]
    if not expired:
        assert outcome.update is not None
        assert [r.recipient for r in outcome.bounced] == [B]
        return
    assert outcome.update is None
    assert outcome.deferred == ()
    assert [r.recipient for r in outcome.bounced] == [B, C]
    gone = outcome.bounced[1]
    assert gone.outcome is Outcome.PERMFAIL
    assert gone.remote_host == "mx.y.test"
    assert gone.reply.enhanced == "4.4.7"  # RFC 3463: delivery time expired
    assert str(LATER) in gone.reply.text


def test_expiry_of_a_recipient_never_answered_says_so() -> None:
    # A pending recipient the attempt had no result for still expires with a readable reason.
    outcome = after_attempt(
        message((A, PENDING), (B, PENDING), attempts=2),
        [result(A, LATER)],
        now=T0 + LIFETIME, schedule=SCHEDULE, max_lifetime=LIFETIME,
    )
    assert outcome.update is None
    reasons = {r.recipient: r.reply for r in outcome.bounced}
    assert set(reasons) == {A, B}
    assert "no attempt succeeded" in reasons[B].text
    assert str(LATER) in reasons[A].text


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param(((A, PENDING), (B, PENDING)), (A, B), id="all-pending"),
        pytest.param(((A, DELIVERED), (B, PENDING), (C, FAILED)), (B,), id="only-pending"),
        pytest.param(((A, DELIVERED),), (), id="nothing-pending"),
    ],
)
def test_administrative_bounce(
    states: tuple[tuple[str, RecipientState], ...], expected: tuple[str, ...]
) -> None:
    bounced = administrative_bounce(message(*states), "bounced by the administrator")
    assert tuple(r.recipient for r in bounced) == expected
    for r in bounced:
        assert r.outcome is Outcome.PERMFAIL
        assert r.reply == Reply(code=550, enhanced="5.0.0", text="bounced by the administrator")
        assert r.remote_host == ""
