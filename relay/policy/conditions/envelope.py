"""Conditions on the envelope and the session: addresses, domains, AUTH, client IP, counts."""

from __future__ import annotations

from collections.abc import Callable

from relay.config import values
from relay.model import TLS_RANK, TlsCondition, TlsLevel
from relay.policy.conditions.base import (
    Cond,
    Context,
    count_range,
    patterns,
    text_condition,
)
from relay.policy.index import flag_guard, text_guard
from relay.policy.nodes import Node, Reader, line_of
from relay.policy.patterns import compile_parts, describe
from relay.policy.view import MessageView, RecipientView

RECIPIENT_TLS_KEYS = ("at_least", "below")


def sender(ctx: Context, node: Node, key: str) -> Cond:
    parts = patterns(
        ctx.reader, node, key, what="an address pattern, or <> for the null sender", null_sender=True
    )
    match = compile_parts(parts)
    return text_condition(
        "sender",
        node,
        key,
        parts,
        lambda m, r: match(m.sender),
        lambda m, r: f"sender <{m.facts.envelope.sender}>",
        per_recipient=False,
        guard=text_guard("sender", parts, address=True),
    )


def sender_domain(ctx: Context, node: Node, key: str) -> Cond:
    parts = patterns(ctx.reader, node, key, what="a domain pattern")
    match = compile_parts(parts)
    return text_condition(
        "sender_domain",
        node,
        key,
        parts,
        lambda m, r: match(m.sender_domain),
        lambda m, r: f"sender domain {m.sender_domain or '(none: null sender)'}",
        per_recipient=False,
        guard=text_guard("sender_domain", parts, address=False),
    )


def recipient(ctx: Context, node: Node, key: str) -> Cond:
    parts = patterns(ctx.reader, node, key, what="an address pattern")
    match = compile_parts(parts)
    return text_condition(
        "recipient",
        node,
        key,
        parts,
        lambda m, r: match(r.address),
        lambda m, r: f"recipient <{r.original}>",
        per_recipient=True,
        guard=text_guard("recipient", parts, address=True),
    )


def recipient_domain(ctx: Context, node: Node, key: str) -> Cond:
    parts = patterns(ctx.reader, node, key, what="a domain pattern")
    match = compile_parts(parts)
    return text_condition(
        "recipient_domain",
        node,
        key,
        parts,
        lambda m, r: match(r.domain),
        lambda m, r: f"recipient domain {r.domain}",
        per_recipient=True,
        guard=text_guard("recipient_domain", parts, address=False),
    )


def flag(
    name: str, per_recipient: bool, get: Callable[[MessageView, RecipientView], bool]
) -> Callable[..., Cond]:
    def compile_flag(ctx: Context, node: Node, key: str) -> Cond:
        wanted = ctx.reader.boolean(node, key)
        return Cond(
            key=name,
            path=key,
            line=line_of(node),
            expected=f"{name} is {str(wanted).lower()}",
            test=lambda m, r: get(m, r) is wanted,
            observe=lambda m, r: f"{name} is {str(get(m, r)).lower()}",
            per_recipient=per_recipient,
            guard=flag_guard(name, wanted),
        )

    return compile_flag


def authenticated(ctx: Context, node: Node, key: str) -> Cond:
    value = ctx.reader.scalar(node, key)

    def observe(m: MessageView, r: RecipientView) -> str:
        return f"authenticated as {m.facts.envelope.auth_user!r}" if m.auth_user else "not authenticated"

    if isinstance(value, bool):
        wanted = value
        return Cond(
            key="authenticated",
            path=key,
            line=line_of(node),
            expected="authenticated" if wanted else "not authenticated",
            test=lambda m, r: (m.auth_user is not None) is wanted,
            observe=observe,
            guard=flag_guard("authenticated", wanted),
        )
    parts = patterns(ctx.reader, node, key, what="true, false, or a user name pattern")
    match = compile_parts(parts)

    def test(m: MessageView, r: RecipientView) -> object:
        return m.auth_user is not None and match(m.auth_user)

    return Cond(
        key="authenticated",
        path=key,
        line=line_of(node),
        expected=f"authenticated user {describe(parts)}",
        test=test,
        observe=observe,
        guard=flag_guard("authenticated", True),
    )


def client_ip(ctx: Context, node: Node, key: str) -> Cond:
    networks = tuple(
        ctx.reader.convert(item, path, values.to_network) for item, path in ctx.reader.one_or_list(node, key)
    )

    # An address is in a network when its top prefixlen bits equal the network's: integers and
    # masks, compared without building ipaddress objects per message.
    spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for network in networks:
        spans[network.version].append((int(network.netmask), int(network.network_address)))
    v4, v6 = tuple(spans[4]), tuple(spans[6])

    def test(m: MessageView, r: RecipientView) -> bool:
        if m.ip is None:
            return False
        version, number = m.ip
        return any(number & mask == network for mask, network in (v4 if version == 4 else v6))

    return Cond(
        key="client_ip",
        path=key,
        line=line_of(node),
        expected=f"client_ip in {', '.join(str(n) for n in networks)}",
        test=test,
        observe=lambda m, r: f"client {m.client_ip}",
    )


def recipient_count(ctx: Context, node: Node, key: str) -> Cond:
    low, high, words = count_range(ctx.reader, node, key)
    top = high if high is not None else 1 << 63
    return Cond(
        key="recipient_count",
        path=key,
        line=line_of(node),
        expected=f"recipient_count {words}",
        test=lambda m, r: low <= m.recipient_count <= top,
        observe=lambda m, r: f"{m.recipient_count} recipient(s)",
    )


def recipient_tls(reader: Reader, node: Node, key: str) -> TlsCondition:
    levels = [level.value for level in TLS_RANK]
    entries = reader.mapping(node, key, RECIPIENT_TLS_KEYS, what="a mapping such as {at_least: verified}")
    if not entries:
        reader.fail(node, key, "expected at_least and/or below, such as {at_least: verified}")
    found = {
        name: TlsLevel(reader.choice(value, f"{key}.{name}", levels)) for name, (_, value) in entries.items()
    }
    condition = TlsCondition(at_least=found.get("at_least"), below=found.get("below"))
    if condition.at_least and condition.below and TLS_RANK[condition.below] <= TLS_RANK[condition.at_least]:
        reader.fail(
            node, key, f"no level is at least {condition.at_least.value} and below {condition.below.value}"
        )
    return condition
