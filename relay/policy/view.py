"""What a condition looks at: one message's facts, prepared once, and one recipient.

Everything a rule compares is normalised here a single time per message (addresses, domains,
subject and header values lower-cased; the headers the policy names gathered by name), so that a
compiled condition is one attribute read and one set lookup or regex search. The stream and the
PHI summary by entity type are worked out here too; the client address is parsed only when the
policy has a ``client_ip`` condition.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

from relay.model import Facts, PhiResult, TlsLevel, domain_of
from relay.policy.decision import Stream
from relay.policy.patterns import Match

STREAM_HEADER = "x-relay-stream"
"""Set by the sending application to say which stream a message belongs to (stripped on the way out
by the baseline policy)."""
# RFC 2076 / RFC 3834 2: Precedence bulk|list|junk marks automated mass mail; RFC 2369 / RFC 8058
# List-Unsubscribe is only ever set on list and campaign mail.
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
STREAM_HEADERS = frozenset({STREAM_HEADER, "precedence", "list-unsubscribe"})


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamRules:
    """Sender patterns from the policy's ``streams:`` sections (None: none written)."""

    transactional: Match | None = None
    bulk: Match | None = None


def is_internal(domain: str, internal: frozenset[str]) -> bool:
    """``domain`` is one of ``internal`` or a subdomain of one."""
    if not internal or not domain:
        return False
    if domain in internal:
        return True
    dot = domain.find(".")
    while dot >= 0:
        if domain[dot + 1 :] in internal:
            return True
        dot = domain.find(".", dot + 1)
    return False


class MessageView:
    """One message as the conditions see it."""

    __slots__ = (
        "attachments",
        "auth_user",
        "client_ip",
        "facts",
        "headers",
        "ip",
        "phi",
        "phi_types",
        "recipient_count",
        "sender",
        "sender_domain",
        "sender_internal",
        "size",
        "stream",
        "stream_name",
        "stream_source",
        "subject",
    )

    def __init__(
        self,
        facts: Facts,
        *,
        header_names: frozenset[str],
        streams: StreamRules,
        internal_domains: frozenset[str],
        parse_ip: bool = True,
    ) -> None:
        envelope, message = facts.envelope, facts.message
        self.facts = facts
        self.sender = envelope.sender.lower()
        self.sender_domain = domain_of(self.sender) if "@" in self.sender else ""
        self.sender_internal = is_internal(self.sender_domain, internal_domains)
        self.recipient_count = len(envelope.recipients)
        self.auth_user = envelope.auth_user.lower() if envelope.auth_user else None
        self.client_ip = envelope.client_ip
        # (version, integer): IP conditions compare integers under masks. Only parsed when a rule
        # looks at it (an address costs more to parse than most rules cost to test).
        self.ip = _parse_ip(envelope.client_ip) if parse_ip else None
        self.subject = message.subject.lower()
        self.size = message.size
        self.attachments = message.attachments
        self.phi = facts.phi
        headers: dict[str, tuple[str, ...]] = {}
        for name, value in message.headers:
            if name in header_names:
                headers[name] = (*headers.get(name, ()), value.lower())
        self.headers = headers
        self.stream, self.stream_source = _classify(self, streams)
        self.stream_name = self.stream.value  # for index keys: a str hashes in C, an Enum in Python
        # Entity type -> (count, best score), from the summary or else from the findings.
        self.phi_types = _phi_types(facts.phi)


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(4 or 6, the address as an integer), or None when it is not an IP address."""
    text = text.strip("[]")
    for family, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text), "big")
        except OSError:
            continue
    return None


def _phi_types(phi: PhiResult) -> dict[str, tuple[int, float]]:
    types: dict[str, tuple[int, float]] = {}
    if phi.summary:
        for entry in phi.summary:
            count, best = types.get(entry.entity_type, (0, 0.0))
            types[entry.entity_type] = (count + entry.count, max(best, entry.max_score))
    else:
        for finding in phi.findings:
            count, best = types.get(finding.entity_type, (0, 0.0))
            types[finding.entity_type] = (count + 1, max(best, finding.score))
    return types


def _classify(view: MessageView, streams: StreamRules) -> tuple[Stream, str]:
    """Header, then the policy's sender lists, then list-mail headers, then transactional."""
    for value in view.headers.get(STREAM_HEADER, ()):
        word = value.strip()
        if word in ("bulk", "transactional"):
            return Stream(word), "header X-Relay-Stream"
    if streams.transactional is not None and streams.transactional(view.sender):
        return Stream.TRANSACTIONAL, "sender listed in streams.transactional"
    if streams.bulk is not None and streams.bulk(view.sender):
        return Stream.BULK, "sender listed in streams.bulk"
    if any(v.strip() in _BULK_PRECEDENCE for v in view.headers.get("precedence", ())):
        return Stream.BULK, "header Precedence"
    if "list-unsubscribe" in view.headers:
        return Stream.BULK, "header List-Unsubscribe"
    return Stream.TRANSACTIONAL, "default"


class RecipientView:
    """One envelope recipient as the conditions see it."""

    __slots__ = ("address", "domain", "internal", "local", "original", "tls")

    def __init__(
        self,
        address: str,
        *,
        internal_domains: frozenset[str],
        recipient_tls: Mapping[str, TlsLevel] | None,
    ) -> None:
        self.original = address
        self.address = address.lower()
        self.domain = domain_of(self.address)
        self.local = self.address.partition("@")[0]  # up to the first @ (see index._address_key)
        self.internal = is_internal(self.domain, internal_domains)
        # The recipient domain's TLS capability when known (at delivery time), else None.
        self.tls = recipient_tls.get(self.domain) if recipient_tls is not None else None
