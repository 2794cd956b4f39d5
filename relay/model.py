"""Shared frozen types that cross module boundaries.

Everything here is plain data: the envelope a client gave us, the plan the pipeline decided,
the state of a spooled message and the outcome of a delivery attempt. Modules exchange these,
never dicts or bare tuples.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class TlsLevel(enum.Enum):
    """Transport protection toward the recipient's server, weakest first (see docs/tls.md)."""

    NONE = "none"
    OPPORTUNISTIC = "opportunistic"
    ENCRYPTED = "encrypted"
    VERIFIED = "verified"
    MTA_STS = "mta-sts"
    DANE = "dane"
    BEST = "best"


TLS_RANK: dict[TlsLevel, int] = {
    level: rank for rank, level in enumerate(TlsLevel) if level is not TlsLevel.BEST
}
"""Concrete TLS levels, weakest first (``best`` is a request, not a level a server has)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsCondition:
    """A requirement on the recipient server's TLS capability, checked at delivery time."""

    at_least: TlsLevel | None = None
    below: TlsLevel | None = None

    def holds(self, capability: TlsLevel) -> bool:
        rank = TLS_RANK.get(capability, 0)
        if self.at_least is not None and rank < TLS_RANK[self.at_least]:
            return False
        return self.below is None or rank < TLS_RANK[self.below]

    def __str__(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f"at least {self.at_least.value}")
        if self.below is not None:
            parts.append(f"below {self.below.value}")
        return "recipient TLS " + " and ".join(parts)


class Fallback(enum.Enum):
    """What happens when a recipient's required TLS level cannot be met."""

    PORTAL = "portal"
    DEFER = "defer"
    BOUNCE = "bounce"


class PlanAction(enum.Enum):
    """How one recipient's copy leaves: over SMTP, or through the encrypted pickup portal."""

    DELIVER = "deliver"
    PORTAL = "portal"


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
    """The level asked for; ``best`` means the strongest the recipient's server supports."""
    tls_minimum: TlsLevel = TlsLevel.OPPORTUNISTIC
    """The floor below which the copy never leaves over SMTP (equal to ``tls`` unless best)."""
    fallback: Fallback = Fallback.DEFER
    """What happens when ``tls_minimum`` cannot be met."""
    action: PlanAction = PlanAction.DELIVER
    pool: str | None = None
    branches: tuple[TlsBranchPlan, ...] = ()
    """Alternatives chosen at delivery by the recipient server's TLS capability (policy rules
    with ``recipient_tls``), first that holds wins; none holds: this plan stands."""

    @property
    def protected(self) -> bool:
        """Whether policy wants this copy protected in transit: a TLS floor above
        opportunistic, or the portal, in the plan or in any of its delivery-time branches."""
        return any(
            TLS_RANK[level] > TLS_RANK[TlsLevel.OPPORTUNISTIC] or action is PlanAction.PORTAL
            for level, action in [
                (self.tls_minimum, self.action),
                *((b.tls_minimum, b.action) for b in self.branches),
            ]
        )

    def resolve(self, capability: TlsLevel) -> tuple[RecipientPlan, str]:
        """The plan once the server's capability is known, and the rule that chose it ("" for
        this plan itself)."""
        for branch in self.branches:
            if branch.condition.holds(capability):
                return branch.plan(self.recipient, self.pool), branch.rule
        return replace(self, branches=()), ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsBranchPlan:
    """One delivery-time alternative of a ``RecipientPlan``: its condition and what it does.

    Only the delivery part of the rule's decision is kept (TLS level, minimum, fallback, portal);
    header edits were applied to the copy before queueing, from the decision that stood without
    the branch, since the message's bytes are fixed once it is spooled."""

    condition: TlsCondition
    rule: str
    tls: TlsLevel
    tls_minimum: TlsLevel
    fallback: Fallback
    action: PlanAction = PlanAction.DELIVER

    def plan(self, recipient: str, pool: str | None) -> RecipientPlan:
        return RecipientPlan(
            recipient=recipient,
            tls=self.tls,
            tls_minimum=self.tls_minimum,
            fallback=self.fallback,
            action=self.action,
            pool=pool,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The before-queue decision for a message, recorded with it in the spool."""

    recipients: tuple[RecipientPlan, ...]
    policy_version: str = "builtin"
    tags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    """The policy rules whose actions shaped this copy (for the audit trail and metrics)."""

    @classmethod
    def opportunistic(cls, envelope: Envelope) -> Plan:
        """The plan before any policy exists: deliver everything with opportunistic TLS."""
        return cls(recipients=tuple(RecipientPlan(recipient=r) for r in envelope.recipients))

    @property
    def protected(self) -> bool:
        return any(entry.protected for entry in self.recipients)

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
    tls: str = ""
    """For a delivery: the TLS level proven, protocol and cipher (``verified TLSv1.3 ...``), or
    ``none``; for the audit trail."""
    certificate: str = ""
    """For a delivery over TLS: the server's leaf certificate (subject, issuer, expiry,
    SHA-256); for the audit trail."""


def domain_of(address: str) -> str:
    """The domain part of an address, lower-cased (RFC 5321 section 2.4: domains are case-blind)."""
    return address.rpartition("@")[2].lower()


# -- what the before-queue pipeline learns about a message (issues 3 and 4) -------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A MIME part that is a file (or carries a file name)."""

    part: str
    """Position in the MIME tree, e.g. ``"2"`` or ``"2.1"`` (``"1"`` is the first part)."""
    filename: str
    extension: str
    """Lower-case, without the dot; ``""`` when there is none."""
    content_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TextSegment:
    """Text extracted from one place in a message, for PHI scanning (never logged)."""

    part: str
    """Where it came from: ``"header:subject"``, ``"1"``, ``"2.1"``, ``"3/report.csv"`` ..."""
    kind: str
    """``header``, ``body`` or ``attachment``."""
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unscannable:
    """A part whose content could not be read, with why (encrypted, limit hit, corrupt)."""

    part: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFacts:
    """What the MIME walk found: structure and headers, no body text."""

    subject: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    """(lower-case name, decoded value) in message order."""
    size: int = 0
    attachments: tuple[Attachment, ...] = ()
    unscannable: tuple[Unscannable, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One PHI identifier found: where and how sure, never the value."""

    entity_type: str
    score: float
    part: str
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingSummary:
    entity_type: str
    count: int
    max_score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiResult:
    contains_phi: bool = False
    phi_score: float = 0.0
    findings: tuple[Finding, ...] = ()
    summary: tuple[FindingSummary, ...] = ()
    health_context: bool = False
    unscannable: bool = False
    """Some content could not be scanned (see MessageFacts.unscannable); policies fail closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """Everything the policy engine may look at for one message."""

    envelope: Envelope
    message: MessageFacts
    phi: PhiResult = PhiResult()
