"""Shared frozen types that cross module boundaries.

Everything here is plain data: the envelope a client gave us, the plan the pipeline decided,
the state of a spooled message and the outcome of a delivery attempt. Modules exchange these,
never dicts or bare tuples.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TlsLevel(enum.Enum):
    """Transport protection toward the recipient's server, weakest first (see docs/tls.md)."""

    NONE = "none"
    OPPORTUNISTIC = "opportunistic"
    ENCRYPTED = "encrypted"
    VERIFIED = "verified"
    MTA_STS = "mta-sts"
    DANE = "dane"
    BEST = "best"


class Fallback(enum.Enum):
    """What happens when a recipient's required TLS level cannot be met."""

    PORTAL = "portal"
    DEFER = "defer"
    BOUNCE = "bounce"


class QueueState(enum.Enum):
    """Where a spooled message sits. Only ACTIVE and DEFERRED are ever scheduled."""

    ACTIVE = "active"
    DEFERRED = "deferred"
    HELD = "held"
    QUARANTINED = "quarantined"


class RecipientState(enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Outcome(enum.Enum):
    """The result of one delivery attempt for one recipient."""

    DELIVERED = "delivered"
    TEMPFAIL = "tempfail"
    PERMFAIL = "permfail"


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """What the client told us in the SMTP transaction (RFC 5321 section 3.3)."""

    sender: str
    """Reverse path; ``""`` is the null sender of bounces."""
    recipients: tuple[str, ...]
    client_ip: str
    helo: str = ""
    auth_user: str | None = None
    received_at: float = 0.0
    smtputf8: bool = False
    body_8bit: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientPlan:
    """How one recipient's copy must leave."""

    recipient: str
    tls: TlsLevel = TlsLevel.OPPORTUNISTIC
    fallback: Fallback = Fallback.DEFER


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The before-queue decision for a message, recorded with it in the spool."""

    recipients: tuple[RecipientPlan, ...]
    policy_version: str = "builtin"
    tags: tuple[str, ...] = ()

    @classmethod
    def opportunistic(cls, envelope: Envelope) -> Plan:
        """The plan before any policy exists: deliver everything with opportunistic TLS."""
        return cls(recipients=tuple(RecipientPlan(recipient=r) for r in envelope.recipients))

    def for_recipient(self, recipient: str) -> RecipientPlan:
        for entry in self.recipients:
            if entry.recipient == recipient:
                return entry
        return RecipientPlan(recipient=recipient)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """A refusal given in-session; nothing is stored."""

    code: int
    enhanced: str
    text: str

    def reply(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """An SMTP reply as received from a remote server (or synthesised for a local failure)."""

    code: int
    text: str
    enhanced: str = ""

    @property
    def is_permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.enhanced + ' ' if self.enhanced else ''}{self.text}".strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientStatus:
    """A recipient of a spooled message and what has happened to it so far."""

    address: str
    state: RecipientState = RecipientState.PENDING
    last_reply: str = ""
    remote_host: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpooledMessage:
    """A message as the spool holds it (without its bytes, which are loaded on demand)."""

    queue_id: str
    envelope: Envelope
    plan: Plan
    state: QueueState
    size: int
    created_at: float
    next_attempt_at: float
    attempts: int = 0
    last_error: str = ""
    recipients: tuple[RecipientStatus, ...] = field(default=())

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.recipients if r.state is RecipientState.PENDING)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientResult:
    """The outcome of one attempt for one recipient."""

    recipient: str
    outcome: Outcome
    reply: Reply
    remote_host: str = ""


def domain_of(address: str) -> str:
    """The domain part of an address, lower-cased (RFC 5321 section 2.4: domains are case-blind)."""
    return address.rpartition("@")[2].lower()
