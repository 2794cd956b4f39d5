"""Conditions on the message itself: subject, headers, size, attachments, stream, PHI."""

from __future__ import annotations

import re
from collections.abc import Callable

from relay.model import Attachment
from relay.policy import phi as phi_conditions
from relay.policy.conditions.base import (
    Cond,
    Context,
    Test,
    count_range,
    patterns,
    size_range,
    text_condition,
)
from relay.policy.decision import Stream
from relay.policy.index import COARSE, SPECIFIC, Guard, flag_guard, subject_guard
from relay.policy.nodes import Node, line_of
from relay.policy.patterns import Match, Part, compile_parts, describe
from relay.policy.view import MessageView, RecipientView

HEADER_KEYS = ("name", "present", "matches")
ATTACHMENT_KEYS = ("filename", "extension", "content_type", "size", "count")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 3.6.8: printable ASCII except ':'


def subject(ctx: Context, node: Node, key: str) -> Cond:
    parts = patterns(ctx.reader, node, key, what="a subject pattern")
    match = compile_parts(parts)
    return text_condition(
        "subject",
        node,
        key,
        parts,
        lambda m, r: match(m.subject),
        lambda m, r: f"subject of {len(m.subject)} characters (text masked)",
        per_recipient=False,
        guard=subject_guard(parts),
    )


def header(ctx: Context, node: Node, key: str) -> Cond:
    reader = ctx.reader
    entries = reader.mapping(node, key, HEADER_KEYS, required=("name",))
    name_node = entries["name"][1]
    name = reader.string(name_node, f"{key}.name", what="a header name such as X-Relay-Stream")
    if not _HEADER_NAME.fullmatch(name):
        reader.fail(
            name_node, f"{key}.name", f"{name!r} is not a header name (printable ASCII, no ':' or space)"
        )
    lower = name.lower()
    ctx.header_names.add(lower)
    present = reader.boolean(entries["present"][1], f"{key}.present") if "present" in entries else True

    def observe(m: MessageView, r: RecipientView) -> str:
        found = m.headers.get(lower)
        return f"{name}: {len(found)} value(s), masked" if found else f"{name}: absent"

    if "matches" in entries:
        if not present:
            reader.fail(entries["present"][0], f"{key}.present", "cannot be false together with `matches`")
        parts = patterns(reader, entries["matches"][1], f"{key}.matches", what="a header value pattern")
        test = _header_matches(lower, compile_parts(parts))
        expected = f"header {name} {describe(parts)}"
    else:
        test = _header_present(lower, present)
        expected = f"header {name} {'present' if present else 'absent'}"
    guard = Guard(frozenset({("header", lower)}), SPECIFIC) if present else None
    return Cond(
        key="header", path=key, line=line_of(node), expected=expected, test=test, observe=observe, guard=guard
    )


def _header_matches(name: str, match: Match) -> Test:
    return lambda m, r: any(map(match, m.headers.get(name, ())))


def _header_present(name: str, present: bool) -> Test:
    if present:
        return lambda m, r: name in m.headers
    return lambda m, r: name not in m.headers


def size(ctx: Context, node: Node, key: str) -> Cond:
    over, under, words = size_range(ctx.reader, node, key)
    limit = under if under is not None else 1 << 63
    return Cond(
        key="size",
        path=key,
        line=line_of(node),
        expected=f"size {words}",
        test=lambda m, r: over < m.size < limit,
        observe=lambda m, r: f"size {m.size} bytes",
    )


def attachment(ctx: Context, node: Node, key: str) -> Cond:
    reader = ctx.reader
    keys = ATTACHMENT_KEYS
    entries = reader.mapping(node, key, keys, what="a mapping of attachment conditions")
    if not entries:
        reader.fail(node, key, f"expected at least one of {', '.join(keys)}")
    checks: list[Callable[[Attachment], object]] = []
    words: list[str] = []
    if "filename" in entries:
        parts = patterns(reader, entries["filename"][1], f"{key}.filename", what="a file name pattern")
        by_name = compile_parts(parts)
        checks.append(lambda a: by_name(a.filename.lower()))
        words.append(f"filename {describe(parts)}")
    extension_parts: tuple[Part, ...] = ()
    if "extension" in entries:
        written, where = entries["extension"][1], f"{key}.extension"
        extension_parts = patterns(reader, written, where, what="an extension such as pdf")
        for part, (one, path) in zip(extension_parts, reader.one_or_list(written, where), strict=True):
            if part.text.startswith("."):
                reader.fail(
                    one, path, f"write extensions without the dot: {part.text[1:]!r}, not {part.text!r}"
                )
        by_extension = compile_parts(extension_parts)
        checks.append(lambda a: by_extension(a.extension))
        words.append(f"extension {describe(extension_parts)}")
    if "content_type" in entries:
        parts = patterns(
            reader, entries["content_type"][1], f"{key}.content_type", what="a MIME type pattern"
        )
        by_type = compile_parts(parts)
        checks.append(lambda a: by_type(a.content_type.lower()))
        words.append(f"content_type {describe(parts)}")
    if "size" in entries:
        over, under, size_words = size_range(reader, entries["size"][1], f"{key}.size")
        limit = under if under is not None else 1 << 63
        checks.append(lambda a: over < a.size < limit)
        words.append(f"size {size_words}")

    item = checks[0] if len(checks) == 1 else lambda a: all(check(a) for check in checks)

    # Every form but count {min: 0} needs an attachment; a list of exact extensions needs one of them.
    guard: Guard | None = flag_guard("attachment", True)
    if "extension" in entries and all(p.kind == "exact" for p in extension_parts):
        guard = Guard(frozenset(("extension", p.text.lower()) for p in extension_parts), SPECIFIC)
    if "count" in entries:
        low, high, count_words = count_range(reader, entries["count"][1], f"{key}.count")
        guard = guard if low > 0 else None
        top = high if high is not None else 1 << 63
        kind = f"attachments ({', '.join(words)})" if words else "attachments"
        expected = f"{count_words} {kind}"
        test = _attachment_count(item if checks else None, low, top)
    else:
        expected = f"an attachment with {', '.join(words)}"
        test = _attachment_any(item)

    return Cond(
        key="attachment",
        path=key,
        line=line_of(node),
        expected=expected,
        test=test,
        observe=_attachments,
        guard=guard,
    )


def _attachment_count(item: Callable[[Attachment], object] | None, low: int, top: int) -> Test:
    if item is None:
        return lambda m, r: low <= len(m.attachments) <= top
    return lambda m, r: low <= sum(1 for a in m.attachments if item(a)) <= top


def _attachment_any(item: Callable[[Attachment], object]) -> Test:
    return lambda m, r: any(map(item, m.attachments))


def _attachments(m: MessageView, r: RecipientView) -> str:
    if not m.attachments:
        return "no attachments"
    shown = "; ".join(
        f".{a.extension or '(none)'} {a.content_type} {a.size} bytes" for a in m.attachments[:10]
    )
    more = f"; {len(m.attachments) - 10} more" if len(m.attachments) > 10 else ""
    return f"{len(m.attachments)} attachment(s), names masked: {shown}{more}"


def stream(ctx: Context, node: Node, key: str) -> Cond:
    wanted = tuple(
        Stream(ctx.reader.choice(item, path, [s.value for s in Stream]))
        for item, path in ctx.reader.one_or_list(node, key)
    )

    def observe(m: MessageView, r: RecipientView) -> str:
        return f"stream {m.stream.value} ({m.stream_source})"

    return Cond(
        key="stream",
        path=key,
        line=line_of(node),
        expected=f"stream is {' or '.join(sorted({s.value for s in wanted}))}",
        test=lambda m, r: m.stream in wanted,
        observe=observe,
        guard=Guard(frozenset(("stream", s.value) for s in wanted), COARSE),
    )


def phi(ctx: Context, node: Node, key: str) -> Cond:
    found = phi_conditions.compile_phi(ctx.reader, node, key, ctx.entities)
    return Cond(
        key="phi",
        path=key,
        line=line_of(node),
        expected=found.expected,
        test=found.test,
        observe=found.observe,
        guard=found.guard,
    )
