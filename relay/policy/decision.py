"""What the policy decided for one message: per recipient, grouped for splitting.

These are the engine's output types. A `PolicyDecision` holds one `RecipientDecision` per
envelope recipient (in envelope order), the groups of recipients whose copies are identical (so
the message can be split into one copy per group), the content hash of the policy files it was
decided under, and the in-session `Rejection` when every recipient is rejected.

A condition on the recipient's TLS capability cannot be decided before the message is queued;
such a rule becomes a `TlsBranch` of the decision: "if the recipient's server turns out to
support at least X, decide this instead". The delivery side calls `RecipientDecision.resolve`
with what it found.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from relay.model import Fallback, Rejection, TlsCondition, TlsLevel

T = TypeVar("T")


class Action(enum.Enum):
    """What happens to one recipient's copy; the outcome of the terminal rule."""

    DELIVER = "deliver"
    PORTAL = "portal"
    REJECT = "reject"
    QUARANTINE = "quarantine"


class Stream(enum.Enum):
    """Kind of mail: one-to-one business mail, or mass mail (newsletters, campaigns)."""

    TRANSACTIONAL = "transactional"
    BULK = "bulk"


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorHit:
    """A ``mode: monitor`` rule that matched: what it would have done (nothing was done)."""

    rule: str
    would: tuple[str, ...]
    if_recipient_tls: TlsCondition | None = None
    """Set when the rule also needs a TLS capability only known at delivery time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientDecision:
    recipient: str
    action: Action
    tls: TlsLevel = TlsLevel.OPPORTUNISTIC
    """The level asked for; ``best`` means the strongest the recipient's server supports."""
    tls_minimum: TlsLevel = TlsLevel.OPPORTUNISTIC
    """The floor: equal to ``tls`` unless ``tls`` is ``best``."""
    fallback: Fallback = Fallback.DEFER
    """When ``tls_minimum`` cannot be met."""
    rejection: Rejection | None = None
    """Set for REJECT: the reply (in-session when every recipient is rejected)."""
    pool: str | None = None
    add_headers: tuple[tuple[str, str], ...] = ()
    remove_headers: tuple[str, ...] = ()
    """Lower-case header names to remove before delivery."""
    strip_subject_tags: tuple[str, ...] = ()
    """Literal tags such as ``[secure]`` to remove from the Subject before delivery, ignoring
    case, with one space next to the tag (``Re: [SECURE] Results`` leaves as ``Re: Results``)."""
    bcc: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    notify_sender: tuple[str, ...] = ()
    """Notes for a notice to the sender; empty means no notice."""
    decided_by: str = "default"
    """The terminal rule that decided, or ``default``."""
    matched_rules: tuple[str, ...] = ()
    """Enforced rules whose actions were applied, in policy order."""
    monitor_hits: tuple[MonitorHit, ...] = ()
    branches: tuple[TlsBranch, ...] = ()
    """Alternatives that depend on the recipient's TLS capability, first match wins."""

    def delivery_key(self) -> tuple[object, ...]:
        """Everything that makes one recipient's copy differ from another's."""
        return (
            self.action,
            self.tls,
            self.tls_minimum,
            self.fallback,
            self.rejection,
            self.pool,
            self.add_headers,
            self.remove_headers,
            self.strip_subject_tags,
            tuple((b.condition, b.decision.delivery_key()) for b in self.branches),
        )

    def resolve(self, capability: TlsLevel) -> RecipientDecision:
        """The decision once the recipient server's TLS capability is known."""
        for branch in self.branches:
            if branch.condition.holds(capability):
                return branch.decision
        return replace(self, branches=()) if self.branches else self


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsBranch:
    condition: TlsCondition
    rule: str
    decision: RecipientDecision


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionGroup:
    """Recipients whose copies are identical; ``decision`` is the first one's."""

    recipients: tuple[str, ...]
    decision: RecipientDecision


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDecision:
    recipients: tuple[RecipientDecision, ...]
    groups: tuple[DecisionGroup, ...]
    policy_version: str
    stream: Stream
    rejection: Rejection | None = None
    """Set when every recipient is rejected: refuse the message in-session (first one's reply)."""

    def for_recipient(self, recipient: str) -> RecipientDecision:
        for decision in self.recipients:
            if decision.recipient == recipient:
                return decision
        raise KeyError(recipient)

    @property
    def tags(self) -> tuple[str, ...]:
        return _union(d.tags for d in self.recipients)

    @property
    def bcc(self) -> tuple[str, ...]:
        """Archive copies for the message (sent once each, whatever the split)."""
        return _union(d.bcc for d in self.recipients)

    @property
    def matched_rules(self) -> tuple[str, ...]:
        return _union(d.matched_rules for d in self.recipients)

    @property
    def monitor_hits(self) -> tuple[MonitorHit, ...]:
        return _union(d.monitor_hits for d in self.recipients)


def _union(groups: Iterable[tuple[T, ...]]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


def group(decisions: Sequence[RecipientDecision]) -> tuple[DecisionGroup, ...]:
    """Recipients with the same delivery key, in order of first appearance."""
    if len(decisions) == 1:  # most mail has one recipient; no key to build
        return (DecisionGroup(recipients=(decisions[0].recipient,), decision=decisions[0]),)
    groups: dict[tuple[object, ...], list[RecipientDecision]] = {}
    for decision in decisions:
        groups.setdefault(decision.delivery_key(), []).append(decision)
    return tuple(
        DecisionGroup(recipients=tuple(d.recipient for d in members), decision=members[0])
        for members in groups.values()
    )
