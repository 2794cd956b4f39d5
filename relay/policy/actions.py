"""The ``then:`` half of a rule: action YAML compiled into one `Actions` value.

A rule has at most one *terminal* action (``deliver``, ``encrypt``, ``reject``, ``quarantine``),
which decides what happens to a recipient's copy, and any number of *non-terminal* ones (headers,
subject tags, bcc, route, notify_sender, tag), which accumulate over every rule that applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from relay.config import values
from relay.model import TLS_RANK, Fallback, Rejection, TlsLevel
from relay.policy.decision import Action
from relay.policy.nodes import Node, Reader

TERMINAL_ACTIONS = ("deliver", "encrypt", "reject", "quarantine")
ACTIONS = (
    *TERMINAL_ACTIONS,
    "add_header",
    "remove_header",
    "strip_subject_tag",
    "bcc",
    "route",
    "notify_sender",
    "tag",
)
DELIVER_KEYS = ("tls", "minimum", "fallback")
REJECT_KEYS = ("code", "enhanced", "text")

DEFAULT_REJECT_TEXT = "Message refused by policy"
DEFAULT_NOTICE = "Your message was handled according to the mail policy of your organisation."
# Headers that carry the message's identity, addressing or MIME structure: adding or removing
# them would change what the message is, not how it travels. Content-* is covered by prefix.
PROTECTED_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "date", "message-id", "subject", "mime-version",
     "return-path", "dkim-signature"}
)  # fmt: skip
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 3.6.8 ftext; 76 keeps a line foldable
_TEXT = re.compile(r"[ -~]{1,400}")  # RFC 5321 4.5.3.1.5: a reply line is at most 512 octets
_ENHANCED = re.compile(r"5\.\d{1,3}\.\d{1,3}")  # RFC 3463 2: class.subject.detail, permanent
_TAG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")  # a metrics label value and an audit word
_ADDRESS = re.compile(r"[^@\s<>\"]+@([^@\s<>\"]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Terminal:
    action: Action
    tls: TlsLevel = TlsLevel.OPPORTUNISTIC
    tls_minimum: TlsLevel = TlsLevel.OPPORTUNISTIC
    fallback: Fallback = Fallback.DEFER
    rejection: Rejection | None = None

    def describe(self) -> str:
        if self.action is Action.DELIVER:
            words = f"deliver tls={self.tls.value}"
            if self.tls is TlsLevel.BEST:
                words += f" minimum={self.tls_minimum.value}"
            if TLS_RANK[self.tls_minimum] > TLS_RANK[TlsLevel.OPPORTUNISTIC]:
                words += f" fallback={self.fallback.value}"
            return words
        if self.action is Action.PORTAL:
            return "encrypt portal"
        if self.action is Action.REJECT:
            assert self.rejection is not None
            return f"reject {self.rejection.reply()}"
        return "quarantine"


DEFAULT_TERMINAL = Terminal(action=Action.DELIVER)
"""The decision when no terminal rule matches and no file sets ``default:``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Actions:
    terminal: Terminal | None = None
    add_headers: tuple[tuple[str, str], ...] = ()
    remove_headers: tuple[str, ...] = ()
    strip_subject_tags: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    route: str | None = None
    notify_sender: str | None = None
    tags: tuple[str, ...] = ()

    def describe(self) -> tuple[str, ...]:
        """One line per action, as explain and monitor hits show them."""
        lines = [self.terminal.describe()] if self.terminal else []
        lines += [f"add_header {name}" for name, _ in self.add_headers]
        lines += [f"remove_header {name}" for name in self.remove_headers]
        lines += [f"strip_subject_tag {tag!r}" for tag in self.strip_subject_tags]
        lines += [f"bcc {address}" for address in self.bcc]
        lines += [f"route {self.route}"] if self.route else []
        lines += ["notify_sender"] if self.notify_sender else []
        lines += [f"tag {tag}" for tag in self.tags]
        return tuple(lines)


def compile_actions(reader: Reader, node: Node, key: str, *, pools: frozenset[str]) -> Actions:
    entries = reader.mapping(node, key, ACTIONS, what="a mapping of actions")
    if not entries:
        reader.fail(node, key, "expected at least one action, such as deliver: {tls: opportunistic}")
    terminals = [name for name in entries if name in TERMINAL_ACTIONS]
    if len(terminals) > 1:
        second = entries[terminals[1]][0]
        reader.fail(
            second,
            f"{key}.{terminals[1]}",
            f"a rule has at most one of {', '.join(TERMINAL_ACTIONS)}; it already has {terminals[0]} "
            "(split it into two rules)",
        )
    terminal = None
    if terminals:
        name = terminals[0]
        terminal = _TERMINALS[name](reader, entries[name][1], f"{key}.{name}")

    def get(name: str) -> Node | None:
        return entries[name][1] if name in entries else None

    return Actions(
        terminal=terminal,
        add_headers=_add_headers(reader, get("add_header"), f"{key}.add_header"),
        remove_headers=_header_names(reader, get("remove_header"), f"{key}.remove_header"),
        strip_subject_tags=_strings(
            reader, get("strip_subject_tag"), f"{key}.strip_subject_tag", "a tag such as [secure]"
        ),
        bcc=tuple(_address(reader, item, path) for item, path in _items(reader, get("bcc"), f"{key}.bcc")),
        route=_route(reader, get("route"), f"{key}.route", pools),
        notify_sender=_notice(reader, get("notify_sender"), f"{key}.notify_sender"),
        tags=tuple(_tag(reader, item, path) for item, path in _items(reader, get("tag"), f"{key}.tag")),
    )


def _deliver(reader: Reader, node: Node, key: str) -> Terminal:
    levels = [level.value for level in TlsLevel]
    if isinstance(node, yaml.ScalarNode):
        return _delivery(reader, node, key, TlsLevel(reader.choice(node, key, levels)), None, None)
    entries = reader.mapping(node, key, DELIVER_KEYS, what="a TLS level or a mapping such as {tls: verified}")
    tls = (
        TlsLevel(reader.choice(entries["tls"][1], f"{key}.tls", levels))
        if "tls" in entries
        else TlsLevel.OPPORTUNISTIC
    )
    return _delivery(reader, node, key, tls, entries.get("minimum"), entries.get("fallback"))


def _delivery(
    reader: Reader,
    node: Node,
    key: str,
    tls: TlsLevel,
    minimum: tuple[Node, Node] | None,
    fallback: tuple[Node, Node] | None,
) -> Terminal:
    floor = tls
    if minimum is not None:
        if tls is not TlsLevel.BEST:
            reader.fail(
                minimum[0], f"{key}.minimum", f"only applies to tls: best (this rule asks for {tls.value})"
            )
        floors = [level.value for level in TLS_RANK]
        floor = TlsLevel(reader.choice(minimum[1], f"{key}.minimum", floors))
    elif tls is TlsLevel.BEST:
        floor = TlsLevel.OPPORTUNISTIC
    settled = Fallback.DEFER
    if fallback is not None:
        if TLS_RANK[floor] <= TLS_RANK[TlsLevel.OPPORTUNISTIC]:
            reader.fail(
                fallback[0],
                f"{key}.fallback",
                f"has no effect: a minimum of {floor.value} can always be met; remove it, or ask for "
                "tls: encrypted or stronger (or tls: best with a minimum)",
            )
        settled = Fallback(reader.choice(fallback[1], f"{key}.fallback", [f.value for f in Fallback]))
    return Terminal(action=Action.DELIVER, tls=tls, tls_minimum=floor, fallback=settled)


def _encrypt(reader: Reader, node: Node, key: str) -> Terminal:
    reader.choice(node, key, ["portal"])
    return Terminal(action=Action.PORTAL)


def _reject(reader: Reader, node: Node, key: str) -> Terminal:
    if isinstance(node, yaml.ScalarNode):
        return Terminal(
            action=Action.REJECT,
            rejection=Rejection(code=550, enhanced="5.7.1", text=_text(reader, node, key)),
        )
    entries = reader.mapping(node, key, REJECT_KEYS, what="a reply text or a mapping {code, enhanced, text}")
    code = 550
    if "code" in entries:
        value = reader.scalar(entries["code"][1], f"{key}.code")
        if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 559:
            reader.fail(
                entries["code"][1],
                f"{key}.code",
                f"expected a permanent SMTP reply code 500-559 (550 is usual), got {values.describe(value)}",
            )
        code = value
    enhanced = "5.7.1"  # RFC 3463 3.8: delivery not authorized, message refused
    if "enhanced" in entries:
        enhanced = reader.string(entries["enhanced"][1], f"{key}.enhanced")
        if not _ENHANCED.fullmatch(enhanced):
            reader.fail(
                entries["enhanced"][1],
                f"{key}.enhanced",
                f"expected an enhanced status code such as 5.7.1, got {enhanced!r}",
            )
    text = _text(reader, entries["text"][1], f"{key}.text") if "text" in entries else DEFAULT_REJECT_TEXT
    return Terminal(action=Action.REJECT, rejection=Rejection(code=code, enhanced=enhanced, text=text))


def _quarantine(reader: Reader, node: Node, key: str) -> Terminal:
    if not reader.boolean(node, key):
        reader.fail(node, key, "quarantine: false does nothing; remove the line")
    return Terminal(action=Action.QUARANTINE)


_TERMINALS = {"deliver": _deliver, "encrypt": _encrypt, "reject": _reject, "quarantine": _quarantine}


def _text(reader: Reader, node: Node, key: str) -> str:
    text = reader.string(node, key, what="a one-line text")
    if not _TEXT.fullmatch(text):
        reader.fail(
            node,
            key,
            "expected printable ASCII on one line, at most 400 characters (it goes into an SMTP reply)",
        )
    return text


def _items(reader: Reader, node: Node | None, key: str) -> list[tuple[Node, str]]:
    return [] if node is None else reader.one_or_list(node, key)


def _strings(reader: Reader, node: Node | None, key: str, what: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(reader.string(item, path, what=what) for item, path in _items(reader, node, key))
    )


def _header_name(reader: Reader, node: Node, key: str) -> str:
    name = reader.string(node, key, what="a header name such as X-Relay-Stream")
    lower = name.lower()
    if not _HEADER_NAME.fullmatch(name):
        reader.fail(node, key, f"{name!r} is not a header name (printable ASCII, no ':' or space)")
    if lower in PROTECTED_HEADERS or lower.startswith("content-"):
        hint = "; to remove a subject tag use strip_subject_tag" if lower == "subject" else ""
        reader.fail(node, key, f"{name} cannot be added or removed by policy (it defines the message){hint}")
    return name


def _header_names(reader: Reader, node: Node | None, key: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(_header_name(reader, item, path).lower() for item, path in _items(reader, node, key))
    )


def _add_headers(reader: Reader, node: Node | None, key: str) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    result = []
    for name, (key_node, value_node) in reader.pairs(node, key):
        _header_name(reader, key_node, f"{key}.{name}")
        value = reader.scalar(value_node, f"{key}.{name}")
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str) or not re.fullmatch(r"[ -~]{1,900}", value):
            reader.fail(
                value_node,
                f"{key}.{name}",
                "expected a header value: printable ASCII on one line, at most 900 characters",
            )
        result.append((name, value))
    if not result:
        reader.fail(node, key, "expected at least one header, such as {X-Classification: phi}")
    return tuple(result)


def _address(reader: Reader, node: Node, key: str) -> str:
    text = reader.string(node, key, what="an email address")
    match = _ADDRESS.fullmatch(text)
    if not match:
        reader.fail(node, key, f"expected an email address such as archive@clinic.example, got {text!r}")
    try:
        values.to_domain(match[1])
    except values.Invalid as exc:
        reader.fail(node, key, f"{text!r} has a bad domain: {exc}")
    return text


def _route(reader: Reader, node: Node | None, key: str, pools: frozenset[str]) -> str | None:
    if node is None:
        return None
    name = reader.string(node, key, what="an egress pool name")
    if name not in pools:
        known = ", ".join(sorted(pools)) if pools else "none (define pools in relay.yaml first)"
        reader.fail(node, key, f"unknown pool {name!r}; configured pools: {known}")
    return name


def _notice(reader: Reader, node: Node | None, key: str) -> str | None:
    if node is None:
        return None
    if isinstance(reader.scalar(node, key), bool):
        if not reader.boolean(node, key):
            reader.fail(node, key, "notify_sender: false does nothing; remove the line")
        return DEFAULT_NOTICE
    return _text(reader, node, key)


def _tag(reader: Reader, node: Node, key: str) -> str:
    tag = reader.string(node, key, what="a tag such as phi-outbound")
    if not _TAG.fullmatch(tag):
        reader.fail(
            node, key, f"{tag!r}: a tag is lower-case letters, digits, '-', '_' and '.', at most 63 long"
        )
    return tag
