"""What can be audited: the closed set of event kinds and the event value callers hand over.

An event says who did what to which message, never what the message said. ``details`` holds a
few scalar facts (MX host, TLS version, reply code); it is bounded in count and length so that
message content cannot slip into the log by accident, and it cannot nest.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from relay.errors import AuditError

DetailValue = str | int | float | bool | None

MAX_DETAILS = 32
"""Entries in ``details``: an event carries a handful of facts, not a document."""
MAX_DETAIL_CHARS = 512
"""Characters per detail string: room for an SMTP reply line (RFC 5321 4.5.3.1.5: 512 octets)."""
MAX_RECIPIENTS = 10_000
"""Recipients per event; ingress allows ``limits.max_recipients`` (1000 by default) per message."""
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


class AuditKind(enum.Enum):
    """What happened. Values are what the log and ``relay audit search --kind`` use."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DECISION = "decision"
    DELIVERY_ATTEMPT = "delivery_attempt"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    QUARANTINED = "quarantined"
    RELEASED = "released"
    HELD = "held"
    DELETED = "deleted"
    ADMIN_ACTION = "admin_action"
    POLICY_RELOAD = "policy_reload"
    PORTAL_VIEW = "portal_view"
    PORTAL_DOWNLOAD = "portal_download"
    PORTAL_REPLY = "portal_reply"
    PORTAL_VERIFICATION_FAILED = "portal_verification_failed"
    # Written by the log itself, never by callers:
    FILE_START = "file_start"
    """First record of every file; names the file before it, so a missing file is noticed."""
    SEAL = "seal"
    """Ed25519 signature over the chain so far."""
    RECOVERED = "recovered"
    """The writer found damage it had to step over (a torn last line after a crash, a lost head)."""


INTERNAL_KINDS = frozenset({AuditKind.FILE_START, AuditKind.SEAL, AuditKind.RECOVERED})


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One thing that happened, before privacy rules are applied (see privacy.redact)."""

    kind: AuditKind
    actor: str
    """Who did it: ``smtp``, ``delivery``, ``portal``, ``cli:root``, ``policy``."""
    queue_id: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    subject: str | None = None
    """Kept, hashed or dropped (the default) according to ``audit.subjects``."""
    details: Mapping[str, DetailValue] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.kind in INTERNAL_KINDS:
            raise AuditError(f"audit: {self.kind.value} records are written by the log itself")
        if not self.actor:
            raise AuditError("audit: an event needs an actor")
        if len(self.recipients) > MAX_RECIPIENTS:
            raise AuditError(f"audit: more than {MAX_RECIPIENTS} recipients in one event")
        check_details(self.details)
        # A caller's dict must not change under a frozen event after the fact.
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        object.__setattr__(self, "recipients", tuple(self.recipients))


def check_details(details: Mapping[str, DetailValue]) -> None:
    """Refuse details that could carry content: too many, too long, nested or non-finite."""
    if len(details) > MAX_DETAILS:
        raise AuditError(f"audit: more than {MAX_DETAILS} details")
    for key, value in details.items():
        if not isinstance(key, str) or not _DETAIL_KEY.match(key):
            raise AuditError(f"audit: detail key {key!r} is not a lower-case identifier")
        if isinstance(value, str):
            if len(value) > MAX_DETAIL_CHARS:
                raise AuditError(f"audit: detail {key} is longer than {MAX_DETAIL_CHARS} characters")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise AuditError(f"audit: detail {key} is not a finite number")
        elif value is not None and not isinstance(value, int):
            raise AuditError(f"audit: detail {key} is a {type(value).__name__}, not a scalar")


class Recorder(Protocol):
    """Where the server's audit events go (the node's ``AuditTrail``): ``record`` never blocks;
    ``persist`` returns once the events are written, for what the server is about to act on."""

    def record(self, event: AuditEvent) -> None: ...

    async def persist(self, *events: AuditEvent) -> None: ...
