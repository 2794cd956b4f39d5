"""The ``when:`` half of a rule: condition YAML compiled into predicate closures.

A mapping of several conditions means all of them; ``all``, ``any`` and ``not`` combine
mappings. Conditions on the recipient (``recipient``, ``recipient_domain``, ...) make a rule
per-recipient; all others are decided once per message. ``recipient_tls`` is kept apart: it is
known only at delivery time (see relay.policy.engine). The conditions themselves live in
``envelope`` (addresses, session) and ``content`` (subject, headers, attachments, stream, PHI).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from relay.model import TlsCondition
from relay.policy.conditions import content, envelope
from relay.policy.conditions.base import Cond, Context, Observe, Test, nothing, patterns
from relay.policy.index import best_of, union_of
from relay.policy.nodes import Node, line_of

__all__ = ["CONDITIONS", "Cond", "Context", "Observe", "Test", "compile_mapping", "compile_when", "patterns"]

CONDITIONS = (
    "sender",
    "sender_domain",
    "sender_internal",
    "recipient",
    "recipient_domain",
    "recipient_internal",
    "recipient_count",
    "recipient_tls",
    "authenticated",
    "client_ip",
    "header",
    "subject",
    "size",
    "attachment",
    "phi",
    "stream",
    "all",
    "any",
    "not",
)


def compile_when(ctx: Context, node: Node, key: str) -> tuple[Cond | None, TlsCondition | None]:
    """A rule's ``when``: the conditions, and its ``recipient_tls`` requirement kept apart."""
    entries = ctx.reader.mapping(node, key, CONDITIONS, what="a mapping of conditions")
    tls = None
    if "recipient_tls" in entries:
        tls = envelope.recipient_tls(ctx.reader, entries.pop("recipient_tls")[1], f"{key}.recipient_tls")
        if not entries:
            return None, tls
    return _conjunction(ctx, node, key, entries), tls


def compile_mapping(ctx: Context, node: Node, key: str) -> Cond:
    entries = ctx.reader.mapping(node, key, CONDITIONS, what="a mapping of conditions")
    if "recipient_tls" in entries:
        ctx.reader.fail(
            entries["recipient_tls"][0],
            f"{key}.recipient_tls",
            "is decided at delivery time, so it may only appear directly under a rule's `when`, "
            "not inside all, any or not",
        )
    return _conjunction(ctx, node, key, entries)


def _conjunction(ctx: Context, node: Node, key: str, entries: dict[str, tuple[Node, Node]]) -> Cond:
    if not entries:
        ctx.reader.fail(
            node, key, "expected at least one condition (leave `when` out to match every message)"
        )
    ctx.used.update(entries)
    children = [_COMPILERS[name](ctx, value, f"{key}.{name}") for name, (_, value) in entries.items()]
    if len(children) == 1:
        return children[0]
    return _combine("when", key, line_of(node), "all of", children, all_of=True)


def _combine(
    name: str, key: str, line: int, expected: str, children: Sequence[Cond], *, all_of: bool
) -> Cond:
    return Cond(
        key=name,
        path=key,
        line=line,
        expected=expected,
        test=_all_of([c.test for c in children]) if all_of else _any_of([c.test for c in children]),
        observe=nothing,
        per_recipient=any(c.per_recipient for c in children),
        children=tuple(children),
        guard=best_of(c.guard for c in children) if all_of else union_of([c.guard for c in children]),
    )


# Two and three members are spelled out: a combination is called for every message, and a
# generator over the members costs more than the members themselves.
def _all_of(tests: list[Test]) -> Test:
    if len(tests) == 2:
        a, b = tests
        return lambda m, r: a(m, r) and b(m, r)
    if len(tests) == 3:
        a, b, c = tests
        return lambda m, r: a(m, r) and b(m, r) and c(m, r)
    return lambda m, r: all(t(m, r) for t in tests)


def _any_of(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda m, r: a(m, r) or b(m, r)
    if len(tests) == 3:
        a, b, c = tests
        return lambda m, r: a(m, r) or b(m, r) or c(m, r)
    return lambda m, r: any(t(m, r) for t in tests)


def _all(ctx: Context, node: Node, key: str) -> Cond:
    items = ctx.reader.sequence(node, key)
    children = [compile_mapping(ctx, item, f"{key}[{i}]") for i, item in enumerate(items)]
    return _combine("all", key, line_of(node), "all of", children, all_of=True)


def _any(ctx: Context, node: Node, key: str) -> Cond:
    items = ctx.reader.sequence(node, key)
    children = [compile_mapping(ctx, item, f"{key}[{i}]") for i, item in enumerate(items)]
    return _combine("any", key, line_of(node), "any of", children, all_of=False)


def _not(ctx: Context, node: Node, key: str) -> Cond:
    child = compile_mapping(ctx, node, key)
    inner = child.test
    return Cond(
        key="not",
        path=key,
        line=line_of(node),
        expected="not",
        test=lambda m, r: not inner(m, r),
        observe=nothing,
        per_recipient=child.per_recipient,
        children=(child,),
    )


_COMPILERS: dict[str, Callable[[Context, Node, str], Cond]] = {
    "sender": envelope.sender,
    "sender_domain": envelope.sender_domain,
    "sender_internal": envelope.flag("sender_internal", False, lambda m, r: m.sender_internal),
    "recipient": envelope.recipient,
    "recipient_domain": envelope.recipient_domain,
    "recipient_internal": envelope.flag("recipient_internal", True, lambda m, r: r.internal),
    "recipient_count": envelope.recipient_count,
    "authenticated": envelope.authenticated,
    "client_ip": envelope.client_ip,
    "header": content.header,
    "subject": content.subject,
    "size": content.size,
    "attachment": content.attachment,
    "phi": content.phi,
    "stream": content.stream,
    "all": _all,
    "any": _any,
    "not": _not,
}
