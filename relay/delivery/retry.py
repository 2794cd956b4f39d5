"""When to try a deferred message again, and when to give up on it.

Pure: the caller passes the clock reading (``now``) and the message's own timestamps; nothing
here reads the time. RFC 5321 section 4.5.4.1 asks for retries spaced at least 30 minutes apart
and for giving up after 4-5 days; both are configuration (``delivery.retry_schedule`` and
``delivery.max_queue_lifetime``). Like Postfix's ``maximal_queue_lifetime``, a retry is never
scheduled after the expiry moment: the last attempt is pulled forward to happen right at it, and
a failure at or after that moment expires the message (its recipients are bounced).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryDecision:
    """What happens to a message after a failed attempt."""

    expired: bool
    """The message has outlived ``max_lifetime``: bounce what is still pending, do not retry."""
    next_attempt_at: float
    """When to try again (epoch seconds); equals ``now`` when expired (there is no next attempt)."""


def _check_schedule(schedule: Sequence[float]) -> None:
    if not schedule:
        raise ValueError("retry schedule must not be empty")
    for delay in schedule:
        if not math.isfinite(delay) or delay < 0:
            raise ValueError(f"retry delays must be finite and >= 0, got {delay!r}")


def next_attempt_delay(schedule: Sequence[float], failed_attempts: int) -> float:
    """The delay after the ``failed_attempts``-th failure (1-based); the last entry repeats.

    >>> next_attempt_delay((60.0, 300.0), 1), next_attempt_delay((60.0, 300.0), 7)
    (60.0, 300.0)
    """
    _check_schedule(schedule)
    if failed_attempts < 1:
        raise ValueError(f"failed_attempts is 1-based, got {failed_attempts}")
    return float(schedule[min(failed_attempts, len(schedule)) - 1])


def decide_after_failure(
    *,
    created_at: float,
    now: float,
    failed_attempts: int,
    schedule: Sequence[float],
    max_lifetime: float,
) -> RetryDecision:
    """Expire the message or schedule its next attempt, never later than its expiry moment.

    ``failed_attempts`` counts the attempt that just failed. The expiry moment is
    ``created_at + max_lifetime``; a failure at or after it expires the message.
    """
    if not math.isfinite(max_lifetime) or max_lifetime < 0:
        raise ValueError(f"max_lifetime must be finite and >= 0, got {max_lifetime!r}")
    delay = next_attempt_delay(schedule, failed_attempts)
    expires_at = created_at + max_lifetime
    if now - created_at >= max_lifetime:
        return RetryDecision(expired=True, next_attempt_at=now)
    return RetryDecision(expired=False, next_attempt_at=min(now + delay, expires_at))
