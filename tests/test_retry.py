"""Retry schedule and queue-lifetime expiry (relay.delivery.retry)."""

from __future__ import annotations

import pytest

from relay.config.schema import DeliveryConfig
from relay.delivery.retry import RetryDecision, decide_after_failure, next_attempt_delay

SCHEDULE = (60.0, 300.0, 900.0, 3600.0)
T0 = 1_700_000_000.0
DAY = 86400.0


@pytest.mark.parametrize(
    ("schedule", "failed", "expected"),
    [
        pytest.param(SCHEDULE, 1, 60.0, id="first-failure"),
        pytest.param(SCHEDULE, 2, 300.0, id="second-failure"),
        pytest.param(SCHEDULE, 4, 3600.0, id="last-entry"),
        pytest.param(SCHEDULE, 5, 3600.0, id="last-entry-repeats"),
        pytest.param(SCHEDULE, 1000, 3600.0, id="last-entry-repeats-forever"),
        pytest.param((120.0,), 1, 120.0, id="single-entry"),
        pytest.param((120.0,), 9, 120.0, id="single-entry-repeats"),
        pytest.param([0.0, 10.0], 1, 0.0, id="zero-delay-list"),
        pytest.param((1, 2), 2, 2.0, id="int-delays-become-float"),
    ],
)
def test_next_attempt_delay(schedule: tuple[float, ...], failed: int, expected: float) -> None:
    delay = next_attempt_delay(schedule, failed)
    assert delay == expected
    assert isinstance(delay, float)


@pytest.mark.parametrize(
    ("schedule", "failed"),
    [
        pytest.param(SCHEDULE, 0, id="zero-attempts"),
        pytest.param(SCHEDULE, -1, id="negative-attempts"),
        pytest.param((), 1, id="empty-schedule"),
        pytest.param((60.0, -1.0), 1, id="negative-delay"),
        pytest.param((float("nan"),), 1, id="nan-delay"),
        pytest.param((float("inf"),), 1, id="infinite-delay"),
    ],
)
def test_next_attempt_delay_rejects(schedule: tuple[float, ...], failed: int) -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(schedule, failed)


@pytest.mark.parametrize(
    ("now", "failed", "lifetime", "expected"),
    [
        pytest.param(T0, 1, 5 * DAY, RetryDecision(expired=False, next_attempt_at=T0 + 60),
                     id="first-failure-at-arrival"),
        pytest.param(T0 + 10, 2, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 + 310),
                     id="delay-counts-from-now"),
        pytest.param(T0 + DAY, 30, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 + DAY + 3600),
                     id="repeating-last-delay"),
        pytest.param(T0 + 5 * DAY - 600, 50, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 + 5 * DAY),
                     id="clamped-to-expiry"),
        pytest.param(T0 + 5 * DAY - 3600, 50, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 + 5 * DAY),
                     id="lands-exactly-on-expiry"),
        pytest.param(T0 + 5 * DAY - 0.5, 50, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 + 5 * DAY),
                     id="just-before-expiry"),
        pytest.param(T0 + 5 * DAY, 51, 5 * DAY,
                     RetryDecision(expired=True, next_attempt_at=T0 + 5 * DAY),
                     id="final-attempt-at-expiry-fails"),
        pytest.param(T0 + 6 * DAY, 60, 5 * DAY,
                     RetryDecision(expired=True, next_attempt_at=T0 + 6 * DAY),
                     id="long-past-expiry"),
        pytest.param(T0, 1, 0.0, RetryDecision(expired=True, next_attempt_at=T0),
                     id="zero-lifetime-expires-at-once"),
        pytest.param(T0, 1, 30.0, RetryDecision(expired=False, next_attempt_at=T0 + 30),
                     id="lifetime-shorter-than-first-delay"),
        pytest.param(T0 - 100, 1, 5 * DAY,
                     RetryDecision(expired=False, next_attempt_at=T0 - 40),
                     id="clock-stepped-back"),
    ],
)
def test_decide_after_failure(
    now: float, failed: int, lifetime: float, expected: RetryDecision
) -> None:
    decision = decide_after_failure(
        created_at=T0, now=now, failed_attempts=failed, schedule=SCHEDULE, max_lifetime=lifetime
    )
    assert decision == expected


@pytest.mark.parametrize(
    ("failed", "schedule", "lifetime"),
    [
        pytest.param(0, SCHEDULE, DAY, id="zero-attempts"),
        pytest.param(1, (), DAY, id="empty-schedule"),
        pytest.param(1, SCHEDULE, -1.0, id="negative-lifetime"),
        pytest.param(1, SCHEDULE, float("nan"), id="nan-lifetime"),
    ],
)
def test_decide_after_failure_rejects(
    failed: int, schedule: tuple[float, ...], lifetime: float
) -> None:
    with pytest.raises(ValueError):
        decide_after_failure(
            created_at=T0, now=T0, failed_attempts=failed, schedule=schedule, max_lifetime=lifetime
        )


def test_default_config_walk_ends_with_attempt_at_expiry() -> None:
    """Following the decisions from arrival ends with one attempt exactly at expiry, then expiry."""
    cfg = DeliveryConfig()
    now, failed, attempts_at = T0, 0, []
    while True:
        failed += 1
        decision = decide_after_failure(
            created_at=T0,
            now=now,
            failed_attempts=failed,
            schedule=cfg.retry_schedule,
            max_lifetime=cfg.max_queue_lifetime,
        )
        if decision.expired:
            break
        assert decision.next_attempt_at > now
        now = decision.next_attempt_at
        attempts_at.append(now)
    assert attempts_at[-1] == T0 + cfg.max_queue_lifetime
    assert now == T0 + cfg.max_queue_lifetime
    assert attempts_at[:4] == [T0 + 60, T0 + 360, T0 + 1260, T0 + 4860]


def test_decision_is_frozen() -> None:
    decision = RetryDecision(expired=False, next_attempt_at=T0)
    with pytest.raises(AttributeError):
        decision.expired = True  # type: ignore[misc]
