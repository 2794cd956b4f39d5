"""What a connection must give before a copy is sent over it, and what happens when no hop can.

The TLS policy (relay/tls) decides per next hop what must be proven; ``TlsDemand`` is how the
SMTP client is told (the context to STARTTLS with, and whether TLS is required at all).
``requirement_unmet`` is the plan's fallback when no hop proved it: the copy never leaves in
the clear (fail closed).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from relay.delivery.outcome import same_result
from relay.model import Fallback, Outcome, PlanAction, RecipientPlan, RecipientResult, Reply, TlsLevel


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsDemand:
    level: TlsLevel
    """The level being enforced: none, opportunistic, encrypted or verified."""
    context: ssl.SSLContext | None
    """None: never STARTTLS (level none)."""
    required: bool
    """Without a successful handshake (and verification, if the context verifies), no message
    is sent to this hop."""


def requirement_unmet(
    recipients: Sequence[str],
    plan: RecipientPlan,
    reason: str,
    *,
    definite: bool,
    demanded: TlsLevel | None = None,
) -> list[RecipientResult]:
    """The plan's fallback when no hop could give the TLS demanded (or the copy is for the
    portal). ``definite``: every hop was reached and failed the requirement (a bounce is only
    ever for that; an unreachable hop might have met it, so that is a deferral). ``demanded``:
    the level the hops were held to when it is above the plan's minimum (the domain's own
    MTA-STS or DANE), so the reply names what was actually missing."""
    level = (demanded or plan.tls_minimum).value
    if plan.action is PlanAction.PORTAL or plan.fallback is Fallback.PORTAL:
        # The portal is not built yet: protected mail waits in the queue (never sent in clear).
        reply = Reply(
            code=451,
            enhanced="4.7.0",
            text=f"held for the secure pickup portal, not yet available ({reason})",
        )
        outcome = Outcome.TEMPFAIL
    elif plan.fallback is Fallback.BOUNCE and definite:
        reply = Reply(code=550, enhanced="5.7.10", text=f"TLS {level} required and not available: {reason}")
        outcome = Outcome.PERMFAIL
    else:
        reply = Reply(code=451, enhanced="4.7.10", text=f"TLS {level} required and not available: {reason}")
        outcome = Outcome.TEMPFAIL
    return same_result(recipients, outcome, reply)
