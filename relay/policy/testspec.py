"""The ``tests:`` section of a policy file: sample messages and the decisions they must get.

A test names a message (inline RFC 5322 text, or an ``.eml`` file relative to the policy file),
its envelope, optionally the PHI facts to assume (the scanner need not run where tests run) and
the TLS capability of recipient domains, and what it expects per recipient. Only the fields an
expectation lists are compared. Parsed at load with the rest of the file, run by
``relay policy check`` (see ``relay.policy.testing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from relay.model import TLS_RANK, Envelope, Fallback, FindingSummary, PhiResult, TlsLevel
from relay.policy.decision import Action
from relay.policy.nodes import Node, Reader, line_of
from relay.policy.phi import entity

TEST_KEYS = ("name", "message", "eml", "envelope", "phi", "recipient_tls", "expect")
ENVELOPE_KEYS = ("from", "to", "client_ip", "auth_user", "helo")
PHI_FACT_KEYS = ("contains_phi", "phi_score", "unscannable", "health_context", "findings")
FINDING_KEYS = ("type", "count", "score")
SET_FIELDS = ("rules", "tags", "bcc", "add_headers", "remove_headers", "strip_subject_tags", "monitor")
EXPECT_FIELDS = (
    "action",
    "tls",
    "minimum",
    "fallback",
    "reply",
    "pool",
    "decided_by",
    "notify_sender",
    *SET_FIELDS,
)
OTHERS = "*"
"""The expectation key for every recipient not named on its own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    recipient: str
    """Lower-case address, or ``*``."""
    line: int
    fields: tuple[tuple[str, object], ...]
    """(field, expected value): enums for action/tls/minimum/fallback, frozensets for lists."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyTest:
    name: str
    file: str
    line: int
    base: Path
    """Directory of the policy file (``eml`` paths are relative to it)."""
    envelope: Envelope
    expect: tuple[Expectation, ...]
    message: str | None = None
    eml: str | None = None
    phi: PhiResult | None = None
    recipient_tls: tuple[tuple[str, TlsLevel], ...] = ()


def parse_tests(
    reader: Reader, node: Node, key: str, *, base: Path, file: str, entities: frozenset[str]
) -> tuple[PolicyTest, ...]:
    items = reader.sequence(node, key, non_empty=False)
    return tuple(_test(reader, item, f"{key}[{i}]", base, file, entities) for i, item in enumerate(items))


def _test(
    reader: Reader, node: Node, key: str, base: Path, file: str, entities: frozenset[str]
) -> PolicyTest:
    entries = reader.mapping(node, key, TEST_KEYS, required=("name", "envelope", "expect"), what="a test")
    name = reader.string(entries["name"][1], f"{key}.name")
    sources = [s for s in ("message", "eml") if s in entries]
    if len(sources) != 1:
        reader.fail(node, key, "a test needs exactly one of message (inline text) or eml (a file path)")
    message = eml = None
    if "message" in entries:
        message = reader.string(entries["message"][1], f"{key}.message", what="the message as RFC 5322 text")
    else:
        eml = reader.string(entries["eml"][1], f"{key}.eml", what="a path to an .eml file")
    envelope = _envelope(reader, entries["envelope"][1], f"{key}.envelope")
    phi = _phi(reader, entries["phi"][1], f"{key}.phi", entities) if "phi" in entries else None
    tls: tuple[tuple[str, TlsLevel], ...] = ()
    if "recipient_tls" in entries:
        levels = [level.value for level in TLS_RANK]
        tls = tuple(
            (domain.lower(), TlsLevel(reader.choice(value, f"{key}.recipient_tls.{domain}", levels)))
            for domain, (_, value) in reader.pairs(entries["recipient_tls"][1], f"{key}.recipient_tls")
        )
    recipients = {r.lower() for r in envelope.recipients}
    expect = []
    for address, (key_node, value) in reader.pairs(entries["expect"][1], f"{key}.expect"):
        lower = address.lower()
        if lower != OTHERS and lower not in recipients:
            reader.fail(
                key_node,
                f"{key}.expect.{address}",
                f"{address} is not in envelope.to (use * for every other recipient)",
            )
        expect.append(
            Expectation(
                recipient=lower,
                line=line_of(key_node),
                fields=_fields(reader, value, f"{key}.expect.{address}"),
            )
        )
    if not expect:
        reader.fail(
            entries["expect"][1], f"{key}.expect", "expected at least one recipient's expected decision"
        )
    return PolicyTest(
        name=name,
        file=file,
        line=line_of(node),
        base=base,
        envelope=envelope,
        expect=tuple(expect),
        message=message,
        eml=eml,
        phi=phi,
        recipient_tls=tls,
    )


def _envelope(reader: Reader, node: Node, key: str) -> Envelope:
    entries = reader.mapping(node, key, ENVELOPE_KEYS, required=("from", "to"), what="an envelope {from, to}")
    sender = reader.string(entries["from"][1], f"{key}.from", what="an address, or <> for the null sender")
    to_node = entries["to"][1]
    recipients = tuple(
        reader.string(item, path, what="an address")
        for item, path in reader.one_or_list(to_node, f"{key}.to")
    )

    def optional(name: str) -> str | None:
        return reader.string(entries[name][1], f"{key}.{name}") if name in entries else None

    return Envelope(
        sender="" if sender == "<>" else sender,
        recipients=recipients,
        client_ip=optional("client_ip") or "127.0.0.1",
        helo=optional("helo") or "",
        auth_user=optional("auth_user"),
    )


def _phi(reader: Reader, node: Node, key: str, entities: frozenset[str]) -> PhiResult:
    entries = reader.mapping(node, key, PHI_FACT_KEYS, what="PHI facts such as {contains_phi: true}")
    summary = []
    if "findings" in entries:
        for i, item in enumerate(reader.sequence(entries["findings"][1], f"{key}.findings", non_empty=False)):
            path = f"{key}.findings[{i}]"
            found = reader.mapping(
                item, path, FINDING_KEYS, required=("type",), what="a finding {type, count, score}"
            )
            summary.append(
                FindingSummary(
                    entity_type=entity(reader, found["type"][1], f"{path}.type", entities),
                    count=reader.integer(found["count"][1], f"{path}.count", minimum=1)
                    if "count" in found
                    else 1,
                    max_score=reader.score(found["score"][1], f"{path}.score") if "score" in found else 1.0,
                )
            )

    def flag(name: str, default: bool) -> bool:
        return reader.boolean(entries[name][1], f"{key}.{name}") if name in entries else default

    best = max((s.max_score for s in summary), default=0.0)
    return PhiResult(
        contains_phi=flag("contains_phi", bool(summary)),
        phi_score=reader.score(entries["phi_score"][1], f"{key}.phi_score")
        if "phi_score" in entries
        else best,
        summary=tuple(summary),
        health_context=flag("health_context", False),
        unscannable=flag("unscannable", False),
    )


def _fields(reader: Reader, node: Node, key: str) -> tuple[tuple[str, object], ...]:
    """An expected decision: a mapping of fields, or just the action (``reject``)."""
    actions = [a.value for a in Action]
    if isinstance(node, yaml.ScalarNode):
        return (("action", Action(reader.choice(node, key, actions))),)
    entries = reader.mapping(
        node, key, EXPECT_FIELDS, what="an expected decision such as {action: deliver, tls: best}"
    )
    if not entries:
        reader.fail(node, key, f"expected at least one of {', '.join(EXPECT_FIELDS)}")
    fields: list[tuple[str, object]] = []
    for name, (_, value) in entries.items():
        path = f"{key}.{name}"
        expected: object
        if name == "action":
            expected = Action(reader.choice(value, path, actions))
        elif name in ("tls", "minimum"):
            expected = TlsLevel(reader.choice(value, path, [level.value for level in TlsLevel]))
        elif name == "fallback":
            expected = Fallback(reader.choice(value, path, [f.value for f in Fallback]))
        elif name == "notify_sender":
            expected = reader.boolean(value, path)
        elif name == "add_headers":
            expected = frozenset(
                (n.lower(), reader.string(v[1], f"{path}.{n}")) for n, v in reader.pairs(value, path)
            )
        elif name in SET_FIELDS:
            items = reader.sequence(value, path, non_empty=False)
            words = [reader.string(item, f"{path}[{i}]") for i, item in enumerate(items)]
            lower = name in ("bcc", "remove_headers")
            expected = frozenset(w.lower() if lower else w for w in words)
        else:  # reply, pool, decided_by
            expected = reader.string(value, path)
        fields.append((name, expected))
    return tuple(fields)
