"""Label values: the closed sets, and the one place open values are bounded (pure).

Every label of every relay metric takes its value from here. Closed sets are enums; the few
open ones (admin-defined names: policy rules, egress pools; PHI entity types; recipient
domains) are checked against a shape and capped in number, and anything else becomes
``"other"``. An address can never become a label value: ``@`` is in none of the shapes, and
domains are labels only when an admin listed them. This is what keeps the series count of a
node bounded whatever its clients send (Prometheus docs, "Use labels": every label value is a
new time series).
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterable

from relay.config.schema import MAX_TOP_DOMAINS
from relay.model import Reply, TlsLevel

OTHER = "other"
"""What any value outside its label's bounds is counted as."""
DEFAULT_POOL = "default"
"""The pool label of a copy whose plan names no egress pool."""

MAX_NAMES_PER_LABEL = 200
"""Distinct admin-defined values (rule names, pools) one process gives one label before it
counts new ones as "other": a policy is a few dozen rules, but renames across hot reloads
accumulate for the life of the process."""
MAX_ENTITY_TYPES = 64
"""Presidio ships ~50 entity types and ours add a handful; more means a bug upstream."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
"""Rule and pool names: the policy language's own name syntax (relay/policy/rules.py)."""
_ENTITY = re.compile(r"[A-Z][A-Z0-9_]{0,47}\Z")
"""Presidio entity types: ``US_SSN``, ``MEDICAL_RECORD_NUMBER`` ..."""
_ENHANCED = re.compile(r"[45]\.\d{1,3}\.\d{1,3}\Z")
"""A failure's enhanced status code, RFC 3463 section 2: class (4 or 5).subject.detail."""
_LDH = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}\Z)(?:{_LDH}\.)*{_LDH}\Z")
"""A host name in the letter-digit-hyphen syntax (RFC 5321 section 4.1.2), lower-cased."""


class RejectReason(enum.Enum):
    """Why the relay refused a message or a recipient in the SMTP session."""

    POLICY = "policy"
    """A policy rule said reject."""
    RELAY_DENIED = "relay_denied"
    """RCPT from a client neither in relay_from nor authenticated (554 5.7.1)."""
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    SIZE = "size"
    """Over limits.max_message_size (552 5.3.4)."""
    BARE_NEWLINE = "bare_newline"
    """A bare CR or LF in DATA: SMTP smuggling guard (521 5.5.2)."""
    LINE_LENGTH = "line_length"
    """A line over limits.max_line_length (500 5.5.2, RFC 5322 section 2.1.1)."""
    LOOP = "loop"
    """Too many Received headers (554 5.4.6)."""
    TIMEOUT = "timeout"
    """The DATA phase ran over limits.data_timeout (421 4.4.2)."""
    PIPELINE_ERROR = "pipeline_error"
    """Extraction, PHI scan or policy failed or ran out of time (451 4.3.0)."""
    SPOOL_ERROR = "spool_error"
    """The message could not be made durable (451 4.3.0)."""
    CONNECTION_LIMIT = "connection_limit"
    """A connection over limits.max_connections_per_ip or the total (421 4.7.0): refused before
    any message, counted so a client hammering the relay shows on the dashboard."""


class DeliveryReason(enum.Enum):
    """Why a recipient's copy was deferred or bounced: the subject of its RFC 3463 code."""

    ADDRESS = "address"
    """X.1.x: bad destination mailbox or domain (including NXDOMAIN and null MX)."""
    MAILBOX = "mailbox"
    """X.2.x: the mailbox is full, disabled, ..."""
    MAIL_SYSTEM = "mail_system"
    """X.3.x: the receiving system is full or not accepting."""
    DNS = "dns"
    """X.4.3 and X.4.4: directory server failure, no route (MX hosts without address)."""
    NETWORK = "network"
    """Other X.4.x: no answer, connection lost, congestion."""
    EXPIRED = "expired"
    """X.4.7: still failing when the queue lifetime ran out (RFC 5321 section 4.5.4.1)."""
    PROTOCOL = "protocol"
    """X.5.x: the remote server did not like our SMTP."""
    CONTENT = "content"
    """X.6.x: the remote server refused the content."""
    TLS = "tls"
    """X.7.10: the TLS the plan requires could not be had (RFC 5248)."""
    SECURITY = "security"
    """Other X.7.x: refused by the remote server's policy or security checks."""
    ADMIN = "admin"
    """An admin bounced it (``relay queue bounce``)."""
    OTHER = "other"
    """A reply without an enhanced code, or a subject outside RFC 3463."""


class TlsMethod(enum.Enum):
    """How the session that carried a delivered copy was protected."""

    DANE = "dane"
    """TLS authenticated by DNSSEC-signed TLSA records (RFC 7672)."""
    MTA_STS = "mta-sts"
    """TLS with a PKIX-valid certificate, for an MX the domain's MTA-STS policy lists (RFC 8461)."""
    PKIX = "pkix"
    """TLS with a PKIX-valid certificate for the host name."""
    OPPORTUNISTIC = "opportunistic"
    """TLS, certificate not verified."""
    NONE = "none"
    """Cleartext."""


class PortalEvent(enum.Enum):
    """What happened in the encrypted pickup portal."""

    STORED = "stored"
    NOTIFIED = "notified"
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"
    REPLIED = "replied"
    VERIFICATION_FAILED = "verification_failed"
    EXPIRED = "expired"


class Component(enum.Enum):
    """The root of a background task that caught an unexpected exception (STYLE rule 6)."""

    INGRESS = "ingress"
    PIPELINE = "pipeline"
    SPOOL = "spool"
    DELIVERY = "delivery"
    RELOADER = "reloader"
    PORTAL = "portal"
    AUDIT = "audit"
    METRICS = "metrics"


class DomainOutcome(enum.Enum):
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"


class ReloadResult(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"


_BY_SUBJECT = {
    "1": DeliveryReason.ADDRESS,
    "2": DeliveryReason.MAILBOX,
    "3": DeliveryReason.MAIL_SYSTEM,
    "4": DeliveryReason.NETWORK,
    "5": DeliveryReason.PROTOCOL,
    "6": DeliveryReason.CONTENT,
    "7": DeliveryReason.SECURITY,
}
_BY_CODE = {
    "4.3": DeliveryReason.DNS,
    "4.4": DeliveryReason.DNS,
    "4.7": DeliveryReason.EXPIRED,
    "7.10": DeliveryReason.TLS,
}


def delivery_reason(reply: Reply) -> DeliveryReason:
    """Classify a failure reply by its enhanced code's subject (RFC 3463 section 3)."""
    if not _ENHANCED.match(reply.enhanced):
        return DeliveryReason.OTHER
    _, subject, detail = reply.enhanced.split(".")
    return _BY_CODE.get(f"{subject}.{detail}") or _BY_SUBJECT.get(subject, DeliveryReason.OTHER)


_METHOD_OF_LEVEL = {
    TlsLevel.DANE: TlsMethod.DANE,
    TlsLevel.MTA_STS: TlsMethod.MTA_STS,
    TlsLevel.VERIFIED: TlsMethod.PKIX,
}


def tls_method(enforced: TlsLevel, *, encrypted: bool) -> TlsMethod:
    """The method label for a delivered copy: the level enforced on its hop, and whether TLS ran."""
    if not encrypted:
        return TlsMethod.NONE
    return _METHOD_OF_LEVEL.get(enforced, TlsMethod.OPPORTUNISTIC)


def value_of(item: enum.Enum | str) -> str:
    """An enum's value, or the string itself (for enums of other modules, e.g. a rule's mode)."""
    return str(item.value) if isinstance(item, enum.Enum) else item


def enhanced_code(code: str) -> str:
    """A failure's enhanced status code as a label, or "other" when it is not one."""
    return code if _ENHANCED.match(code) else OTHER


class LabelBounds:
    """The open label values one process has handed out, capped per label (thread-safe)."""

    def __init__(self, *, top_domains: Iterable[str] = ()) -> None:
        domains = [d.strip().lower().rstrip(".") for d in top_domains]
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if bad:
            raise ValueError(f"not a domain name: {bad[0]!r}")
        if len(set(domains)) > MAX_TOP_DOMAINS:
            raise ValueError(f"at most {MAX_TOP_DOMAINS} top domains, got {len(set(domains))}")
        self.top_domains = frozenset(domains)
        self._lock = threading.Lock()
        self._seen: dict[str, set[str]] = {}

    def domain(self, domain: str) -> str:
        """A recipient domain if the admin listed it, else "other"."""
        name = domain.strip().lower().rstrip(".")
        return name if name in self.top_domains else OTHER

    def name(self, label: str, value: str) -> str:
        """An admin-defined name (rule, pool) of the policy's name syntax, capped in number."""
        return self._capped(label, value, _NAME, MAX_NAMES_PER_LABEL)

    def pool(self, pool: str | None) -> str:
        return DEFAULT_POOL if pool is None or pool == "" else self.name("pool", pool)

    def entity(self, entity_type: str) -> str:
        return self._capped("entity", entity_type, _ENTITY, MAX_ENTITY_TYPES)

    def _capped(self, label: str, value: str, shape: re.Pattern[str], cap: int) -> str:
        if not shape.match(value):
            return OTHER
        with self._lock:
            seen = self._seen.setdefault(label, set())
            if value in seen:
                return value
            if len(seen) >= cap:
                return OTHER
            seen.add(value)
            return value
