"""What TLS a copy demands of the next hop, from its plan: pure mapping plus shared contexts.

The plan says a level and a floor (``tls_minimum``). The floor is what is enforced: below it the
message never leaves over SMTP, whatever the hop offers (fail closed); the plan's fallback then
applies. ``best`` asks for more than the floor where the recipient proves more (DANE, MTA-STS);
until those checks are built into delivery, ``best`` is held to its floor, and a floor of
``mta-sts`` or ``dane`` cannot be proven, so it is never met (the fallback applies).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from relay.model import Fallback, Outcome, PlanAction, RecipientPlan, RecipientResult, Reply, TlsLevel

TLS_REQUIRED_MINIMUM = ssl.TLSVersion.TLSv1_2
"""When TLS is required, nothing older (RFC 8996 retired TLS 1.0 and 1.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsDemand:
    level: TlsLevel
    """The level being enforced: none, opportunistic, encrypted or verified."""
    context: ssl.SSLContext | None
    """None: never STARTTLS (level none)."""
    required: bool
    """Without a successful handshake (and verification, if the context verifies), no message
    is sent to this hop."""


def _unverified(minimum: ssl.TLSVersion | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        context.minimum_version = minimum
    return context


class Demands:
    """The contexts for each level, built once (loading the CA store is not free)."""

    def __init__(self, *, ca_file: Path | None = None) -> None:
        verified = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        verified.minimum_version = TLS_REQUIRED_MINIMUM
        self._by_level = {
            TlsLevel.NONE: TlsDemand(level=TlsLevel.NONE, context=None, required=False),
            TlsLevel.OPPORTUNISTIC: TlsDemand(
                level=TlsLevel.OPPORTUNISTIC, context=_unverified(None), required=False
            ),
            TlsLevel.ENCRYPTED: TlsDemand(
                level=TlsLevel.ENCRYPTED, context=_unverified(TLS_REQUIRED_MINIMUM), required=True
            ),
            TlsLevel.VERIFIED: TlsDemand(level=TlsLevel.VERIFIED, context=verified, required=True),
        }

    def at(self, level: TlsLevel) -> TlsDemand:
        return self._by_level[level]

    def for_plan(self, plan: RecipientPlan) -> TlsDemand | None:
        """The demand for a recipient's copy; None when its floor cannot be proven here."""
        if plan.action is PlanAction.PORTAL:
            return None
        floor = plan.tls_minimum
        if floor is TlsLevel.BEST:
            floor = TlsLevel.OPPORTUNISTIC
        return self._by_level.get(floor)


def requirement_unmet(
    recipients: Sequence[str], plan: RecipientPlan, reason: str, *, definite: bool
) -> list[RecipientResult]:
    """The plan's fallback when no hop could give the TLS demanded (or the copy is for the
    portal). ``definite``: every hop was reached and failed the requirement (a bounce is only
    ever for that; an unreachable hop might have met it, so that is a deferral)."""
    level = plan.tls_minimum.value
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
    return [RecipientResult(recipient=r, outcome=outcome, reply=reply) for r in recipients]
