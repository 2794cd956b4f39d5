"""What every condition compiles to, and the value syntaxes conditions share.

A condition becomes a `Cond`: a fast ``test(message, recipient)`` closure over precompiled
patterns and sets (truthy when the condition holds), plus what explain needs: the key path, what
the condition asks for, and an ``observe`` function that shows the value it looked at, masked
where it could be PHI. ``patterns`` reads the pattern syntax of relay.policy.patterns;
``size_range`` and ``count_range`` the ``{over, under}`` and ``{min, max}`` mappings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from relay.config import values
from relay.policy.index import Guard
from relay.policy.nodes import Node, Reader, line_of
from relay.policy.patterns import Part, compile_regex, describe, is_glob
from relay.policy.view import MessageView, RecipientView

PATTERN_KEYS = ("contains", "regex")
SIZE_KEYS = ("over", "under")
COUNT_KEYS = ("min", "max")
Test = Callable[[MessageView, RecipientView], object]
"""A compiled condition; its result is truthy when the condition holds."""
Observe = Callable[[MessageView, RecipientView], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cond:
    key: str
    """The condition's name (``subject``, ``any``, ...), or ``when`` for an implicit all."""
    path: str
    line: int
    expected: str
    test: Test
    observe: Observe
    per_recipient: bool = False
    children: tuple[Cond, ...] = ()
    guard: Guard | None = None
    """Keys a message must have for this to hold (see relay.policy.index); None: no such keys."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What compiling needs besides the nodes; ``header_names`` collects the headers used."""

    reader: Reader
    entities: frozenset[str]
    header_names: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    """Names of the conditions the policy uses."""


def nothing(m: MessageView, r: RecipientView) -> str:
    """``observe`` of a combination: its members say what they saw."""
    return ""


def patterns(
    reader: Reader, node: Node, key: str, *, what: str, null_sender: bool = False
) -> tuple[Part, ...]:
    """A pattern or a list of them (see relay.policy.patterns for the syntax)."""
    parts = []
    for item, path in reader.one_or_list(node, key):
        if isinstance(item, yaml.MappingNode):
            entries = reader.mapping(item, path, PATTERN_KEYS, what="a pattern")
            if len(entries) != 1:
                reader.fail(item, path, "expected exactly one of contains or regex in a pattern mapping")
            ((kind, (_, value_node)),) = entries.items()
            for value, value_path in reader.one_or_list(value_node, f"{path}.{kind}"):
                text = reader.string(value, value_path)
                if kind == "regex":
                    try:
                        compile_regex(text)
                    except re.error as exc:
                        reader.fail(
                            value,
                            value_path,
                            f"cannot compile {text!r}: {exc.msg} at position {exc.pos}; escape characters "
                            r"such as . * + ? ( ) [ with a backslash (\.) to match them literally",
                        )
                parts.append(Part(kind, text))
        else:
            text = reader.string(item, path, what=what)
            if null_sender and text == "<>":
                parts.append(Part("exact", ""))
            else:
                parts.append(Part("glob" if is_glob(text) else "exact", text))
    return tuple(parts)


def text_condition(
    name: str,
    node: Node,
    key: str,
    parts: tuple[Part, ...],
    test: Test,
    observe: Observe,
    *,
    per_recipient: bool,
    guard: Guard | None,
) -> Cond:
    return Cond(
        key=name,
        path=key,
        line=line_of(node),
        expected=f"{name} {describe(parts)}",
        test=test,
        observe=observe,
        per_recipient=per_recipient,
        guard=guard,
    )


def size_range(reader: Reader, node: Node, key: str) -> tuple[int, int | None, str]:
    """``{over: SIZE, under: SIZE}`` (either or both): strictly above / strictly below.

    Returns (over, under, words); a missing ``over`` is -1 so that ``over < size`` always holds.
    """
    entries = reader.mapping(
        node, key, SIZE_KEYS, what="a mapping with over and/or under, such as {over: 10M}"
    )
    if not entries:
        reader.fail(node, key, "expected over and/or under, such as {over: 10M}")
    over = reader.convert(entries["over"][1], f"{key}.over", values.to_size) if "over" in entries else -1
    under = (
        reader.convert(entries["under"][1], f"{key}.under", values.to_size) if "under" in entries else None
    )
    assert isinstance(over, int) and (under is None or isinstance(under, int))
    if under is not None and under <= over + 1:
        reader.fail(node, key, f"nothing is over {over} and under {under} bytes; check the two values")
    words = ([f"over {over} bytes"] if "over" in entries else []) + (
        [f"under {under} bytes"] if under else []
    )
    return over, under, " and ".join(words)


def count_range(reader: Reader, node: Node, key: str) -> tuple[int, int | None, str]:
    """``{min: N, max: N}`` (either or both), inclusive."""
    entries = reader.mapping(node, key, COUNT_KEYS, what="a mapping with min and/or max, such as {min: 1}")
    if not entries:
        reader.fail(node, key, "expected min and/or max, such as {min: 1}")
    low = reader.integer(entries["min"][1], f"{key}.min") if "min" in entries else 0
    high = reader.integer(entries["max"][1], f"{key}.max") if "max" in entries else None
    if high is not None and high < low:
        reader.fail(node, key, f"max {high} is below min {low}")
    words = ([f"at least {low}"] if "min" in entries else []) + (
        [f"at most {high}"] if high is not None else []
    )
    return low, high, " and ".join(words)
