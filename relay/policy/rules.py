"""A compiled policy: its rules in order, the default decision, stream lists, tests, version.

`compile_rule` turns one ``rules:`` item into a `Rule` whose ``test`` is a ready closure; the
engine only calls it. A rule is *terminal* when its ``then`` has a terminal action; *monitor*
rules are evaluated like the others but only recorded.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path

from relay.model import TlsCondition
from relay.policy.actions import Actions, compile_actions
from relay.policy.conditions import Cond, Context, Test, compile_when
from relay.policy.decision import Action
from relay.policy.index import Guard, RuleIndex
from relay.policy.nodes import Node, line_of
from relay.policy.testspec import PolicyTest
from relay.policy.view import MessageView, RecipientView, StreamRules

RULE_KEYS = ("name", "description", "mode", "when", "then")
DEFAULT_NAME = "default"
"""The name the default decision goes by (``decided_by``); no rule may take it."""
RESERVED_NAMES = frozenset({DEFAULT_NAME})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Mode(enum.Enum):
    ENFORCE = "enforce"
    MONITOR = "monitor"


def _always(m: MessageView, r: RecipientView) -> bool:
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    name: str
    file: str
    """The policy file's name (rules are shown as ``file:line``)."""
    line: int
    index: int
    """Position in the whole policy: file order, then position in the file."""
    actions: Actions
    description: str = ""
    mode: Mode = Mode.ENFORCE
    when: Cond | None = None
    """None: the rule matches every message."""
    recipient_tls: TlsCondition | None = None
    test: Test = _always
    per_recipient: bool = False
    terminal: bool = False
    monitor: bool = False
    would: tuple[str, ...] = ()
    """``actions.describe()``, computed once (monitor hits and explain show it)."""
    guard: Guard | None = None


Step = tuple[Test, bool, bool, Rule]
"""(test, terminal, per_recipient, rule)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    directory: Path
    version: str
    """``sha256:`` and 16 hex digits of the content of every policy file (and their names)."""
    files: tuple[str, ...]
    rules: tuple[Rule, ...]
    default: Rule
    streams: StreamRules
    header_names: frozenset[str]
    """Lower-case names of the headers conditions look at (only these are gathered per message)."""
    tests: tuple[PolicyTest, ...] = ()
    index: RuleIndex | None = None
    """Which rules can match a message at all; None tests every rule (same result, slower)."""
    parse_ip: bool = True
    """Some condition looks at the client address."""
    steps: tuple[Step, ...] = field(init=False, repr=False, compare=False)
    """What the engine reads of each rule, as flat tuples (cheaper than attribute lookups)."""

    def __post_init__(self) -> None:
        steps = tuple((rule.test, rule.terminal, rule.per_recipient, rule) for rule in self.rules)
        object.__setattr__(self, "steps", steps)


def make_rule(
    *,
    name: str,
    file: str,
    line: int,
    index: int,
    actions: Actions,
    description: str = "",
    mode: Mode = Mode.ENFORCE,
    when: Cond | None = None,
    recipient_tls: TlsCondition | None = None,
) -> Rule:
    return Rule(
        name=name,
        file=file,
        line=line,
        index=index,
        actions=actions,
        description=description,
        mode=mode,
        when=when,
        recipient_tls=recipient_tls,
        test=when.test if when is not None else _always,
        per_recipient=when is not None and when.per_recipient,
        terminal=actions.terminal is not None,
        monitor=mode is Mode.MONITOR,
        would=actions.describe(),
        guard=when.guard if when is not None else None,
    )


def compile_rule(ctx: Context, node: Node, key: str, *, file: str, index: int, pools: frozenset[str]) -> Rule:
    reader = ctx.reader
    entries = reader.mapping(
        node, key, RULE_KEYS, required=("name", "then"), what="a rule (a mapping with name, when, then)"
    )
    name_node = entries["name"][1]
    name = reader.string(name_node, f"{key}.name", what="a rule name")
    if not _NAME.fullmatch(name):
        reader.fail(
            name_node,
            f"{key}.name",
            f"{name!r}: a rule name is letters, digits, '-', '_' and '.', at most 64 long "
            "(it appears in logs and metrics, so never put patient data in it)",
        )
    if name in RESERVED_NAMES:
        reader.fail(
            name_node, f"{key}.name", f"{name!r} is reserved for the default decision; choose another name"
        )
    description = (
        reader.string(entries["description"][1], f"{key}.description") if "description" in entries else ""
    )
    mode = Mode.ENFORCE
    if "mode" in entries:
        mode = Mode(reader.choice(entries["mode"][1], f"{key}.mode", [m.value for m in Mode]))
    when, tls = (None, None)
    if "when" in entries:
        when, tls = compile_when(ctx, entries["when"][1], f"{key}.when")
    actions = compile_actions(reader, entries["then"][1], f"{key}.then", pools=pools)
    delivery_time = actions.terminal is not None and actions.terminal.action in (
        Action.DELIVER,
        Action.PORTAL,
    )
    if tls is not None and mode is Mode.ENFORCE and not delivery_time:
        reader.fail(
            entries["when"][1],
            f"{key}.when.recipient_tls",
            "is known only at delivery time, so the rule must deliver or encrypt (a reject, "
            "quarantine or header change is decided before the message is queued); a rule in "
            "mode: monitor may use it with any action",
        )
    return make_rule(
        name=name,
        file=file,
        line=line_of(node),
        index=index,
        actions=actions,
        description=description,
        mode=mode,
        when=when,
        recipient_tls=tls,
    )
